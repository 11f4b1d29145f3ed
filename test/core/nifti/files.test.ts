/** .nii / .nii.gz files: multi-member gzip, gzip options, atomic writes. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DataType, emptyHeader, type NiftiImage, writeNifti } from '../../../src/core/nifti/index.ts';
import { writeFileAtomic } from '../../../src/io/atomic.ts';
import { readNiftiBytes, readNiftiFile, writeNiftiFile } from '../../../src/io/nifti-file.ts';
import { nibabel, requireNibabel, voxelSha256 } from './support.ts';

const outDir = mkdtempSync(join(tmpdir(), 'medvox-nifti-files-'));
after(() => rmSync(outDir, { recursive: true, force: true }));

function sample(): NiftiImage {
  const header = { ...emptyHeader(1), datatype: DataType.INT16, dim: [3, 16, 12, 10, 1, 1, 1, 1] };
  return { header, data: Int16Array.from({ length: 16 * 12 * 10 }, (_, i) => ((i * 7919) % 4000) - 1024) };
}

test('multi-member gzip is read completely (members split inside the header and inside the voxels)', async (t) => {
  const image = sample();
  const bytes = writeNifti(image);
  const cuts = [0, 200, 1000, 2500, bytes.length];
  const members = cuts.slice(1).map((end, i) => gzipSync(bytes.subarray(cuts[i], end), { level: 1 + i }));
  const multi = Buffer.concat(members);
  const read = await readNiftiBytes(multi, 'four-members.nii.gz');
  assert.deepEqual(Array.from(read.data as Int16Array), Array.from(image.data as Int16Array));
  // A reader that stops after the first member would see 200 bytes: the test input is really multi-member.
  assert.equal(gunzipSync(members[0]!).length, 200);
  if (!requireNibabel(t)) return;
  const path = join(outDir, 'four-members.nii.gz');
  writeFileSync(path, multi);
  const oracle = nibabel([path])[path]!;
  assert.equal(oracle.sha256, voxelSha256(image), 'nibabel reads the same voxels from the multi-member file');
  assert.deepEqual(Array.from((await readNiftiFile(path)).data as Int16Array), Array.from(image.data as Int16Array));
});

test('gzip follows the file name unless told; the level is honoured; zero padding after the stream is ignored', async () => {
  const image = sample();
  const raw = writeNifti(image);
  const gz = join(outDir, 'a.nii.gz');
  const nii = join(outDir, 'a.nii');
  const forced = join(outDir, 'forced.nii');
  await writeNiftiFile(gz, image);
  await writeNiftiFile(nii, image);
  await writeNiftiFile(forced, image, { gzip: true, level: 9 });
  assert.deepEqual(gunzipSync(readFileSync(gz)), Buffer.from(raw));
  assert.deepEqual(readFileSync(nii), Buffer.from(raw));
  assert.equal(readFileSync(forced)[0], 0x1f);
  const stored = join(outDir, 'stored.nii.gz');
  await writeNiftiFile(stored, image, { level: 0 });
  assert.ok(readFileSync(stored).length > raw.length, 'level 0 stores without compression');
  assert.ok(readFileSync(forced).length <= readFileSync(gz).length, 'level 9 is not larger than the default');
  const padded = Buffer.concat([readFileSync(gz), Buffer.alloc(512)]);
  assert.equal(voxelSha256(await readNiftiBytes(padded, 'padded.nii.gz')), voxelSha256(image));
  await assert.rejects(writeNiftiFile(join(outDir, 'bad-level.nii.gz'), image, { level: 12 }), {
    code: 'USAGE',
    file: join(outDir, 'bad-level.nii.gz'),
  });
});

test('writes are atomic: no temporary file remains, and a failed write leaves the previous file intact', async () => {
  const dir = mkdtempSync(join(outDir, 'atomic-'));
  const path = join(dir, 'image.nii.gz');
  const image = sample();
  await writeNiftiFile(path, image);
  const before = readFileSync(path);
  // A write that fails while serialising (voxel count does not match dims) must not touch the target.
  const broken: NiftiImage = { header: image.header, data: new Int16Array(5) };
  await assert.rejects(writeNiftiFile(path, broken), { code: 'NIFTI_BAD_HEADER', file: path });
  assert.deepEqual(readFileSync(path), before);
  // A rename that fails (the target is a non-empty directory) cleans up its temporary file.
  const blocked = join(dir, 'blocked.nii');
  await writeFileAtomic(join(blocked, 'inside'), new Uint8Array([1]));
  await assert.rejects(writeFileAtomic(blocked, new Uint8Array(10)), { code: 'IO_ERROR', file: blocked });
  assert.deepEqual(readdirSync(dir).sort(), ['blocked.nii', 'image.nii.gz']);
  // Nested folders are created.
  await writeFileAtomic(join(dir, 'new', 'deeper', 'x.txt'), 'text');
  assert.equal(readFileSync(join(dir, 'new', 'deeper', 'x.txt'), 'utf8'), 'text');
});
