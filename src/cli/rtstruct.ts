/** `medvox rtstruct to-nifti | create`: RT Structure Sets to NIfTI masks and back. */
import type { Command } from 'commander';
import { MedvoxError } from '../core/errors.ts';
import { masksToRtstruct } from '../ops/masks-to-rtstruct.ts';
import { describeRtstructWarning, rtstructToNifti } from '../ops/rtstruct-to-nifti.ts';

interface ToNiftiFlags {
  reference?: string[];
  output?: string;
  gzip: boolean;
  emptyMasks?: boolean;
  sliceTolerance?: string;
  ignoreReferences?: boolean;
}

/** Exit code 1 when some contours could not be placed (the masks miss part of the structure set). */
export const LOSSY_EXIT_CODE = 1;

export async function runRtstructToNifti(rtstruct: string, flags: ToNiftiFlags): Promise<number> {
  if (!flags.reference?.length || !flags.output) {
    throw new MedvoxError('USAGE', '--reference and --output are required', {
      hint: 'medvox rtstruct to-nifti --help',
    });
  }
  let sliceTolerance: number | undefined;
  if (flags.sliceTolerance !== undefined) {
    sliceTolerance = Number(flags.sliceTolerance);
    if (!(sliceTolerance > 0)) throw new MedvoxError('USAGE', `--slice-tolerance must be a positive number of mm`);
  }
  const result = await rtstructToNifti({
    rtstruct,
    reference: flags.reference,
    outputDir: flags.output,
    gzip: flags.gzip,
    emptyMasks: Boolean(flags.emptyMasks),
    ignoreReferences: Boolean(flags.ignoreReferences),
    ...(sliceTolerance === undefined ? {} : { sliceTolerance }),
  });
  const withVoxels = result.rois.filter((roi) => roi.voxels > 0).length;
  process.stdout.write(`${result.labelmap} (${result.rois.length} ROIs, ${withVoxels} with voxels)\n`);
  process.stdout.write(`${result.labelTable}\n`);
  for (const warning of result.warnings) process.stderr.write(`warning: ${describeRtstructWarning(warning)}\n`);
  return result.lossy ? LOSSY_EXIT_CODE : 0;
}

interface CreateFlags {
  image?: string[];
  mask?: string;
  labels?: string;
  output?: string;
  gridTolerance?: string;
  seriesDescription?: string;
  label?: string;
}

export async function runRtstructCreate(flags: CreateFlags): Promise<number> {
  if (!flags.image?.length || !flags.mask || !flags.output) {
    throw new MedvoxError('USAGE', '--image, --mask and --output are required', {
      hint: 'medvox rtstruct create --help',
    });
  }
  let gridTolerance: number | undefined;
  if (flags.gridTolerance !== undefined) {
    gridTolerance = Number(flags.gridTolerance);
    if (!(gridTolerance > 0)) throw new MedvoxError('USAGE', '--grid-tolerance must be a positive number of mm');
  }
  const result = await masksToRtstruct({
    image: flags.image,
    mask: flags.mask,
    output: flags.output,
    ...(flags.labels ? { labels: flags.labels } : {}),
    ...(gridTolerance === undefined ? {} : { gridTolerance }),
    ...(flags.seriesDescription ? { seriesDescription: flags.seriesDescription } : {}),
    ...(flags.label ? { structureSetLabel: flags.label } : {}),
  });
  const contours = result.rois.reduce((sum, roi) => sum + roi.contours, 0);
  process.stdout.write(`${result.output} (${result.rois.length} ROIs, ${contours} contours)\n`);
  for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
  return 0;
}

export function registerRtstruct(program: Command): void {
  const rtstruct = program.command('rtstruct').description('RT Structure Sets: to NIfTI masks, and from a labelmap');
  rtstruct
    .command('to-nifti')
    .description('rasterise every ROI of an RTSTRUCT onto its image series: per-ROI masks, a labelmap, a label table')
    .argument('<rtstruct>', 'the RTSTRUCT file')
    .option('-r, --reference <paths...>', 'the image series the structures were drawn on (folder, files or zip)')
    .option('-o, --output <dir>', 'output folder (created if missing)')
    .option('--no-gzip', 'write .nii instead of .nii.gz')
    .option('--empty-masks', 'also write a (zero) mask for ROIs without voxels on this image')
    .option(
      '--slice-tolerance <mm>',
      'largest distance between a contour plane and a slice (default: half the smallest gap)',
    )
    .option(
      '--ignore-references',
      'rasterise even when the RTSTRUCT refers to other images (contours placed by position)',
    )
    .addHelpText(
      'after',
      `
Outputs (in --output):
  <ROI name>.nii.gz   one uint8 0/1 mask per ROI with voxels (same grid as medvox convert writes the image)
  labelmap.nii.gz     all ROIs; where ROIs overlap the later ROI wins (overlaps are reported)
  labels.json         value, ROI number, name, colour, voxel count and mask file of every ROI, warnings,
                      and the true position of every slice
Exit code 1 when contours could not be placed (off every slice, or outside the image); see docs/segmentation.md.

Example:
  medvox rtstruct to-nifti RS.dcm --reference ./ct --output ./masks`,
    )
    .action(async (file: string, flags: ToNiftiFlags) => {
      process.exitCode = await runRtstructToNifti(file, flags);
    });
  rtstruct
    .command('create')
    .description('write an RTSTRUCT from a labelmap on an image series: one ROI per label, contours per slice')
    .option('-i, --image <paths...>', 'the image series the mask belongs to (folder, files or zip)')
    .option('-m, --mask <file>', 'labelmap NIfTI on the image grid (0 background, 1..n structures)')
    .option('-l, --labels <file>', 'label table JSON: { "labels": [{ "value", "name", "color" }] } (or dcmqi JSON)')
    .option('-o, --output <file>', 'the RTSTRUCT file to write')
    .option('--grid-tolerance <mm>', 'largest corner distance between mask and image grids (default 0.001)')
    .option('--series-description <text>', 'Series Description of the RTSTRUCT (default "medvox RTSTRUCT")')
    .option('--label <text>', 'Structure Set Label (16 characters; default "medvox")')
    .addHelpText(
      'after',
      `
The mask must be on the image grid: the same dimensions and affine as medvox convert writes for the series
(GRID_MISMATCH otherwise). ROI Number = label value; names and colours from --labels (label_<value> and a
default palette without it). Contours are traced by marching squares around the labelled pixel centres
(holes and islands are separate contours), in patient coordinates (LPS, mm), one per closed loop.

Example:
  medvox rtstruct create --image ./ct --mask labels.nii.gz --labels labels.json --output RS.dcm`,
    )
    .action(async (flags: CreateFlags) => {
      process.exitCode = await runRtstructCreate(flags);
    });
}
