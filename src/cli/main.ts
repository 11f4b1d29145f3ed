/** The `medvox` command line: thin wrappers that parse flags, call the operations, print, and set the exit code. */
import type { Command } from 'commander';
import { createProgram, type Register, runProgram } from './program.ts';

/**
 * Each command's module, imported only when that command runs (or for the full help): `medvox convert` does not
 * pay for loading the SEG, RTSTRUCT and export code (start-up is most of a small conversion's time). An installed
 * medvox runs one bundle per command instead (tools/build-cli.mjs, bin/medvox.js); this is the path of the full
 * help and of a checkout whose build is older than its sources.
 */
export const COMMANDS: Record<string, () => Promise<Register>> = {
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
  const names = only !== undefined && Object.hasOwn(COMMANDS, only) ? [only] : Object.keys(COMMANDS);
  // Several commands share a module (serve / import / demo): register each module once.
  const registers = new Set<Register>();
  for (const name of names) registers.add(await COMMANDS[name]!());
  return createProgram([...registers]);
}

export async function main(argv: string[]): Promise<void> {
  await runProgram(await buildProgram(argv[2]), argv);
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/src/cli/main.ts')) {
  await main(process.argv);
}
