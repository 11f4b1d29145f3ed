/**
 * Restart: `medvox serve` is killed (SIGKILL) while a NIfTI upload job runs; on restart the job is re-queued, runs
 * to completion, and the archive holds each object once (the interrupted run's partial outputs were purged).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DataType, emptyHeader, setAffine } from '../../src/core/nifti/index.ts';
import { writeNiftiFile } from '../../src/io/nifti-file.ts';
import { projectRoot } from '../support/env.ts';
import { json, upload } from '../support/server.ts';

const scratch = mkdtempSync(join(tmpdir(), 'medvox-restart-'));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

/** Start `medvox serve` as a child process; resolves with its URL once it listens. */
function serve(data: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [join(projectRoot, 'bin', 'medvox.js'), 'serve', '--port', '0', '--data', data, '--no-demo'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = /at (http:\/\/\S+)/.exec(out)?.[1];
      if (url) resolve({ child, url });
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('exit', (code) => reject(new Error(`medvox serve exited with ${code}: ${err}`)));
  });
}

function countFiles(dir: string): number {
  let count = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    count += statSync(path).isDirectory() ? countFiles(path) : 1;
  }
  return count;
}

async function writeInputs(): Promise<{ image: string; mask: string; slices: number }> {
  const [nx, ny, nz] = [192, 192, 160];
  const image = new Int16Array(nx * ny * nz);
  const mask = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const index = (k * ny + j) * nx + i;
        const r = Math.hypot(i - nx / 2, j - ny / 2);
        // A bar k voxels long on the first row makes every slice (and so every preview) different.
        image[index] = j === 0 && i < k ? 500 : r < 70 ? 40 + ((i * 7 + j * 3 + k) % 50) : -1000;
        mask[index] = r < 20 ? 2 : r < 50 ? 1 : 0;
      }
  const header = (datatype: number) =>
    setAffine(
      { ...emptyHeader(1), dim: [3, nx, ny, nz, 1, 1, 1, 1], datatype, pixdim: [1, 1, 1, 1.5, 1, 1, 1, 1] },
      [1, 0, 0, -96, 0, 1, 0, -96, 0, 0, 1.5, -120, 0, 0, 0, 1],
    );
  const imagePath = join(scratch, 'image.nii.gz');
  const maskPath = join(scratch, 'mask.nii.gz');
  await writeNiftiFile(imagePath, { header: header(DataType.INT16), data: image }, { gzip: true });
  await writeNiftiFile(maskPath, { header: header(DataType.UINT8), data: mask }, { gzip: true });
  return { image: imagePath, mask: maskPath, slices: nz };
}

test('a job interrupted by killing the server re-runs to completion after a restart; nothing is stored twice', async () => {
  const inputs = await writeInputs();
  const data = join(scratch, 'archive');
  const first = await serve(data);
  const response = await upload(
    first.url,
    [
      { field: 'image_file', name: 'image.nii.gz', bytes: new Uint8Array(readFileSync(inputs.image)) },
      { field: 'mask_file', name: 'mask.nii.gz', bytes: new Uint8Array(readFileSync(inputs.mask)) },
    ],
    { radiography_type: 'CT' },
  );
  assert.equal(response.status, 202);
  const { jobId, studyInstanceUID } = await json<{ jobId: string; studyInstanceUID: string }>(response);
  // Kill as soon as the job has stored part of its outputs.
  let killedAt = 0;
  for (let tries = 0; tries < 2000; tries++) {
    const job = await json<{ state: string; percent: number }>(await fetch(`${first.url}/api/jobs/${jobId}`));
    assert.equal(job.state === 'done', false, 'the job ended before the server could be killed: make it bigger');
    if (job.state === 'running' && job.percent >= 15) {
      killedAt = job.percent;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(killedAt > 0, 'the job never got going');
  first.child.kill('SIGKILL');
  await new Promise((resolve) => first.child.once('exit', resolve));

  const second = await serve(data);
  try {
    let job: { state: string; attempts: number; result?: { instances: number; previews: number } } | undefined;
    for (let tries = 0; tries < 600; tries++) {
      job = await json(await fetch(`${second.url}/api/jobs/${jobId}`));
      if (job!.state === 'done' || job!.state === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(job?.state, 'done', JSON.stringify(job));
    assert.equal(job?.attempts, 2, 'the job ran again');
    const study = await json<{
      series: Array<{ modality: string; instanceCount: number }>;
      segmentations: unknown[];
      volumes: unknown[];
    }>(await fetch(`${second.url}/api/studies/${studyInstanceUID}`));
    assert.deepEqual(study.series.map((s) => [s.modality, s.instanceCount]).sort(), [
      ['CT', inputs.slices],
      ['SEG', 1],
    ]);
    assert.equal(study.segmentations.length, 1);
    assert.equal(study.volumes.length, 2, 'one image volume and one labelmap');
    const studies = await json<unknown[]>(await fetch(`${second.url}/api/studies`));
    assert.equal(studies.length, 1);
    // Every blob on disk is referenced: the killed run's partial outputs were removed, not left beside the new ones.
    const blobs = countFiles(join(data, 'blobs'));
    const expected = inputs.slices /* CT */ + 1 /* SEG */ + 2 /* volumes */ + inputs.slices; /* previews */
    assert.equal(blobs, expected);
    assert.deepEqual(readdirSync(join(data, 'staging')), [], 'the staged upload is removed once the job is done');
  } finally {
    second.child.kill('SIGTERM');
    await new Promise((resolve) => second.child.once('exit', resolve));
  }
});
