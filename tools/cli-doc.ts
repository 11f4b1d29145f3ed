/**
 * Regenerate docs/cli.md from the CLI's own help (every command and subcommand): `npx tsx tools/cli-doc.ts`.
 * Run it after adding or changing a command, so the reference never drifts from `medvox --help`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../src/cli/main.ts';

const sections: string[] = [
  '# medvox CLI reference',
  '',
  "Generated from `medvox --help` and each command's `--help` by `tools/cli-doc.ts`; exit codes in docs/errors.md.",
  '',
];

function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (chunk) => (text += chunk), writeErr: (chunk) => (text += chunk) });
  command.outputHelp();
  return text.trimEnd();
}

function walk(command: Command, path: string[]): void {
  sections.push(`## ${['medvox', ...path].join(' ')}`, '', '```', helpOf(command), '```', '');
  for (const sub of command.commands) if (sub.name() !== 'help') walk(sub, [...path, sub.name()]);
}

process.env.COLUMNS = '80';
walk(await buildProgram(), []);
writeFileSync(join(import.meta.dirname, '..', 'docs', 'cli.md'), `${sections.join('\n').trimEnd()}\n`);
