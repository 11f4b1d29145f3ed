/** `medvox import` and `medvox demo` from the command line; `medvox serve` imports the demo into an empty archive. */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { projectRoot } from '../support/env.ts';
import { json, startTestServer } from '../support/server.ts';

const scratch = mkdtempSync(join(tmpdir(), 'medvox-cli-serve-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const medvox = (...args: string[]): string =>
  execFileSync(process.execPath, [join(projectRoot, 'bin', 'medvox.js'), ...args], { encoding: 'utf8' });

test('medvox demo writes the phantom study; medvox import stores it once and recognises the duplicates', () => {
  const demo = join(scratch, 'demo');
  assert.match(medvox('demo', '--output', demo), /wrote 49 files/);
  assert.equal(readdirSync(join(demo, 'ct')).length, 48);
  const data = join(scratch, 'archive');
  assert.match(medvox('import', demo, '--data', data), /stored 49, duplicates 0, not DICOM 0, failed 0; studies: 1/);
  assert.match(medvox('import', join(demo, 'ct'), '--data', data), /stored 0, duplicates 48/);
});

test('medvox serve on an empty archive imports the demo study: a CT, its 3-label SEG decoded onto it, previews', async () => {
  const server = await startTestServer({ demo: true });
  try {
    assert.ok(server.demoJob);
    const job = await server.runner.waitFor(server.demoJob!);
    assert.equal(job.state, 'done', JSON.stringify(job.error));
    const [study] = await json<Array<{ studyInstanceUID: string; modalities: string[] }>>(
      await fetch(`${server.url}/api/studies`),
    );
    assert.deepEqual(study?.modalities, ['CT', 'SEG']);
    const detail = await json<{ segmentations: Array<{ segments: Array<{ label: string }>; labelmapVolume: string }> }>(
      await fetch(`${server.url}/api/studies/${study!.studyInstanceUID}`),
    );
    assert.deepEqual(
      detail.segmentations[0]!.segments.map((segment) => segment.label),
      ['Body', 'Marker A', 'Marker B'],
    );
    const labels = new Uint8Array(
      await (await fetch(`${server.url}/api/volumes/${detail.segmentations[0]!.labelmapVolume}/data`)).arrayBuffer(),
    );
    assert.deepEqual([...new Set(labels)].sort(), [0, 1, 2, 3]);
    const preview = await fetch(`${server.url}/uploads/${study!.studyInstanceUID}/previews/40.png`);
    assert.equal(preview.headers.get('content-type'), 'image/png');
  } finally {
    await server.stop();
  }
});

test('medvox serve keeps running after it started, and stops on SIGTERM', async () => {
  const child = spawn(
    process.execPath,
    [join(projectRoot, 'bin', 'medvox.js'), 'serve', '--port', '0', '--no-demo', '--data', join(scratch, 'served')],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  try {
    let output = '';
    child.stdout.setEncoding('utf8');
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        output += chunk;
        const found = /medvox serving .* at (http:\/\/\S+)/.exec(output);
        if (found) resolve(found[1]!);
      });
      child.once('exit', (code) => reject(new Error(`serve exited (${code}) before serving: ${output}`)));
    });
    // Well after start-up, it still answers.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(child.exitCode, null);
    const health = await fetch(`${url}/api/health`);
    assert.deepEqual(await health.json(), { ok: true });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
