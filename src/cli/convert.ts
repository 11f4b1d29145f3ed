/** `medvox convert --dicom2nifti|--nifti2dicom --input DIR --output DIR`: the flags of the original tool. */

import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { MedvoxError } from '../core/errors.ts';
import { scanInputs } from '../io/scan.ts';
import { dicomToNifti, type Progress } from '../ops/dicom-to-nifti.ts';
import type { SeriesFromNiftiOptions } from '../ops/nifti-to-series.ts';

interface ConvertFlags {
  dicom2nifti?: boolean;
  nifti2dicom?: boolean;
  input?: string[];
  output?: string;
  gzip: boolean;
  pattern?: string;
  keepUids?: boolean;
  eq?: boolean;
  tilt?: boolean;
  modality?: string;
  patientName?: string;
  patientId?: string;
  studyDescription?: string;
  seriesDescription?: string;
  patientJson?: string;
}

/** NIfTI files below the inputs (folders scanned recursively). */
async function niftiInputs(inputs: string[]): Promise<string[]> {
  const found: string[] = [];
  for await (const input of scanInputs(inputs, { zip: false }))
    if (/\.nii(\.gz)?$/.test(input.name)) found.push(input.name);
  return found;
}

/** --modality and the patient / study flags (or a JSON file with the same keys) for series without a sidecar. */
async function newSeriesOptions(flags: ConvertFlags): Promise<SeriesFromNiftiOptions | undefined> {
  if (!flags.modality) return undefined;
  const modality = flags.modality.toUpperCase();
  if (modality !== 'CT' && modality !== 'MR')
    throw new MedvoxError('USAGE', `--modality must be CT or MR, not ${flags.modality}`);
  let fromFile: Record<string, string> = {};
  if (flags.patientJson) {
    try {
      fromFile = JSON.parse(await readFile(flags.patientJson, 'utf8')) as Record<string, string>;
    } catch (error) {
      throw new MedvoxError('USAGE', `cannot read --patient-json: ${(error as Error).message}`, {
        file: flags.patientJson,
      });
    }
  }
  const pick = (key: string, flag: string | undefined) => flag ?? fromFile[key];
  const options: SeriesFromNiftiOptions = { modality };
  const fields: Array<[keyof SeriesFromNiftiOptions & string, string | undefined]> = [
    ['patientName', pick('patientName', flags.patientName)],
    ['patientId', pick('patientId', flags.patientId)],
    ['studyDescription', pick('studyDescription', flags.studyDescription)],
    ['seriesDescription', pick('seriesDescription', flags.seriesDescription)],
    ['patientBirthDate', fromFile.patientBirthDate],
    ['patientSex', fromFile.patientSex],
    ['studyDate', fromFile.studyDate],
    ['accessionNumber', fromFile.accessionNumber],
  ];
  for (const [key, value] of fields) if (value !== undefined) Object.assign(options, { [key]: value });
  return options;
}

async function runNiftiToDicom(
  inputs: string[],
  output: string,
  keepUids: boolean,
  newSeries: SeriesFromNiftiOptions | undefined,
): Promise<number> {
  const files = await niftiInputs(inputs);
  if (files.length === 0) throw new MedvoxError('USAGE', `no .nii / .nii.gz files in ${inputs.join(', ')}`);
  // Loaded when needed: a DICOM -> NIfTI run does not pay for it at start-up.
  const { niftiToDicom } = await import('../ops/nifti-to-dicom.ts');
  const result = await niftiToDicom({
    inputs: files,
    outputDir: output,
    keepUids,
    ...(newSeries ? { newSeries } : {}),
  });
  for (const series of result.series) {
    const note = series.unchanged
      ? 'stored values unchanged'
      : `re-quantised, max error ${series.maxQuantisationError.toPrecision(3)}`;
    process.stdout.write(`${series.outputDir} [${series.files.length} instances] (${note})\n`);
  }
  for (const error of result.errors) process.stderr.write(`${error.describe()}\n`);
  return exitCodeOf(result.series.length, result.errors);
}

async function progressReporter(): Promise<{ update: (progress: Progress) => void; stop: () => void }> {
  if (!process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const { SingleBar } = await import('cli-progress');
  const bar = new SingleBar({
    format: ' {phase} [{bar}] {value}/{total} {message}',
    hideCursor: true,
    stream: process.stderr,
  });
  let started = false;
  return {
    update: (progress) => {
      if (progress.phase !== 'convert') return;
      if (!started) {
        bar.start(progress.total, 0, { phase: 'converting', message: '' });
        started = true;
      }
      bar.update(progress.done, { phase: 'converting', message: progress.message ?? '' });
    },
    stop: () => started && bar.stop(),
  };
}

export async function runConvert(flags: ConvertFlags): Promise<number> {
  if (Boolean(flags.dicom2nifti) === Boolean(flags.nifti2dicom)) {
    throw new MedvoxError('USAGE', 'choose one mode: --dicom2nifti or --nifti2dicom', {
      hint: 'medvox convert --help',
    });
  }
  if (!flags.input?.length || !flags.output) {
    throw new MedvoxError('USAGE', '--input and --output are required', { hint: 'medvox convert --help' });
  }
  if (flags.nifti2dicom)
    return runNiftiToDicom(flags.input, flags.output, Boolean(flags.keepUids), await newSeriesOptions(flags));
  const progress = await progressReporter();
  const result = await dicomToNifti({
    inputs: flags.input,
    outputDir: flags.output,
    gzip: flags.gzip,
    equalise: Boolean(flags.eq),
    tilt: Boolean(flags.tilt),
    ...(flags.pattern ? { pattern: flags.pattern } : {}),
    onProgress: progress.update,
  });
  progress.stop();
  for (const output of result.outputs) {
    const notes = output.warnings.map((w) => w.kind).join(', ');
    process.stdout.write(`${output.nifti} [${output.dims.join('x')}]${notes ? ` (${notes})` : ''}\n`);
    for (const [suffix, path] of Object.entries(output.derived))
      process.stdout.write(`${path} (derived: _${suffix})\n`);
  }
  for (const name of result.notDicom) process.stderr.write(`ignored (not DICOM): ${name}\n`);
  for (const skipped of result.skipped) process.stderr.write(`skipped: ${skipped.source}: ${skipped.reason}\n`);
  for (const error of result.errors) process.stderr.write(`${error.describe()}\n`);
  if (result.outputs.length === 0 && result.errors.length === 0) {
    process.stderr.write(`no DICOM images found in ${flags.input.join(', ')}\n`);
    return 2;
  }
  return exitCodeOf(result.outputs.length, result.errors);
}

/** 0 all converted; PARTIAL (1) some outputs written and some inputs failed; else the worst error's code. */
export const PARTIAL_EXIT_CODE = 1;
function exitCodeOf(outputs: number, errors: MedvoxError[]): number {
  if (errors.length === 0) return 0;
  if (outputs > 0) return PARTIAL_EXIT_CODE;
  return errors.reduce((code, error) => Math.max(code, error.exitCode), 0);
}

export function registerConvert(program: Command): void {
  program
    .command('convert')
    .description('convert DICOM series to NIfTI (+ JSON sidecar), or NIfTI back to DICOM')
    .option('--dicom2nifti', 'DICOM -> NIfTI: one .nii.gz + .json sidecar per volume')
    .option('--nifti2dicom', 'NIfTI -> DICOM series (uses the sidecar when present)')
    .option('-i, --input <paths...>', 'input folders, files or zip archives (scanned recursively)')
    .option('-o, --output <dir>', 'output folder (created if missing)')
    .option('--no-gzip', 'write .nii instead of .nii.gz')
    .option('--eq', 'DICOM -> NIfTI: also write an equidistant copy (<name>_Eq) of unevenly spaced volumes')
    .option('--tilt', 'DICOM -> NIfTI: also write a tilt-corrected copy (<name>_Tilt) of gantry-tilted volumes')
    .option('--keep-uids', 'NIfTI -> DICOM: reuse the original Series / SOP Instance UIDs (default: new ones)')
    .option('--modality <CT|MR>', 'NIfTI -> DICOM without a sidecar: make a new CT or MR series')
    .option('--patient-name <name>', 'new series: Patient Name (DICOM PN, e.g. Doe^Jane)')
    .option('--patient-id <id>', 'new series: Patient ID')
    .option('--study-description <text>', 'new series: Study Description')
    .option('--series-description <text>', 'new series: Series Description')
    .option(
      '--patient-json <file>',
      'new series: a JSON file with patientName, patientId, patientBirthDate, patientSex, studyDate, studyDescription, seriesDescription, accessionNumber',
    )
    .option(
      '-f, --pattern <pattern>',
      'output name pattern (dcm2niix tokens: %s series number, %d description, %p protocol, %i patient ID, %m modality, %t study date+time)',
      '%s_%d',
    )
    .addHelpText(
      'after',
      `
Notes:
  Volumes are never resampled: uneven spacing, missing slices and gantry tilt are written as acquired
  (a sheared affine for tilt) and reported in the sidecar (MedvoxWarnings).
  The sidecar keeps every DICOM attribute of the source (docs/sidecar.md).
  Overlay planes (groups 6000-601E) are also written as <name>_ROI1, _ROI2, ... (uint8, 1 where set, on the
  image grid), as dcm2niix does; _Eq and _Tilt copies only on request (--eq, --tilt).

Examples:
  medvox convert --dicom2nifti --input ./dicom --output ./nifti
  medvox convert --dicom2nifti --input study.zip --output ./nifti --no-gzip -f %i_%s_%d
  medvox convert --nifti2dicom --input ./nifti --output ./dicom   (needs the sidecar written by --dicom2nifti)`,
    )
    .action(async (flags: ConvertFlags) => {
      process.exitCode = await runConvert(flags);
    });
}
