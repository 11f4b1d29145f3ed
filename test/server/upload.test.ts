/**
 * Real HTTP on an ephemeral port: uploads of a corpus CT series (with its SEG), a zip of it, and a NIfTI image +
 * labelmap; jobs finish with ordered progress events; the study lists the series and the SEG; previews decode as
 * PNG and are not blank; the volume endpoint returns the converter's voxels.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeDicom } from '../../src/core/dicom/writer.ts';
import { apply, invert, multiply, rasToLps } from '../../src/core/geometry/affine.ts';
import { niftiAffine } from '../../src/core/nifti/index.ts';
import { makePhantomSeries } from '../../src/core/phantom/index.ts';
import { readNiftiFile } from '../../src/io/nifti-file.ts';
import type { JobEvent } from '../../src/jobs/runner.ts';
import { dicomToNifti } from '../../src/ops/dicom-to-nifti.ts';
import { corpus, hasCorpus, inCI, requirePeers } from '../support/env.ts';
import { decodePng, jobEvents, json, startTestServer, type TestServer, upload } from '../support/server.ts';

const CT = corpus('seg', 'dcmqi_liver_ct3', 'source_ct');
const SEG = corpus('seg', 'dcmqi_liver_ct3', 'seg', 'liver.dcm');
const scratch = mkdtempSync(join(tmpdir(), 'medvox-upload-test-'));
let server: TestServer;

before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function ctParts(): Array<{ field: string; name: string; bytes: Uint8Array }> {
  return readdirSync(CT)
    .sort()
    .map((name) => ({ field: 'files', name, bytes: readFileSync(join(CT, name)) }));
}

function assertOrdered(events: JobEvent[]): void {
  assert.ok(events.length >= 3, `only ${events.length} events`);
  for (let i = 1; i < events.length; i++) {
    assert.equal(events[i]!.seq, events[i - 1]!.seq + 1, 'events arrive in order, none missing');
    assert.ok(events[i]!.percent >= events[i - 1]!.percent, 'percent never goes back');
  }
  assert.equal(events.at(-1)!.state, 'done', JSON.stringify(events.at(-1)));
  assert.equal(events.at(-1)!.percent, 100);
}

test('a corpus CT series and its SEG uploaded over HTTP become a study with a volume equal to the converter', async (t) => {
  if (!requirePeers(t, '/usr/bin/python3')) return;
  const response = await upload(server.url, [
    ...ctParts(),
    { field: 'files', name: 'liver.dcm', bytes: readFileSync(SEG) },
  ]);
  assert.equal(response.status, 202);
  const accepted = await json<{ jobId: string; studyInstanceUID: string }>(response);
  assertOrdered(await jobEvents(server.url, accepted.jobId));

  const study = await json<{
    series: Array<{ modality: string; instanceCount: number; volumes: string[] }>;
    segmentations: Array<{ segments: unknown[]; labelmapVolume?: string }>;
  }>(await fetch(`${server.url}/api/studies/${accepted.studyInstanceUID}`));
  assert.deepEqual(study.series.map((s) => s.modality).sort(), ['CT', 'SEG']);
  assert.equal(study.segmentations.length, 1);
  assert.ok(study.segmentations[0]!.labelmapVolume, 'the SEG is decoded onto the CT grid');

  // Voxels identical to `medvox convert`'s NIfTI.
  const converted = await dicomToNifti({ inputs: [CT], outputDir: join(scratch, 'nifti') });
  const nifti = await readNiftiFile(converted.outputs[0]!.nifti);
  const volumeId = study.series.find((s) => s.modality === 'CT')!.volumes[0]!;
  const header = await json<{ dims: number[]; datatype: string; byteLength: number }>(
    await fetch(`${server.url}/api/volumes/${volumeId}`),
  );
  assert.deepEqual(header.dims.slice(0, 3), converted.outputs[0]!.dims.slice(0, 3));
  const data = Buffer.from(await (await fetch(`${server.url}/api/volumes/${volumeId}/data`)).arrayBuffer());
  assert.equal(data.length, header.byteLength);
  assert.ok(data.equals(Buffer.from(nifti.data.buffer, nifti.data.byteOffset, nifti.data.byteLength)));

  // Previews: PNGs (decoded by Pillow) that are not blank, with the liver overlay in colour.
  const png = new Uint8Array(
    await (await fetch(`${server.url}/uploads/${accepted.studyInstanceUID}/previews/1.png`)).arrayBuffer(),
  );
  const decoded = decodePng(png);
  assert.equal(decoded.width, header.dims[0]);
  assert.equal(decoded.mode, 'RGB');
  assert.ok(decoded.distinct > 50, `preview has ${decoded.distinct} distinct colours`);
  const slice = decodePng(
    new Uint8Array(
      await (await fetch(`${server.url}/api/volumes/${volumeId}/slices/1.png?wc=40&ww=400`)).arrayBuffer(),
    ),
  );
  assert.equal(slice.mode, 'L');
  assert.ok(slice.distinct > 20);

  // The original apps' routes.
  const listed = await json<Array<{ study_id: string }>>(await fetch(`${server.url}/studies`));
  assert.ok(listed.some((s) => s.study_id === accepted.studyInstanceUID));
  const status = await json<{ status: string; progress: number }>(
    await fetch(`${server.url}/studies/${accepted.studyInstanceUID}/status`),
  );
  assert.deepEqual([status.status, status.progress], ['done', 100]);
  const instances = await json<unknown[]>(await fetch(`${server.url}/studies/${accepted.studyInstanceUID}/instances`));
  assert.equal(instances.length, 4);
});

test('a zip of the same series is recognised as duplicates: nothing is stored twice', async (t) => {
  if (!requirePeers(t, 'zip')) return;
  const zipPath = join(scratch, 'ct.zip');
  execFileSync('zip', ['-q', '-r', zipPath, '.'], { cwd: CT });
  const response = await upload(server.url, [{ field: 'files', name: 'ct.zip', bytes: readFileSync(zipPath) }]);
  assert.equal(response.status, 202);
  const accepted = await json<{ jobId: string }>(response);
  const events = await jobEvents(server.url, accepted.jobId);
  assertOrdered(events);
  const result = events.at(-1)!.result as { stored: number; duplicates: number };
  assert.deepEqual([result.stored, result.duplicates], [0, 3]);
  const studies = await json<Array<{ instanceCount: number }>>(await fetch(`${server.url}/api/studies`));
  assert.equal(
    studies.reduce((sum, s) => sum + s.instanceCount, 0),
    4,
  );
});

test('one file as the whole body: a DICOM instance (application/dicom) and a zip (application/zip) are imported', async (t) => {
  if (!requirePeers(t, 'zip')) return;
  const dir = join(scratch, 'single');
  mkdirSync(dir, { recursive: true });
  const files = makePhantomSeries({ rows: 32, columns: 32, slices: 3, seed: 'single-file-upload' });
  for (const [k, file] of files.entries()) writeFileSync(join(dir, `${k}.dcm`), writeDicom(file));
  const post = async (bytes: Uint8Array, type: string) => {
    const response = await fetch(`${server.url}/api/uploads`, {
      method: 'POST',
      body: Uint8Array.from(bytes),
      headers: { 'Content-Type': type, 'Content-Disposition': 'attachment; filename="x.dcm"' },
    });
    assert.equal(response.status, 202, await response.clone().text());
    const accepted = await json<{ jobId: string; studyInstanceUID: string }>(response);
    const events = await jobEvents(server.url, accepted.jobId);
    assertOrdered(events);
    return { ...(events.at(-1)!.result as { stored: number; duplicates: number }), study: accepted.studyInstanceUID };
  };
  const first = await post(readFileSync(join(dir, '0.dcm')), 'application/dicom');
  assert.deepEqual([first.stored, first.duplicates], [1, 0]);
  execFileSync('zip', ['-q', '-r', join(scratch, 'single.zip'), '.'], { cwd: dir });
  const zipped = await post(readFileSync(join(scratch, 'single.zip')), 'application/zip');
  assert.deepEqual([zipped.stored, zipped.duplicates], [2, 1]);
  assert.equal(zipped.study, first.study);
  const again = await post(readFileSync(join(dir, '2.dcm')), 'application/octet-stream');
  assert.deepEqual([again.stored, again.duplicates], [0, 1]);
  assert.equal(server.archive.index.study(first.study)?.instanceCount, 3);
});

test('a NIfTI image + multi-label mask becomes a DICOM series, a DICOM-SEG and previews in one job', async (t) => {
  if (!requirePeers(t, '/usr/bin/python3')) return;
  const folder = corpus('nifti', 'totalseg_ct_small_multilabel');
  const response = await upload(
    server.url,
    [
      { field: 'image_file', name: 'ct.nii.gz', bytes: readFileSync(join(folder, 'example_ct_sm.nii.gz')) },
      { field: 'mask_file', name: 'seg.nii.gz', bytes: readFileSync(join(folder, 'example_seg.nii.gz')) },
    ],
    { radiography_type: 'CT' },
    {},
    '/upload',
  );
  assert.equal(response.status, 202);
  const accepted = await json<{ jobId: string; study_id: string }>(response);
  assertOrdered(await jobEvents(server.url, accepted.jobId));
  const study = await json<{
    series: Array<{ modality: string; instanceCount: number }>;
    segmentations: Array<{ segments: unknown[]; labelmapVolume?: string }>;
    volumes: Array<{ id: string; kind: string; dims: number[] }>;
  }>(await fetch(`${server.url}/api/studies/${accepted.study_id}`));
  assert.deepEqual(study.series.map((s) => [s.modality, s.instanceCount]).sort(), [
    ['CT', 30],
    ['SEG', 1],
  ]);
  const mask = await readNiftiFile(join(folder, 'example_seg.nii.gz'));
  const labels = new Set(mask.data as Uint8Array);
  labels.delete(0);
  assert.equal(study.segmentations[0]!.segments.length, labels.size);
  // The labelmap decoded back from the stored SEG equals the uploaded mask, voxel for voxel in patient space (the
  // DICOM series orders its slices along its normal, which here runs against the NIfTI's k axis).
  const labelmap = study.volumes.find((v) => v.kind === 'labelmap')!;
  const header = await json<{ dims: number[]; affineLPS: number[] }>(
    await fetch(`${server.url}/api/volumes/${labelmap.id}`),
  );
  const voxels = new Uint8Array(await (await fetch(`${server.url}/api/volumes/${labelmap.id}/data`)).arrayBuffer());
  const toMask = multiply(invert(rasToLps(niftiAffine(mask.header))), header.affineLPS);
  const [nx, ny, nz] = header.dims as [number, number, number];
  let differences = 0;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const [mi, mj, mk] = apply(toMask, [i, j, k]).map(Math.round) as [number, number, number];
        if (voxels[(k * ny + j) * nx + i] !== (mask.data as Uint8Array)[(mk * ny + mj) * nx + mi]) differences++;
      }
  assert.equal(voxels.length, mask.data.length);
  assert.equal(differences, 0);
  const png = decodePng(
    new Uint8Array(await (await fetch(`${server.url}/uploads/${accepted.study_id}/previews/15.png`)).arrayBuffer()),
  );
  assert.deepEqual([png.width, png.height, png.mode], [122, 101, 'RGB']);
  assert.ok(png.distinct > 50);
});

test('the corpus is where the tests expect it in CI', () => {
  if (inCI) assert.ok(hasCorpus());
});
