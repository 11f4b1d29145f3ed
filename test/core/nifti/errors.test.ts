/** Damaged, foreign and unwritable input: typed MedvoxErrors that name the file. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { isMedvoxError } from '../../../src/core/errors.ts';
import { DataType, emptyHeader, type NiftiImage, readNifti, writeNifti } from '../../../src/core/nifti/index.ts';
import { readNiftiBytes, readNiftiFile } from '../../../src/io/nifti-file.ts';

const outDir = mkdtempSync(join(tmpdir(), 'medvox-nifti-errors-'));
after(() => rmSync(outDir, { recursive: true, force: true }));

function image(version: 1 | 2): NiftiImage {
  const header = { ...emptyHeader(version), datatype: DataType.INT16, dim: [3, 8, 8, 8, 1, 1, 1, 1] };
  return { header, data: Int16Array.from({ length: 512 }, (_, i) => (i * 7919) % 30000) };
}

/** A copy of `bytes` changed by `edit`. */
function damaged(bytes: Uint8Array, edit: (copy: Uint8Array, view: DataView) => void): Uint8Array {
  const copy = bytes.slice();
  edit(copy, new DataView(copy.buffer));
  return copy;
}

const v1 = writeNifti(image(1));
const v2 = writeNifti(image(2));

const cases: Array<[string, Uint8Array, string, RegExp?]> = [
  ['empty.nii', new Uint8Array(), 'EMPTY_FILE'],
  ['three-bytes.nii', new Uint8Array([92, 1, 0]), 'NIFTI_TRUNCATED'],
  ['text.nii', new TextEncoder().encode('hello world, not an image '.repeat(20)), 'NIFTI_BAD_HEADER', /sizeof_hdr/],
  ['sizeof-349.nii', damaged(v1, (_, view) => view.setInt32(0, 349, true)), 'NIFTI_BAD_HEADER', /sizeof_hdr is 349/],
  ['sizeof-540-in-v1.nii', damaged(v1, (_, view) => view.setInt32(0, 540, true)), 'NIFTI_BAD_HEADER', /magic/],
  ['sizeof-0.nii', damaged(v2, (_, view) => view.setInt32(0, 0, true)), 'NIFTI_BAD_HEADER', /sizeof_hdr/],
  ['magic-n+3.nii', damaged(v1, (copy) => copy.set([0x6e, 0x2b, 0x33], 344)), 'NIFTI_BAD_HEADER', /magic/],
  ['pair-header.nii', damaged(v1, (copy) => copy.set([0x6e, 0x69, 0x31], 344)), 'NIFTI_BAD_HEADER', /\.img/],
  ['eol-damaged-v2.nii', damaged(v2, (copy) => copy.set([0x0a, 0x1a, 0x0a, 0], 8)), 'NIFTI_BAD_HEADER', /end-of-line/],
  ['header-cut-v1.nii', v1.subarray(0, 200), 'NIFTI_TRUNCATED', /348 bytes/],
  ['header-cut-v2.nii', v2.subarray(0, 500), 'NIFTI_TRUNCATED', /540 bytes/],
  ['voxels-cut-v1.nii', v1.subarray(0, 600), 'NIFTI_TRUNCATED', /voxel data needs 1024 bytes/],
  ['voxels-cut-v2.nii', v2.subarray(0, v2.length - 1), 'NIFTI_TRUNCATED', /voxel data/],
  ['dim0-is-0.nii', damaged(v1, (_, view) => view.setInt16(40, 0, true)), 'NIFTI_BAD_HEADER', /dim\[0\]/],
  ['dim0-is-9.nii', damaged(v2, (_, view) => view.setBigInt64(16, 9n, true)), 'NIFTI_BAD_HEADER', /dim\[0\]/],
  ['negative-dim.nii', damaged(v1, (_, view) => view.setInt16(44, -8, true)), 'NIFTI_BAD_HEADER', /dim\[2\]/],
  ['float128.nii', damaged(v1, (_, view) => view.setInt16(70, 1536, true)), 'NIFTI_UNSUPPORTED_DATATYPE'],
  ['binary.nii', damaged(v1, (_, view) => view.setInt16(70, 1, true)), 'NIFTI_UNSUPPORTED_DATATYPE'],
  ['datatype-77.nii', damaged(v2, (_, view) => view.setInt16(12, 77, true)), 'NIFTI_UNSUPPORTED_DATATYPE'],
  ['gzip-cut.nii.gz', gzipSync(v1).subarray(0, 300), 'NIFTI_TRUNCATED', /gzip stream ends early/],
  [
    'gzip-crc.nii.gz',
    damaged(gzipSync(v1), (copy) => {
      copy[copy.length - 6]! ^= 0xff;
    }),
    'NIFTI_BAD_COMPRESSION',
  ],
  ['gzip-garbage-after.nii.gz', Buffer.concat([gzipSync(v1), Buffer.from('trailing')]), 'NIFTI_BAD_COMPRESSION'],
];

test('damaged NIfTI bytes give typed errors naming the file', async () => {
  for (const [name, bytes, code, message] of cases) {
    await assert.rejects(
      readNiftiBytes(bytes, name),
      (error: unknown) => {
        assert.ok(isMedvoxError(error), `${name}: ${String(error)}`);
        assert.equal(error.code, code, `${name}: ${error.message}`);
        assert.equal(error.file, name);
        if (message) assert.match(error.message, message, name);
        return true;
      },
      name,
    );
  }
});

test('files on disk: the error names the path; a missing file is IO_ERROR; gzip bytes given to readNifti say so', async () => {
  const path = join(outDir, 'voxels-cut.nii.gz');
  writeFileSync(path, gzipSync(v1.subarray(0, 700)));
  await assert.rejects(readNiftiFile(path), { code: 'NIFTI_TRUNCATED', file: path });
  const missing = join(outDir, 'missing.nii');
  await assert.rejects(readNiftiFile(missing), { code: 'IO_ERROR', file: missing });
  assert.throws(
    () => readNifti(gzipSync(v1)),
    (error: unknown) => isMedvoxError(error) && error.code === 'NIFTI_BAD_HEADER' && /gzip/.test(error.hint ?? ''),
  );
});

test('the reader accepts what nifti1.h allows: vox_offset beyond the extensions, 0 dims, an unset vox_offset', () => {
  const base = image(1);
  // vox_offset 480: the gap between header and voxels is not voxels (nifti1.h "DATA STORAGE").
  const gap = new Uint8Array(v1.length + 128);
  gap.set(v1.subarray(0, 352));
  gap.set(v1.subarray(352), 480);
  new DataView(gap.buffer).setFloat32(108, 480, true);
  assert.deepEqual(readNifti(gap).data, base.data);
  // vox_offset 0 in a single file: the voxels follow the header and the extension flag.
  const unset = damaged(v1, (_, view) => view.setFloat32(108, 0, true));
  assert.deepEqual(readNifti(unset).data, base.data);
  const empty = damaged(v1, (_, view) => view.setInt16(46, 0, true)); // dim[3] = 0
  assert.equal(readNifti(empty).data.length, 0);
});

test('writing refuses what it cannot represent, with typed errors', () => {
  const good = image(1);
  assert.throws(() => writeNifti({ ...good, data: new Float32Array(512) }), { code: 'NIFTI_BAD_HEADER' });
  assert.throws(() => writeNifti({ ...good, data: new Int16Array(511) }), { code: 'NIFTI_BAD_HEADER' });
  const wide = { ...good.header, dim: [3, 40000, 1, 1, 1, 1, 1, 1] };
  const data = new Int16Array(40000);
  assert.throws(
    () => writeNifti({ header: wide, data }),
    (error: unknown) => {
      return isMedvoxError(error) && error.code === 'NIFTI_BAD_HEADER' && /NIfTI-2/.test(error.hint ?? '');
    },
  );
  assert.equal(readNifti(writeNifti({ header: wide, data }, { version: 2 })).header.dim[1], 40000);
  assert.throws(() => writeNifti({ ...good, header: { ...good.header, datatype: DataType.FLOAT128 } }), {
    code: 'NIFTI_UNSUPPORTED_DATATYPE',
  });
  assert.throws(() => writeNifti({ ...good, header: { ...good.header, pixdim: [1, 1, 1] } }), {
    code: 'NIFTI_BAD_HEADER',
  });
});
