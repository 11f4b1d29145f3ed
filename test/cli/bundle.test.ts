/**
 * The per-command CLI bundles (tools/build-cli.mjs) that an installed medvox runs: built here into a scratch folder
 * inside the project (so that npm packages resolve), every command's bundle runs, and a compressed series converts
 * through the bundle's decode workers.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { COMMANDS } from '../../src/cli/main.ts';
import { corpus, projectRoot, requirePeers } from '../support/env.ts';

const bundles = mkdtempSync(join(projectRoot, 'dist-bundle-test-'));
const scratch = mkdtempSync(join(tmpdir(), 'medvox-bundle-'));
after(() => {
  rmSync(bundles, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});
before(() => {
  execFileSync(process.execPath, [join(projectRoot, 'tools', 'build-cli.mjs'), bundles], { stdio: 'pipe' });
});

/** Run `medvox <args>` through the bundle the table names for args[0]. */
function runBundle(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const table = JSON.parse(readFileSync(join(bundles, 'commands.json'), 'utf8')) as Record<string, string>;
  const file = join(bundles, table[args[0]!]!);
  // A runner file, not `--input-type=module -e`: workers inherit execArgv, and --input-type fails in a worker.
  const runner = join(bundles, 'run.mjs');
  writeFileSync(
    runner,
    `const { run } = await import(process.argv[2]);\nawait run(['node', 'medvox', ...process.argv.slice(3)]);\n`,
  );
  return spawnSync(process.execPath, [runner, file, ...args], { encoding: 'utf8' });
}

test('there is a bundle for every command of the CLI, and each one runs its command', () => {
  const table = JSON.parse(readFileSync(join(bundles, 'commands.json'), 'utf8')) as Record<string, string>;
  assert.deepEqual(Object.keys(table).sort(), Object.keys(COMMANDS).sort());
  for (const command of Object.keys(table)) {
    const result = runBundle([command, '--help']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`Usage: medvox ${command} `), command);
  }
  assert.ok(readdirSync(bundles).includes('decode-worker.js'));
});

test('a bundled command reports a typed error with its exit code', () => {
  const result = runBundle(['convert', '--dicom2nifti', '--input', join(scratch, 'absent'), '--output', scratch]);
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /absent/);
});

test('the convert bundle decodes a JPEG 2000 series on its decode workers', (t) => {
  if (!requirePeers(t)) return;
  const output = join(scratch, 'j2k');
  const result = runBundle([
    'convert',
    '--dicom2nifti',
    '--input',
    corpus('ct', 'siemens_biograph_j2k_20sl'),
    '--output',
    output,
  ]);
  assert.equal(result.status, 0, result.stderr);
  const written = readdirSync(output);
  assert.equal(written.filter((name) => name.endsWith('.nii.gz')).length, 1, written.join(', '));
});
