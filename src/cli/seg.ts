/** `medvox seg create|to-nifti`: NIfTI labelmap <-> DICOM-SEG (docs/segmentation.md). */
import type { Command } from 'commander';
import { MedvoxError } from '../core/errors.ts';
import { maskToSeg } from '../ops/mask-to-seg.ts';
import { segToNifti } from '../ops/seg-to-nifti.ts';

interface CreateFlags {
  image: string[];
  mask: string;
  labels?: string;
  type: string;
  output: string;
  autoLabel?: boolean;
  keepEmptyFrames?: boolean;
  tolerance?: string;
}

interface ToNiftiFlags {
  reference?: string[];
  output: string;
  split?: boolean;
  threshold?: string;
  gzip: boolean;
}

function warn(lines: readonly string[]): void {
  for (const line of lines) process.stderr.write(`warning: ${line}\n`);
}

export async function runSegCreate(flags: CreateFlags): Promise<number> {
  const type = flags.type.toUpperCase();
  if (type !== 'BINARY' && type !== 'LABELMAP')
    throw new MedvoxError('USAGE', `--type must be binary or labelmap, not ${flags.type}`);
  const tolerance = flags.tolerance === undefined ? undefined : Number(flags.tolerance);
  if (tolerance !== undefined && !(tolerance >= 0))
    throw new MedvoxError('USAGE', `--tolerance must be a distance in mm, not ${flags.tolerance}`);
  const result = await maskToSeg({
    image: flags.image,
    mask: flags.mask,
    ...(flags.labels ? { labels: flags.labels } : {}),
    type,
    output: flags.output,
    autoLabel: Boolean(flags.autoLabel),
    keepEmptyFrames: Boolean(flags.keepEmptyFrames),
    ...(tolerance !== undefined ? { tolerance } : {}),
  });
  warn(result.warnings);
  process.stdout.write(
    `${result.output} [${result.type}, ${result.segments.length} segments, ${result.frames} frames]\n`,
  );
  return 0;
}

export async function runSegToNifti(input: string, flags: ToNiftiFlags): Promise<number> {
  const threshold = flags.threshold === undefined ? undefined : Number(flags.threshold);
  const result = await segToNifti({
    input,
    ...(flags.reference?.length ? { reference: flags.reference } : {}),
    outputDir: flags.output,
    split: Boolean(flags.split),
    ...(threshold !== undefined ? { threshold } : {}),
    gzip: flags.gzip,
  });
  warn(result.warnings);
  const [nx, ny, nz] = result.grid.dims;
  if (result.labelmap)
    process.stdout.write(`${result.labelmap} [${nx}x${ny}x${nz}, ${result.segments.length} segments]\n`);
  for (const mask of result.masks)
    process.stdout.write(`${mask.path} [segment ${mask.segmentNumber} "${mask.name}", ${mask.voxels} voxels]\n`);
  process.stdout.write(`${result.labels}\n`);
  return 0;
}

export function registerSeg(program: Command): void {
  const seg = program.command('seg').description('DICOM-SEG: create from a NIfTI labelmap, convert back to NIfTI');
  seg
    .command('create')
    .description('NIfTI labelmap on a DICOM series (or NIfTI + medvox sidecar) -> DICOM-SEG')
    .requiredOption(
      '--image <paths...>',
      'source image: DICOM series folder / files / zip, or a NIfTI with its medvox sidecar',
    )
    .requiredOption('--mask <file>', 'labelmap .nii / .nii.gz on the image grid (integer labels, 0 = background)')
    .option(
      '--labels <file>',
      'label table JSON (medvox, dcmqi or {"1": "name"}); default: names and codes from defaults',
    )
    .option(
      '--type <binary|labelmap>',
      'BINARY (one bit-packed segment per label) or LABELMAP (Supplement 243)',
      'binary',
    )
    .requiredOption('-o, --output <file>', 'the SEG file to write')
    .option('--auto-label', 'give labels missing from the label table default entries (warned) instead of failing')
    .option('--keep-empty-frames', 'also write frames without labelled pixels')
    .option('--tolerance <mm>', 'largest distance between mask and image voxel centres (default 0.01 mm)')
    .addHelpText(
      'after',
      `
Examples:
  medvox seg create --image ./ct --mask labels.nii.gz --labels labels.json --output seg.dcm
  medvox seg create --image ct.nii.gz --mask labels.nii.gz --type labelmap --output seg.dcm   (ct.json sidecar beside)`,
    )
    .action(async (flags: CreateFlags) => {
      process.exitCode = await runSegCreate(flags);
    });
  seg
    .command('to-nifti')
    .description('DICOM-SEG -> labelmap NIfTI on the reference grid + label table JSON')
    .argument('<seg>', 'the SEG file')
    .option(
      '--reference <paths...>',
      'the source series (DICOM or NIfTI + sidecar); without it the SEG frames make the grid',
    )
    .requiredOption('-o, --output <dir>', 'output folder (created if missing)')
    .option('--split', 'one mask per segment (overlapping segments need it)')
    .option('--threshold <t>', 'FRACTIONAL SEGs: value / maximum >= t is inside (default 0.5)')
    .option('--no-gzip', 'write .nii instead of .nii.gz')
    .addHelpText(
      'after',
      `
Writes <name>.nii.gz (labelmap; <name>_<segment>_<label>.nii.gz with --split) and <name>.labels.json.

Examples:
  medvox seg to-nifti seg.dcm --reference ./ct --output ./out
  medvox seg to-nifti overlapping.dcm --reference ./ct --output ./out --split`,
    )
    .action(async (input: string, flags: ToNiftiFlags) => {
      process.exitCode = await runSegToNifti(input, flags);
    });
}
