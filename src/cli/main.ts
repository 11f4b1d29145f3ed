/** The `medvox` command line: thin wrappers that parse flags, call the operations, print, and set the exit code. */
import { Command } from 'commander';
import { toMedvoxError } from '../core/errors.ts';
import { registerConvert } from './convert.ts';
import { registerDump } from './dump.ts';
import { registerExport } from './export.ts';
import { registerRtstruct } from './rtstruct.ts';
import { registerSeg } from './seg.ts';

export const VERSION = '0.1.0';

export function buildProgram(): Command {
  const program = new Command('medvox')
    .description('medvox: DICOM <-> NIfTI, DICOM-SEG, RTSTRUCT, viewer, curation and PACS in one tool')
    .version(VERSION)
    .showHelpAfterError('(run `medvox --help` for the commands)');
  registerConvert(program);
  registerDump(program);
  registerSeg(program);
  registerRtstruct(program);
  registerExport(program);
  program.addHelpText(
    'after',
    `
Examples:
  medvox convert --dicom2nifti --input ./dicom --output ./nifti
  medvox dump image.dcm                 dcmdump-style listing
  medvox dump --json image.dcm          DICOM JSON model (PS3.18 Annex F)
  medvox seg create --image ./ct --mask labels.nii.gz --labels labels.json --output seg.dcm
  medvox seg to-nifti seg.dcm --reference ./ct --output ./out
  medvox rtstruct to-nifti RS.dcm --reference ./ct --output ./masks
  medvox rtstruct create --image ./ct --mask labels.nii.gz --labels labels.json --output RS.dcm
  medvox export --format npz --input ./ct --output ct.npz

Exit codes are listed in docs/errors.md.`,
  );
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  if (argv.length <= 2) {
    program.outputHelp();
    return;
  }
  try {
    await program.parseAsync(argv);
  } catch (error) {
    const typed = toMedvoxError(error);
    process.stderr.write(`${typed.describe()}\n`);
    process.exitCode = typed.exitCode;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/src/cli/main.ts')) {
  await main(process.argv);
}
