/** Writing: what medvox writes, nibabel reads back identical (header fields, extensions, affine, voxels). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, test } from 'node:test';
import {
  applyScaling,
  DataType,
  datatypeInfo,
  emptyHeader,
  type NiftiHeader,
  type NiftiImage,
  type NiftiVoxels,
  niftiAffine,
  setAffine,
} from '../../../src/core/nifti/index.ts';
import { readNiftiFile, writeNiftiFile } from '../../../src/io/nifti-file.ts';
import { corpus, listFiles } from '../../support/env.ts';
import {
  assertAffine,
  assertExtensionsEqual,
  assertHeaderEqual,
  nibabel,
  nibabelExamples,
  requireNibabel,
  sha256,
  voxelSha256,
} from './support.ts';

const outDir = mkdtempSync(join(tmpdir(), 'medvox-nifti-write-'));
after(() => rmSync(outDir, { recursive: true, force: true }));

/** Values covering each type's range, its extremes and (floats) the non-finite ones. */
const makers: Array<[number, (n: number) => NiftiVoxels]> = [
  [DataType.UINT8, (n) => Uint8Array.from({ length: n }, (_, i) => (i * 37) % 256)],
  [DataType.INT8, (n) => Int8Array.from({ length: n }, (_, i) => ((i * 37) % 256) - 128)],
  [DataType.INT16, (n) => Int16Array.from({ length: n }, (_, i) => (i === 0 ? -32768 : ((i * 7919) % 65536) - 32768))],
  [DataType.UINT16, (n) => Uint16Array.from({ length: n }, (_, i) => (i === 1 ? 65535 : (i * 7919) % 65536))],
  [DataType.INT32, (n) => Int32Array.from({ length: n }, (_, i) => (i === 0 ? -(2 ** 31) : i * 1_000_003 - 2e8))],
  [DataType.UINT32, (n) => Uint32Array.from({ length: n }, (_, i) => (i === 0 ? 2 ** 32 - 1 : i * 2_654_435))],
  [
    DataType.FLOAT32,
    (n) => Float32Array.from({ length: n }, (_, i) => [Number.NaN, -Infinity][i] ?? Math.sin(i) * 1e3),
  ],
  [DataType.FLOAT64, (n) => Float64Array.from({ length: n }, (_, i) => [Infinity, -0][i] ?? Math.cos(i) / 3)],
  [
    DataType.INT64,
    (n) => BigInt64Array.from({ length: n }, (_, i) => (i === 0 ? -(2n ** 63n) : BigInt(i) * 10n ** 15n)),
  ],
  [DataType.UINT64, (n) => BigUint64Array.from({ length: n }, (_, i) => (i === 0 ? 2n ** 64n - 1n : BigInt(i) << 40n))],
  [DataType.RGB24, (n) => Uint8Array.from({ length: n * 3 }, (_, i) => (i * 11) % 256)],
  [DataType.RGBA32, (n) => Uint8Array.from({ length: n * 4 }, (_, i) => (i * 13) % 256)],
  [DataType.COMPLEX64, (n) => Float32Array.from({ length: n * 2 }, (_, i) => (i % 2 ? -i : i) / 7)],
  [DataType.COMPLEX128, (n) => Float64Array.from({ length: n * 2 }, (_, i) => Math.sqrt(i) * (i % 2 ? 1 : -1))],
];

/** Rotation about x, then y, then z (radians), scaled per column, with a translation: rows of a 3x4 affine. */
function rigid(ax: number, ay: number, az: number, zooms: number[], offset: number[]): number[] {
  const [cx, sx, cy, sy, cz, sz] = [Math.cos(ax), Math.sin(ax), Math.cos(ay), Math.sin(ay), Math.cos(az), Math.sin(az)];
  const r = [
    [cz * cy, cz * sy * sx - sz * cx, cz * sy * cx + sz * sx],
    [sz * cy, sz * sy * sx + cz * cx, sz * sy * cx - cz * sx],
    [-sy, cy * sx, cy * cx],
  ];
  return [...r.flatMap((row, i) => [...row.map((v, j) => v * zooms[j]!), offset[i]!]), 0, 0, 0, 1];
}

const affines: Array<[string, number[]]> = [
  ['oblique', rigid(0.3, -0.2, 0.7, [0.9, 0.95, 2.5], [-100, 20.5, 33])],
  // Left-handed (qfac -1), a 180-degree rotation (quaternion a = 0).
  ['flipped', [-0.8, 0, 0, 90, 0, 0.8, 0, -120, 0, 0, -3, 60, 0, 0, 0, 1]],
  // Sheared (gantry tilt): sform only, qform_code 0.
  ['sheared', [0.5, 0, 0, -128, 0, 0.47, 0.3, -100, 0, -0.16, 0.95, 40, 0, 0, 0, 1]],
];

/** A header with every field away from its default, so that a field written to the wrong place shows. */
function richHeader(version: 1 | 2, datatype: number, dims: number[], affine: number[]): NiftiHeader {
  const header: NiftiHeader = {
    ...emptyHeader(version),
    datatype,
    dim: [dims.length, ...dims, ...new Array(7 - dims.length).fill(1)],
    pixdim: [1, 1, 1, 1, 2.5, 1, 1, 1],
    dimInfo: 1 | (2 << 2) | (3 << 4),
    intentCode: 1002,
    intentName: 'labels v2',
    intentP1: 0.25,
    intentP2: -7,
    intentP3: 1e-3,
    sliceStart: 1,
    sliceEnd: dims[2]! - 2,
    sliceCode: 4,
    sliceDuration: 0.0625,
    xyztUnits: 2 | 16,
    calMin: -1000,
    calMax: 3000.5,
    toffset: -1.25,
    sclSlope: 1.5,
    sclInter: -3,
    descrip: 'medvox écrit \u00ff',
    auxFile: 'lut.txt',
  };
  return setAffine(header, affine, 2);
}

/** The header nibabel must see in the written file: ours with the writer's vox_offset / bitpix, float32 in v1. */
function asWritten(header: NiftiHeader, voxOffset: number): NiftiHeader {
  const float = header.version === 1 ? Math.fround : (value: number) => value;
  const floats = new Set(['intentP1', 'intentP2', 'intentP3', 'sliceDuration', 'sclSlope', 'sclInter', 'calMax']);
  ['calMin', 'toffset', 'quaternB', 'quaternC', 'quaternD', 'qoffsetX', 'qoffsetY', 'qoffsetZ'].forEach((name) => {
    floats.add(name);
  });
  const out: Record<string, unknown> = { ...header, voxOffset, bitpix: datatypeInfo(header.datatype).bitpix };
  for (const name of floats) out[name] = float(out[name] as number);
  for (const name of ['pixdim', 'srowX', 'srowY', 'srowZ']) out[name] = (out[name] as number[]).map(float);
  return out as unknown as NiftiHeader;
}

test('every datatype, NIfTI-1 and NIfTI-2, .nii and .nii.gz: nibabel reads back the same header, affine, voxels', async (t) => {
  if (!requireNibabel(t)) return;
  const written: Array<{ path: string; image: NiftiImage; affine: number[]; sheared: boolean }> = [];
  let index = 0;
  for (const version of [1, 2] as const) {
    for (const gzip of [false, true]) {
      for (const [datatype, make] of makers) {
        const [name, affine] = affines[index++ % affines.length]!;
        const dims = [7, 5, 4, 2];
        const header = richHeader(version, datatype, dims, affine);
        const image: NiftiImage = { header, data: make(7 * 5 * 4 * 2) };
        const path = join(outDir, `v${version}_${datatypeInfo(datatype).name}_${name}.nii${gzip ? '.gz' : ''}`);
        await writeNiftiFile(path, image);
        written.push({ path, image, affine, sheared: name === 'sheared' });
      }
    }
  }
  const oracle = nibabel(written.map((w) => w.path));
  for (const { path, image, affine, sheared } of written) {
    const expected = oracle[path]!;
    assert.equal(expected.error, undefined, `${path}: ${expected.error}`);
    const reread = await readNiftiFile(path);
    assertHeaderEqual(reread.header, expected, path);
    const voxOffset = image.header.version === 1 ? 352 : 544;
    assertHeaderEqual(asWritten(image.header, voxOffset), expected, `${path} (as intended)`);
    assert.equal(expected.header.qformCode, sheared ? 0 : 2, `${path}: qform_code`);
    assertAffine(affine, expected.affine, path);
    assertAffine(niftiAffine(reread.header), expected.affine, `${path} (medvox re-read)`);
    assert.equal(expected.sha256, voxelSha256(image), `${path}: voxels differ`);
    assert.equal(voxelSha256(reread), voxelSha256(image), `${path}: medvox re-read voxels differ`);
    if (expected.scaledSha256) assert.equal(sha256(applyScaling(reread)), expected.scaledSha256, `${path}: scaled`);
  }
  t.diagnostic(`${written.length} written files read back by nibabel (${makers.length} datatypes x 2 versions x 2)`);
});

test('extensions are kept on write, vox_offset grows by their padded size', async (t) => {
  if (!requireNibabel(t)) return;
  const text = new TextEncoder().encode('{"Modality": "MR", "EchoTime": 0.03}'); // 36 bytes -> esize 48
  const header: NiftiHeader = {
    ...richHeader(1, DataType.INT16, [4, 3, 2], affines[0]![1]),
    extensions: [
      { code: 6, data: new TextEncoder().encode('a comment') },
      { code: 44, data: text },
    ],
  };
  const image: NiftiImage = { header, data: Int16Array.from({ length: 24 }, (_, i) => i - 12) };
  const paths = [join(outDir, 'ext_v1.nii'), join(outDir, 'ext_v2.nii.gz')];
  await writeNiftiFile(paths[0]!, image);
  await writeNiftiFile(paths[1]!, image, { version: 2 });
  const oracle = nibabel(paths);
  for (const [i, path] of paths.entries()) {
    const expected = oracle[path]!;
    assert.equal(expected.error, undefined, `${path}: ${expected.error}`);
    assert.equal(expected.header.voxOffset, (i === 0 ? 352 : 544) + 32 + 48);
    const reread = await readNiftiFile(path);
    assertExtensionsEqual(reread.header, expected, path);
    assertExtensionsEqual(header, expected, `${path} (as intended)`);
    assert.equal(expected.sha256, voxelSha256(image));
  }
});

test('round trip of real files: corpus and nibabel examples re-written as NIfTI-1 and NIfTI-2 read like the source', async (t) => {
  if (!requireNibabel(t)) return;
  // One file per corpus folder (the 104 masks of one case add nothing) and every nibabel example.
  const byFolder = new Map<string, string>();
  for (const path of listFiles(corpus()).filter((p) => /\.nii(\.gz)?$/.test(p))) {
    if (!byFolder.has(dirname(path))) byFolder.set(dirname(path), path);
  }
  const sources = [...byFolder.values(), ...nibabelExamples(/\.nii(\.gz)?$/)];
  const pairs: Array<{ source: string; copy: string; version: 1 | 2 }> = [];
  for (const [i, source] of sources.entries()) {
    const image = await readNiftiFile(source);
    for (const version of [1, 2] as const) {
      const copy = join(outDir, `rt${i}_v${version}_${basename(source).replace(/\.gz$/, '')}`);
      await writeNiftiFile(copy, image, { version });
      pairs.push({ source, copy, version });
    }
  }
  const oracle = nibabel([...sources, ...pairs.map((pair) => pair.copy)]);
  for (const { source, copy, version } of pairs) {
    const before = oracle[source]!;
    const after = oracle[copy]!;
    assert.equal(after.error, undefined, `${copy}: ${after.error}`);
    const reread = await readNiftiFile(copy);
    assertHeaderEqual(reread.header, after, copy);
    // Every field of the source survives (vox_offset is the writer's; bitpix follows the datatype).
    const { voxOffset: _v1, bitpix: _b1, ...fields } = before.header;
    const { voxOffset: _v2, bitpix: _b2, ...fieldsAfter } = after.header;
    assert.deepEqual(fieldsAfter, fields, `${copy}: header fields of ${source}`);
    assert.equal(after.version, version);
    assert.deepEqual(
      after.extensions.map((e) => e.code),
      before.extensions.map((e) => e.code),
    );
    assertAffine(after.affine.flat(), before.affine, copy);
    assert.deepEqual(after.shape, before.shape);
    assert.equal(after.sha256, before.sha256, `${copy}: voxels differ from ${source}`);
  }
  t.diagnostic(`${sources.length} real files re-written as NIfTI-1 and NIfTI-2 (${pairs.length} files)`);
});
