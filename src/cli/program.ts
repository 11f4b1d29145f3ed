/** The `medvox` program: its name, version, help text and error handling, around the commands it is given. */
import { Command } from 'commander';
import { toMedvoxError } from '../core/errors.ts';
import { MEDVOX_VERSION } from '../version.ts';

/** Adds one command module's command(s) to the program. */
export type Register = (program: Command) => void;

export function createProgram(registers: readonly Register[]): Command {
  const program = new Command('medvox')
    .description('medvox: DICOM <-> NIfTI, DICOM-SEG, RTSTRUCT, viewer, curation and PACS in one tool')
    .version(MEDVOX_VERSION)
    .showHelpAfterError('(run `medvox --help` for the commands)');
  for (const register of registers) register(program);
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
  medvox metadata --input ./dicom --output report.xlsx   metadata workbook
  medvox serve                          workbench on http://127.0.0.1:8080 (demo study on first start)
  medvox import ./dicom --data ./medvox-data

Exit codes are listed in docs/errors.md.`,
  );
  return program;
}

/** Run `argv` (help without arguments); a failure prints its typed message and sets the documented exit code. */
export async function runProgram(program: Command, argv: string[]): Promise<void> {
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
