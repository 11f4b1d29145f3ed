/** Reading: every NIfTI of the corpus and nibabel's example files reads exactly as nibabel reads it. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  applyScaling,
  DataType,
  datatypeInfo,
  niftiAffine,
  niftiShape,
  readNiftiHeader,
  scalingOf,
} from '../../../src/core/nifti/index.ts';
import { readNiftiFile } from '../../../src/io/nifti-file.ts';
import { corpus, listFiles } from '../../support/env.ts';
import {
  assertAffine,
  assertExtensionsEqual,
  assertHeaderEqual,
  encodeNumber,
  nibabel,
  nibabelExamples,
  requireNibabel,
  sha256,
  voxelSha256,
} from './support.ts';

test('every corpus NIfTI and nibabel example: header fields, extensions, affine, shape, voxels equal nibabel', async (t) => {
  if (!requireNibabel(t)) return;
  const examples = nibabelExamples(/\.nii(\.gz)?$/);
  const files = [...listFiles(corpus()).filter((path) => /\.nii(\.gz)?$/.test(path)), ...examples];
  const oracle = nibabel(files);
  const seen = { compared: 0, bigEndian: 0, nifti2: 0, extensions: 0, scaled: 0, qformOnly: 0 };
  for (const path of files) {
    const expected = oracle[path]!;
    assert.equal(expected.error, undefined, `nibabel cannot read ${path}: ${expected.error}`);
    const image = await readNiftiFile(path);
    const { header } = image;
    assertHeaderEqual(header, expected, path);
    assert.equal(header.littleEndian, expected.littleEndian, `${path}: byte order`);
    assertExtensionsEqual(header, expected, path);
    assert.deepEqual(niftiShape(header), expected.shape, `${path}: shape`);
    assertAffine(niftiAffine(header), expected.affine, path);
    assert.equal(voxelSha256(image), expected.sha256, `${path}: voxels differ`);
    // nibabel's slope / inter and its float64 view of the true values.
    const scaling = scalingOf(header) ?? { slope: 1, inter: 0 };
    assert.equal(encodeNumber(scaling.slope), expected.slope, `${path}: slope`);
    assert.equal(encodeNumber(scaling.inter), expected.inter, `${path}: inter`);
    if (expected.scaledSha256) assert.equal(sha256(applyScaling(image)), expected.scaledSha256, `${path}: scaled`);
    seen.compared++;
    if (!header.littleEndian) seen.bigEndian++;
    if (header.version === 2) seen.nifti2++;
    if (header.extensions.length > 0) seen.extensions++;
    if (scalingOf(header)) seen.scaled++;
    if (header.sformCode === 0 && header.qformCode !== 0) seen.qformOnly++;
  }
  t.diagnostic(`${seen.compared} files equal nibabel (${examples.length} nibabel examples): ${JSON.stringify(seen)}`);
  assert.ok(seen.compared >= 140, 'the corpus and the nibabel examples hold at least 140 NIfTI files');
  assert.ok(seen.bigEndian >= 3 && seen.nifti2 >= 2 && seen.extensions >= 2, 'the edge cases were met');
});

test('.hdr headers of pairs (nibabel nifti1.hdr / nifti2.hdr): header fields and affine equal nibabel', async (t) => {
  if (!requireNibabel(t)) return;
  const files = nibabelExamples(/^nifti[12]\.hdr$/);
  assert.equal(files.length, 2);
  const oracle = nibabel(files);
  for (const path of files) {
    const expected = oracle[path]!;
    const header = readNiftiHeader(new Uint8Array(readFileSync(path)));
    assertHeaderEqual(header, expected, path);
    assertExtensionsEqual(header, expected, path);
    assertAffine(niftiAffine(header), expected.affine, path);
  }
});

test('datatype table: bitpix and samples per voxel as nifti1.h defines them', () => {
  assert.equal(datatypeInfo(DataType.RGB24).bitpix, 24);
  assert.equal(datatypeInfo(DataType.RGB24).samples, 3);
  assert.equal(datatypeInfo(DataType.RGBA32).bitpix, 32);
  assert.equal(datatypeInfo(DataType.COMPLEX64).bitpix, 64);
  assert.equal(datatypeInfo(DataType.COMPLEX128).bitpix, 128);
  assert.equal(datatypeInfo(DataType.INT64).array, BigInt64Array);
  assert.equal(datatypeInfo(DataType.UINT64).array, BigUint64Array);
  assert.throws(() => datatypeInfo(DataType.FLOAT128), { code: 'NIFTI_UNSUPPORTED_DATATYPE' });
  assert.throws(() => datatypeInfo(DataType.BINARY), { code: 'NIFTI_UNSUPPORTED_DATATYPE' });
  assert.throws(() => datatypeInfo(3), { code: 'NIFTI_UNSUPPORTED_DATATYPE' });
});
