/** Affines: qform <-> affine as nibabel computes them, and nibabel's choice of img.affine on unusual headers. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  affineFromQuatern,
  DataType,
  emptyHeader,
  type NiftiHeader,
  niftiAffine,
  quaternFromAffine,
  setAffine,
} from '../../../src/core/nifti/index.ts';
import { readNiftiFile, writeNiftiFile } from '../../../src/io/nifti-file.ts';
import { python } from '../../support/env.ts';
import { assertAffine, nibabel, requireNibabel } from './support.ts';

const outDir = mkdtempSync(join(tmpdir(), 'medvox-nifti-affine-'));
after(() => rmSync(outDir, { recursive: true, force: true }));

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random rotation (from a random unit quaternion) times zooms, optional flip and shear, plus a translation. */
function randomAffine(next: () => number, flip: boolean, shear: number): number[] {
  let q = [next() - 0.5, next() - 0.5, next() - 0.5, next() - 0.5];
  const norm = Math.hypot(...q);
  q = q.map((v) => v / norm);
  const [a, b, c, d] = q as [number, number, number, number];
  const r = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - b * b - c * c],
  ];
  const zooms = [0.3 + 3 * next(), 0.3 + 3 * next(), (flip ? -1 : 1) * (0.5 + 5 * next())];
  const out: number[] = [];
  for (let i = 0; i < 3; i++) {
    // Shear: column 2 leans along column 1 by `shear`.
    const row = r[i]!;
    out.push(row[0]! * zooms[0]!, row[1]! * zooms[1]!, (row[2]! + shear * row[1]!) * zooms[2]!, 200 * next() - 100);
  }
  return [...out, 0, 0, 0, 1];
}

const special: number[][] = [
  [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1],
  [-1, 0, 0, 90, 0, 1, 0, -126, 0, 0, 1, -72, 0, 0, 0, 1], // MNI-like, left-handed
  [-0.8, 0, 0, 90, 0, 0.8, 0, -120, 0, 0, -3, 60, 0, 0, 0, 1], // 180 degrees about y (a = 0)
  [1, 0, 0, 0, 0, -1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1], // 180 degrees about x
  [0, 0, 2, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], // permutation (sagittal)
  [0, -0.5, 0, 0, 0, 0, -3, 0, 1.5, 0, 0, 0, 0, 0, 0, 1], // permutation with flips
];

test('quaternFromAffine / affineFromQuatern equal nibabel set_qform / get_qform (rigid, flipped, sheared)', (t) => {
  if (!requireNibabel(t)) return;
  const next = random(42);
  const cases = [...special];
  for (let i = 0; i < 40; i++) cases.push(randomAffine(next, i % 2 === 1, i % 4 >= 2 ? 0.05 + next() * 0.3 : 0));
  const script = `
import json, sys
import numpy as np
import nibabel as nib
out = []
for a in json.load(sys.stdin):
    hdr = nib.Nifti2Header()  # float64 fields: compare the algorithm, not float32 rounding
    hdr.set_qform(np.array(a).reshape(4, 4), code=1)
    out.append({"pixdim": hdr["pixdim"][:4].tolist(), "bcd": [float(hdr[k]) for k in ("quatern_b", "quatern_c", "quatern_d")],
                "offset": [float(hdr[k]) for k in ("qoffset_x", "qoffset_y", "qoffset_z")], "qform": hdr.get_qform().tolist()})
json.dump(out, sys.stdout)`;
  const expected = JSON.parse(python(script, [], JSON.stringify(cases))) as Array<{
    pixdim: number[];
    bcd: number[];
    offset: number[];
    qform: number[][];
  }>;
  cases.forEach((affine, i) => {
    const theirs = expected[i]!;
    const quatern = quaternFromAffine(affine);
    const where = `case ${i} [${affine.join(', ')}]`;
    assert.equal(quatern.qfac, theirs.pixdim[0], `${where}: qfac`);
    quatern.zooms.forEach((zoom, j) => {
      assert.ok(Math.abs(zoom - theirs.pixdim[j + 1]!) < 1e-12 * zoom, `${where}: zoom ${j}`);
    });
    assert.deepEqual(quatern.offset, theirs.offset, `${where}: offset`);
    // The quaternion is unique up to sign only when a = 0 (180 degrees): compare b, c, d then through the matrix.
    const a = Math.sqrt(Math.max(0, 1 - quatern.quaternB ** 2 - quatern.quaternC ** 2 - quatern.quaternD ** 2));
    if (a > 1e-6) {
      [quatern.quaternB, quatern.quaternC, quatern.quaternD].forEach((value, j) => {
        assert.ok(
          Math.abs(value - theirs.bcd[j]!) < 1e-9,
          `${where}: quatern ${'bcd'[j]} ${value} vs ${theirs.bcd[j]}`,
        );
      });
    }
    const header = setAffine(emptyHeader(2), affine);
    assertAffine(affineFromQuatern(header), theirs.qform, `${where}: qform`);
  });
  t.diagnostic(`${cases.length} affines (${special.length} special, 20 sheared) decomposed as nibabel does`);
});

test('a rigid affine survives qform encoding; a sheared one gets qform_code 0; a singular one is refused', () => {
  const next = random(7);
  for (let i = 0; i < 50; i++) {
    const affine = randomAffine(next, i % 2 === 0, 0);
    const header = setAffine(emptyHeader(2), affine);
    assert.equal(header.qformCode, 1);
    affineFromQuatern(header).forEach((value, j) => {
      assert.ok(Math.abs(value - affine[j]!) < 1e-9, `affine ${i}[${j}]`);
    });
  }
  assert.equal(setAffine(emptyHeader(1), randomAffine(next, false, 0.2)).qformCode, 0);
  assert.throws(() => quaternFromAffine([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), {
    code: 'NIFTI_BAD_HEADER',
  });
  assert.throws(() => quaternFromAffine([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]), {
    code: 'NIFTI_BAD_HEADER',
  });
});

/** Headers on which nibabel's choice of img.affine has rules beyond "sform, else qform". */
function unusualHeaders(): Array<[string, NiftiHeader]> {
  const rigid: number[] = [0, 0, 2.2, -80, -0.9, 0, 0, 110, 0, 1.1, 0, -60, 0, 0, 0, 1];
  const base = setAffine({ ...emptyHeader(1), dim: [3, 6, 5, 4, 1, 1, 1, 1], datatype: DataType.UINT8 }, rigid);
  const qformOnly = { ...base, sformCode: 0, srowX: [9, 9, 9, 9] };
  return [
    ['sform and qform (different)', { ...base, srowX: [1.5, 0, 0, -3] }],
    ['qform only', qformOnly],
    ['qform, sform_code 7 (invalid: reset to 0)', { ...qformOnly, sformCode: 7 }],
    ['qform, sform_code -1 (invalid)', { ...qformOnly, sformCode: -1 }],
    ['qfac 0 (treated as 1)', { ...qformOnly, pixdim: [0, ...qformOnly.pixdim.slice(1)] }],
    ['qfac 0.5 (treated as 1)', { ...qformOnly, pixdim: [0.5, ...qformOnly.pixdim.slice(1)] }],
    ['negative pixdim', { ...qformOnly, pixdim: [-1, -2.2, 0.9, -1.1, 1, 1, 1, 1] }],
    ['zero pixdim', { ...qformOnly, pixdim: [1, 0, 0.9, 0, 1, 1, 1, 1] }],
    ['quatern |bcd| = 1 + epsilon (a = 0)', { ...qformOnly, quaternB: 1, quaternC: 0, quaternD: 0 }],
    ['no transform, 3D', { ...base, sformCode: 0, qformCode: 0, pixdim: [1, 0.7, 0.8, 3, 1, 1, 1, 1] }],
    ['no transform, 4D', { ...base, sformCode: 0, qformCode: 0, dim: [4, 6, 5, 2, 2, 1, 1, 1] }],
    ['no transform, 2D', { ...base, sformCode: 0, qformCode: 0, dim: [2, 6, 20, 1, 1, 1, 1, 1] }],
    ['no transform, 1D', { ...base, sformCode: 0, qformCode: 0, dim: [1, 120, 1, 1, 1, 1, 1, 1] }],
    [
      'no transform, negative and zero pixdim',
      { ...base, sformCode: 0, qformCode: 0, pixdim: [1, -2, 0, 3, 1, 1, 1, 1] },
    ],
    ['qform_code 0, sform_code 3', { ...base, qformCode: 0, sformCode: 3 }],
  ];
}

test("niftiAffine is nibabel's img.affine on unusual headers (codes, qfac, pixdim, rank), NIfTI-1 and -2", async (t) => {
  if (!requireNibabel(t)) return;
  const files: Array<[string, string, NiftiHeader]> = [];
  for (const version of [1, 2] as const) {
    for (const [i, [name, header]] of unusualHeaders().entries()) {
      // Just past unit length, within 3 epsilons of the stored precision (float32 in NIfTI-1, float64 in NIfTI-2).
      if (name.startsWith('quatern')) header.quaternB = version === 1 ? Math.fround(1 + 2 ** -23) : 1 + 2 ** -52;
      const path = join(outDir, `unusual_v${version}_${i}.nii`);
      const count = header.dim.slice(1, header.dim[0]! + 1).reduce((a, b) => a * b, 1);
      await writeNiftiFile(path, { header: { ...header, version }, data: new Uint8Array(count) });
      files.push([name, path, { ...header, version }]);
    }
  }
  const oracle = nibabel(files.map(([, path]) => path));
  for (const [name, path, header] of files) {
    const expected = oracle[path]!;
    assert.equal(expected.error, undefined, `${name}: ${expected.error}`);
    assertAffine(niftiAffine((await readNiftiFile(path)).header), expected.affine, `${name} (v${header.version})`);
  }
  t.diagnostic(`${files.length} unusual headers give nibabel's affine`);
});

test('a quaternion beyond unit length (more than 3 epsilons) is an invalid header, as in nibabel', async (t) => {
  if (!requireNibabel(t)) return;
  const header = { ...unusualHeaders()[1]![1], quaternB: 1.001 };
  const path = join(outDir, 'bad_quaternion.nii');
  await writeNiftiFile(path, { header, data: new Uint8Array(120) });
  assert.match(nibabel([path])[path]!.error ?? '', /w2 should be positive/);
  assert.throws(() => niftiAffine(header), { code: 'NIFTI_BAD_HEADER' });
});
