/**
 * The per-command CLI bundles (tools/build-cli.mjs) that an installed medvox runs: built here into a scratch folder
 * inside the project (so that npm packages resolve), every command's bundle runs, and a compressed series converts
 * through the bundle's decode workers.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { COMMANDS } from '../../src/cli/main.ts';
import { writeDicom } from '../../src/core/dicom/writer.ts';
import { makePhantomSeries } from '../../src/core/phantom/index.ts';
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

/**
 * Run `medvox <args>` through the bundle the table names for args[0], loaded as bin/medvox.js loads it (with its
 * code cache); `cached` says whether a cache was used.
 */
function runBundle(args: string[]): { status: number | null; stdout: string; stderr: string; cached: boolean } {
  const table = JSON.parse(readFileSync(join(bundles, 'commands.json'), 'utf8')) as Record<string, string>;
  const file = join(bundles, table[args[0]!]!);
  // A runner file, not `--input-type=module -e`: workers inherit execArgv, and --input-type fails in a worker.
  const runner = join(bundles, 'run.mjs');
  const report = join(scratch, 'cached.txt');
  writeFileSync(
    runner,
    `import { writeFileSync } from 'node:fs';
import { loadBundle } from ${JSON.stringify(join(projectRoot, 'bin', 'bundle.js'))};
const bundle = loadBundle(process.argv[2]);
writeFileSync(${JSON.stringify(report)}, String(bundle.cached));
await bundle.exports.run(['node', 'medvox', ...process.argv.slice(3)]);
if (!process.exitCode) bundle.save();\n`,
  );
  const result = spawnSync(process.execPath, [runner, file, ...args], { encoding: 'utf8' });
  return { ...result, cached: readFileSync(report, 'utf8') === 'true' };
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
  assert.ok(readdirSync(bundles).includes('slice-worker.js'));
  assert.ok(Object.values(table).every((file) => file.endsWith('.cjs')));
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

test('a bundle saves its V8 code cache after a run and starts from it; a damaged cache is replaced', () => {
  const table = JSON.parse(readFileSync(join(bundles, 'commands.json'), 'utf8')) as Record<string, string>;
  const dump = join(bundles, table.dump!);
  const image = join(scratch, 'phantom.dcm');
  writeFileSync(image, writeDicom(makePhantomSeries({ rows: 8, columns: 8, slices: 1 })[0]!));
  const expected = runBundle(['dump', image]);
  assert.equal(expected.status, 0, expected.stderr);
  const caches = () =>
    readdirSync(bundles).filter((name) => name.startsWith(basename(dump)) && name.endsWith('.cache'));
  assert.equal(caches().length, 1, 'the first run wrote a cache');
  const again = runBundle(['dump', image]);
  assert.equal(again.cached, true, 'the second run started from it');
  assert.equal(again.stdout, expected.stdout);
  const cacheFile = join(bundles, caches()[0]!);
  writeFileSync(cacheFile, Buffer.alloc(4096, 7));
  const damaged = runBundle(['dump', image]);
  assert.equal(damaged.cached, false, 'V8 rejected the damaged cache');
  assert.equal(damaged.stdout, expected.stdout);
  assert.equal(runBundle(['dump', image]).cached, true, 'and it was written again');
});
