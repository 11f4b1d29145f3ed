/** Reading: every NIfTI of the corpus and nibabel's example files reads exactly as nibabel reads it. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { corpus, listFiles, python } from '../../support/env.ts';
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

test('big-endian files of every datatype written by nibabel (NIfTI-1 and -2, .nii and .nii.gz) read like nibabel', async (t) => {
  if (!requireNibabel(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'medvox-nifti-be-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const script = `
import sys
import numpy as np
import nibabel as nib
out = sys.argv[1]
rgb = np.dtype([("R", "u1"), ("G", "u1"), ("B", "u1")])
types = ["u1", "i1", "i2", "u2", "i4", "u4", "i8", "u8", "f4", "f8", "c8", "c16", "rgb"]
affine = np.array([[0, 0, 2.5, -40], [-1.1, 0, 0, 60], [0, 0.9, 0, -30], [0, 0, 0, 1]])
for version, klass in ((1, nib.Nifti1Image), (2, nib.Nifti2Image)):
    for i, code in enumerate(types):
        dtype = rgb if code == "rgb" else np.dtype(">" + code)
        values = (np.arange(5 * 4 * 3 * 2) * 37 % 251 - 90).reshape(5, 4, 3, 2)
        if code == "rgb":
            data = np.zeros((5, 4, 3, 2), dtype=rgb)
            data["R"], data["G"], data["B"] = values % 256, (values * 3) % 256, (values * 7) % 256
        else:
            data = (values * 1.5 if code[0] in "fc" else values % 128 if code[0] == "u" else values).astype(dtype)
        header = klass.header_class(endianness=">")
        header.set_data_dtype(dtype)
        img = klass(data, affine, header)
        img.header.set_slope_inter(*((2.0, -1.0) if i % 2 else (1.0, 0.0)))
        img.header["descrip"] = b"big endian " + code.encode()
        img.to_filename(f"{out}/be{version}_{code}.nii" + (".gz" if i % 3 == 0 else ""))
`;
  python(script, [dir]);
  const files = listFiles(dir);
  assert.equal(files.length, 26);
  const oracle = nibabel(files);
  let scaled = 0;
  for (const path of files) {
    const expected = oracle[path]!;
    assert.equal(expected.error, undefined, `${path}: ${expected.error}`);
    assert.equal(expected.littleEndian, false, `${path}: nibabel wrote big endian`);
    const image = await readNiftiFile(path);
    assert.equal(image.header.littleEndian, false);
    assertHeaderEqual(image.header, expected, path);
    assertAffine(niftiAffine(image.header), expected.affine, path);
    assert.equal(voxelSha256(image), expected.sha256, `${path}: voxels differ`);
    if (expected.scaledSha256) {
      assert.equal(sha256(applyScaling(image)), expected.scaledSha256, `${path}: scaled`);
      scaled++;
    }
  }
  t.diagnostic(`${files.length} big-endian files equal nibabel (${scaled} with scl_slope / scl_inter)`);
  assert.ok(scaled >= 10);
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
