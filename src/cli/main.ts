/** The `medvox` command line: thin wrappers that parse flags, call the operations, print, and set the exit code. */
import { Command } from 'commander';
import { toMedvoxError } from '../core/errors.ts';

export const VERSION = '0.1.0';

type Register = (program: Command) => void;

/**
 * Each command's module, imported only when that command runs (or for the full help): `medvox convert` does not
 * pay for loading the SEG, RTSTRUCT and export code (start-up is most of a small conversion's time).
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  convert: async () => (await import('./convert.ts')).registerConvert,
  dump: async () => (await import('./dump.ts')).registerDump,
  seg: async () => (await import('./seg.ts')).registerSeg,
  rtstruct: async () => (await import('./rtstruct.ts')).registerRtstruct,
  export: async () => (await import('./export.ts')).registerExport,
  metadata: async () => (await import('./metadata.ts')).registerMetadata,
  serve: async () => (await import('./serve.ts')).registerServe,
  import: async () => (await import('./serve.ts')).registerServe,
  demo: async () => (await import('./serve.ts')).registerServe,
};

/** The program with every command, or with `only` that command when it is one. */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('medvox')
    .description('medvox: DICOM <-> NIfTI, DICOM-SEG, RTSTRUCT, viewer, curation and PACS in one tool')
    .version(VERSION)
    .showHelpAfterError('(run `medvox --help` for the commands)');
  const names = only !== undefined && Object.hasOwn(COMMANDS, only) ? [only] : Object.keys(COMMANDS);
  // Several commands share a module (serve / import / demo): register each module once.
  const registered = new Set<Register>();
  for (const name of names) {
    const register = await COMMANDS[name]!();
    if (registered.has(register)) continue;
    registered.add(register);
    register(program);
  }
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

export async function main(argv: string[]): Promise<void> {
  const program = await buildProgram(argv[2]);
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
