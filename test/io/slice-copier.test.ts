/**
 * SliceCopier: slices still in their files are copied into a .nii, or made into gzip members for a .nii.gz, by this
 * thread and a worker sharing one counter. What lands in the file (or the members) must be exactly what the
 * streaming path reads into a volume (rows flipped, masked or sign-extended to Bits Stored), whichever thread did
 * which slice; a file that cannot be read fails with its name, only once no thread writes any more.
 */
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { Dataset, DicomFile } from '../../src/core/dicom/model.ts';
import { writeDicom } from '../../src/core/dicom/writer.ts';
import { MedvoxError } from '../../src/core/errors.ts';
import { makePhantomSeries } from '../../src/core/phantom/index.ts';
import { type PlannedVolume, planVolumes, readVolume } from '../../src/core/volume/index.ts';
import { readDicomFileHeadFirst } from '../../src/io/dicom-file.ts';
import type { FileSliceJob } from '../../src/io/file-slices.ts';
import { SliceCopier } from '../../src/io/slice-copier.ts';

const scratch = mkdtempSync(join(tmpdir(), 'medvox-slice-copier-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const VOX_OFFSET = 352;

/** A phantom series (slices larger than the 16 KiB first read, so their pixel data stays in the files) whose 16-bit values are rewritten by `value` (row-major), with the given pixel attributes. */
function series(
  name: string,
  options: { signed: boolean; bitsStored: number; value: (slice: number, index: number) => number },
): string[] {
  const files = makePhantomSeries({ rows: 120, columns: 136, slices: 12, modality: 'MR', seed: name });
  return files.map((file, slice) => {
    const ds = file.dataset as Dataset;
    ds.setNumbers('PixelRepresentation', options.signed ? 1 : 0, 'US');
    ds.setNumbers('BitsStored', options.bitsStored, 'US');
    ds.setNumbers('HighBit', options.bitsStored - 1, 'US');
    const pixels = new Uint16Array(120 * 136);
    for (let i = 0; i < pixels.length; i++) pixels[i] = options.value(slice, i) & 0xffff;
    ds.setBytes(0x7fe00010, new Uint8Array(pixels.buffer), 'OW');
    const path = join(scratch, `${name}-${String(slice).padStart(2, '0')}.dcm`);
    writeFileSync(path, writeDicom(file as DicomFile));
    return path;
  });
}

function plan(paths: string[]): PlannedVolume {
  const { volumes } = planVolumes(paths.map((path) => readDicomFileHeadFirst(path)));
  assert.equal(volumes.length, 1);
  return volumes[0]!;
}

function jobOf(planned: PlannedVolume): FileSliceJob {
  const frames = planned.fileFrames();
  assert.ok(frames, 'every slice is native and in its file');
  const { rows, columns, bytesPerSample } = frames;
  return { rows, columns, bytesPerSample, voxOffset: VOX_OFFSET, frames: frames.frames };
}

/** Block this thread (the worker keeps running): the copy's `meanwhile`, so that the worker takes every slice. */
const sleep = (ms: number) => () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

async function copyToFile(
  job: FileSliceJob,
  copier: SliceCopier,
  meanwhile?: () => void,
): Promise<{ bytes: Buffer; workerSlices: number; uint16Max: number }> {
  const path = join(scratch, `out-${Math.random().toString(36).slice(2)}.nii`);
  const fd = openSync(path, 'w');
  try {
    const result = await copier.copy(job, fd, meanwhile);
    return { bytes: readFileSync(path).subarray(VOX_OFFSET), ...result };
  } finally {
    closeSync(fd);
  }
}

const cases = [
  // 12 bits stored in 16, signed, with garbage above bit 11: sign-extended from bit 11.
  { name: 'int12', signed: true, bitsStored: 12, value: (s: number, i: number) => (i * 37 + s * 101) ^ 0xa000 },
  // Unsigned 16 bits above 32767: the largest value decides the NIfTI type.
  { name: 'uint16', signed: false, bitsStored: 16, value: (s: number, i: number) => (i * 13 + s * 997) % 60001 },
  // Unsigned 10 bits stored: masked.
  { name: 'uint10', signed: false, bitsStored: 10, value: (s: number, i: number) => i * 7 + s * 3 + 0xfc00 },
];

for (const { name, ...options } of cases) {
  test(`${name}: two threads write exactly the slices the streaming path reads`, async () => {
    const planned = plan(series(name, options));
    const expected = await readVolume(planned);
    const wanted = Buffer.from(expected.data.buffer, expected.data.byteOffset, expected.data.byteLength);
    const uint16Max = expected.data instanceof Uint16Array ? expected.data.reduce((a, b) => Math.max(a, b), 0) : 0;
    const job = jobOf(planned);

    const alone = await copyToFile(job, new SliceCopier());
    assert.ok(alone.bytes.equals(wanted), 'this thread alone');
    assert.deepEqual([alone.workerSlices, alone.uint16Max], [0, uint16Max]);
    const members = await new SliceCopier().gzipMembers(job, 5, 1);
    assert.ok(gunzipSync(Buffer.concat(members.members)).equals(wanted), 'members made by this thread alone');
    assert.deepEqual([members.workerMembers, members.uint16Max], [0, uint16Max]);

    const copier = new SliceCopier();
    try {
      copier.start();
      await copier.ready();
      const shared = await copyToFile(job, copier, sleep(500));
      assert.ok(shared.bytes.equals(wanted), 'the worker');
      assert.equal(shared.workerSlices, job.frames.length, 'the worker copied every slice while this thread slept');
      assert.equal(shared.uint16Max, uint16Max);
      const again = await copyToFile(job, copier);
      assert.ok(again.bytes.equals(wanted), 'both threads, second job of the same worker');
      // .nii.gz: members of 5 slices (3 of 12 slices: 5, 5, 2), each a gzip member of consecutive slices.
      const byWorker = await copier.gzipMembers(job, 5, 1, sleep(500));
      assert.equal(byWorker.workerMembers, 3, 'the worker made every member while this thread slept');
      const byBoth = await copier.gzipMembers(job, 5, 1);
      for (const made of [byWorker, byBoth]) {
        assert.equal(made.members.length, 3);
        assert.ok(gunzipSync(Buffer.concat(made.members)).equals(wanted), 'the members hold the slices in order');
        assert.equal(made.uint16Max, uint16Max);
      }
    } finally {
      await copier.close();
    }
  });
}

test('a file cut short after planning: IO_ERROR naming it, from this thread or the worker', async () => {
  const paths = series('cut', { signed: true, bitsStored: 16, value: (s, i) => s * 100 + i });
  const job = jobOf(plan(paths));
  truncateSync(paths[7]!, 600);
  const isCut = (error: unknown) =>
    error instanceof MedvoxError && error.code === 'IO_ERROR' && error.file === paths[7];
  await assert.rejects(copyToFile(job, new SliceCopier()), isCut);
  await assert.rejects(new SliceCopier().gzipMembers(job, 5, 1), isCut);
  const copier = new SliceCopier();
  try {
    copier.start();
    await copier.ready();
    await assert.rejects(copyToFile(job, copier, sleep(500)), isCut);
    await assert.rejects(copier.gzipMembers(job, 5, 1, sleep(500)), isCut);
    // The worker goes on with the next volume.
    const goodPlan = plan(series('after-cut', { signed: true, bitsStored: 16, value: (s, i) => s - i }));
    const good = jobOf(goodPlan);
    const next = await copyToFile(good, copier, sleep(500));
    assert.equal(next.workerSlices, good.frames.length);
    // This thread fails while the worker may still be making members of the cut volume: those late members must
    // not end up in the next volume's.
    const expected = await readVolume(goodPlan);
    const wanted = Buffer.from(expected.data.buffer, expected.data.byteOffset, expected.data.byteLength);
    for (let round = 0; round < 3; round++) {
      await assert.rejects(copier.gzipMembers(job, 1, 1), isCut);
      const members = await copier.gzipMembers(good, 1, 1);
      assert.ok(gunzipSync(Buffer.concat(members.members)).equals(wanted), 'members of the next volume only');
    }
  } finally {
    await copier.close();
  }
});

test('a stopped worker leaves its slices to this thread', async () => {
  const planned = plan(series('stopped', { signed: true, bitsStored: 16, value: (s, i) => s * 7 - i }));
  const expected = await readVolume(planned);
  const copier = new SliceCopier();
  copier.start();
  await copier.ready();
  await copier.close();
  const copied = await copyToFile(jobOf(planned), copier);
  const wanted = Buffer.from(expected.data.buffer, expected.data.byteOffset, expected.data.byteLength);
  assert.ok(copied.bytes.equals(wanted));
  assert.equal(copied.workerSlices, 0);
  const members = await copier.gzipMembers(jobOf(planned), 4, 1);
  assert.ok(gunzipSync(Buffer.concat(members.members)).equals(wanted));
  assert.equal(members.workerMembers, 0);
});

test('an output that cannot be written: IO_ERROR "cannot write" (the NIfTI stream names its file), from either thread', async () => {
  const job = jobOf(plan(series('unwritable', { signed: true, bitsStored: 16, value: (s, i) => s + i })));
  const path = join(scratch, 'read-only.nii');
  writeFileSync(path, '');
  const fd = openSync(path, 'r');
  const isWriteError = (error: unknown) =>
    error instanceof MedvoxError && error.code === 'IO_ERROR' && /cannot write/.test(error.message) && !error.file;
  const copier = new SliceCopier();
  try {
    await assert.rejects(new SliceCopier().copy(job, fd), isWriteError);
    copier.start();
    await copier.ready();
    await assert.rejects(copier.copy(job, fd, sleep(300)), isWriteError);
  } finally {
    closeSync(fd);
    await copier.close();
  }
});
