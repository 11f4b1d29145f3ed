/** `medvox export --format npz|nifti --input <series> --output FILE`. */
import type { Command } from 'commander';
import { MedvoxError } from '../core/errors.ts';
import { exportVolume, parseNormalization } from '../ops/export-volume.ts';

interface ExportFlags {
  format?: string;
  input?: string[];
  output?: string;
  normalize: string;
}

export async function runExport(flags: ExportFlags): Promise<number> {
  if (!flags.input?.length || !flags.output) {
    throw new MedvoxError('USAGE', '--input and --output are required', { hint: 'medvox export --help' });
  }
  const format = (flags.format ?? '').toLowerCase();
  if (format !== 'npz' && format !== 'nifti')
    throw new MedvoxError('USAGE', `--format must be npz or nifti, not ${flags.format ?? '(missing)'}`);
  const normalize = parseNormalization(flags.normalize);
  if (format === 'nifti' && normalize.kind !== 'none')
    throw new MedvoxError('USAGE', '--normalize applies to NPZ only (NIfTI keeps the stored values and their scaling)');
  const result = await exportVolume({ input: flags.input, format, output: flags.output, normalize });
  const notes = result.warnings.map((w) => w.kind).join(', ');
  process.stdout.write(`${result.output} [${result.shape.join('x')}]${notes ? ` (${notes})` : ''}\n`);
  if (result.normalization.kind !== 'none')
    process.stdout.write(`normalization: ${JSON.stringify(result.normalization)}\n`);
  return 0;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('export one image series as NPZ (float32 [Z, Y, X], axial display orientation) or NIfTI')
    .option('--format <npz|nifti>', 'npz: numpy archive with one float32 array "data"; nifti: .nii / .nii.gz')
    .option('-i, --input <paths...>', 'the series (folder, files or zip): exactly one image volume')
    .option('-o, --output <file>', 'the file to write (.npz, .nii or .nii.gz)')
    .option(
      '--normalize <how>',
      'NPZ values: none (real values), minmax ([0, 1]), zscore, window:C,W (clip, [0, 1])',
      'none',
    )
    .addHelpText(
      'after',
      `
NPZ layout (numpy.load(file)["data"]): shape [Z, Y, X], Z from head to foot, each slice as an axial image is
displayed (patient Left on the image right, Anterior at the top); values are the modality (rescaled) values,
e.g. HU for CT. Coronal, sagittal and oblique series are reordered to the nearest axial order (not resampled).

Examples:
  medvox export --format npz --input ./ct --output ct.npz
  medvox export --format npz --input ./ct --output ct.npz --normalize window:40,400
  medvox export --format nifti --input ./ct --output ct.nii.gz`,
    )
    .action(async (flags: ExportFlags) => {
      process.exitCode = await runExport(flags);
    });
}
