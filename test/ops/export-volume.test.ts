/** NPZ export: numpy reads it; the asymmetric phantom gives the same, correctly oriented array in every orientation. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeDicom } from '../../src/core/dicom/writer.ts';
import { npyHeader } from '../../src/core/npz/npy.ts';
import { makePhantomSeries, type PhantomOrientation } from '../../src/core/phantom/index.ts';
import { exportVolume, parseNormalization } from '../../src/ops/export-volume.ts';
import { debianPython, python, requirePeers } from '../support/env.ts';

const outDir = mkdtempSync(join(tmpdir(), 'medvox-export-'));
after(() => rmSync(outDir, { recursive: true, force: true }));

/** The phantom on a 24^3 grid of 3 mm voxels centred on the origin: the same voxel centres in every orientation. */
function phantomDir(orientation: PhantomOrientation, seed = ''): string {
  const dir = join(outDir, `${orientation}${seed}`);
  mkdirSync(dir, { recursive: true });
  const files = makePhantomSeries({
    orientation,
    rows: 24,
    columns: 24,
    slices: 24,
    pixelSpacing: 3,
    sliceSpacing: 3,
    halfSize: 30,
    seed: `${orientation}${seed}`,
  });
  files.forEach((file, index) => {
    writeFileSync(join(dir, `${index}.dcm`), writeDicom(file));
  });
  return dir;
}

const ANALYSE = `
import json, sys
import numpy as np
out = {}
first = None
for path in sys.argv[1:]:
    archive = np.load(path)
    a = archive["data"]
    def centre(value):
        idx = np.argwhere(a == value)
        return idx.mean(axis=0).tolist() if len(idx) else None
    same = None if first is None else bool(np.array_equal(first, a))
    if first is None: first = a
    out[path] = {"files": archive.files, "dtype": str(a.dtype), "shape": list(a.shape), "A": centre(-24.0), "B": centre(-524.0),
                 "min": float(a.min()), "max": float(a.max()), "same_as_first": same}
print(json.dumps(out))
`;

interface Analysis {
  files: string[];
  dtype: string;
  shape: number[];
  A: number[] | null;
  B: number[] | null;
  min: number;
  max: number;
  same_as_first: boolean | null;
}

test('npy header: magic, version 1.0, 64-byte aligned dict', () => {
  const header = npyHeader('<f4', [20, 512, 512]);
  assert.equal(header.length % 64, 0);
  assert.deepEqual(Array.from(header.subarray(0, 8)), [0x93, 78, 85, 77, 80, 89, 1, 0]);
  const text = new TextDecoder().decode(header.subarray(10));
  assert.match(text, /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(20, 512, 512\), \} *\n$/);
});

test('phantom axial / coronal / sagittal: numpy reads the same [Z, Y, X] array, head first, L on the right, A on top', async (t) => {
  if (!requirePeers(t, debianPython)) return;
  const outputs: string[] = [];
  for (const orientation of ['axial', 'coronal', 'sagittal', 'oblique'] as const) {
    const output = join(outDir, `${orientation}.npz`);
    const result = await exportVolume({ input: [phantomDir(orientation)], format: 'npz', output });
    assert.deepEqual(result.shape, [24, 24, 24]);
    outputs.push(output);
  }
  const analysis = JSON.parse(python(ANALYSE, outputs)) as Record<string, Analysis>;
  for (const [path, a] of Object.entries(analysis)) {
    assert.deepEqual(a.files, ['data'], path);
    assert.equal(a.dtype, 'float32', path);
    assert.deepEqual(a.shape, [24, 24, 24]);
    // Real values: CT rescale intercept -1024 applied (air -1024, body -924, markers -24 and -524).
    assert.equal(a.min, -1024, path);
    assert.ok(a.A && a.B, `${path}: both markers present`);
    const [za, ya, xa] = a.A!;
    // Marker A is Left-Anterior-Superior: head half (small Z), top half (small Y), image right half (large X);
    // centres on the 24-voxel axes are 11.5 (the oblique phantom is rotated 20 degrees, so only halves are checked).
    assert.ok(za! < 11.5 && ya! < 11.5 && xa! > 11.5, `${path}: marker A at z,y,x = ${a.A}`);
    // Marker B is Right-Posterior at mid height: image left (small X), bottom (large Y), middle Z.
    const [zb, yb, xb] = a.B!;
    assert.ok(xb! < 11.5 && yb! > 11.5 && zb! > 6 && zb! < 17, `${path}: marker B at z,y,x = ${a.B}`);
  }
  const [axial, coronal, sagittal] = outputs.map((path) => analysis[path]!);
  assert.equal(coronal!.same_as_first, true, 'coronal = axial voxel for voxel');
  assert.equal(sagittal!.same_as_first, true, 'sagittal = axial voxel for voxel');
  assert.equal(axial!.same_as_first, null);
});

test('normalisation: window and minmax map into [0, 1], zscore centres; nifti format writes the volume', async (t) => {
  if (!requirePeers(t, debianPython)) return;
  const input = [phantomDir('axial', '-norm')];
  const outputs: string[] = [];
  for (const how of ['window:-924,200', 'minmax', 'zscore']) {
    const output = join(outDir, `norm-${how.replace(/[:,]/g, '_')}.npz`);
    const result = await exportVolume({ input, format: 'npz', output, normalize: parseNormalization(how) });
    assert.equal(result.normalization.kind, how.split(':')[0]);
    outputs.push(output);
  }
  const stats = JSON.parse(
    python(
      `import json, sys
import numpy as np
print(json.dumps([[float(np.load(p)["data"].min()), float(np.load(p)["data"].max()), float(np.load(p)["data"].mean())] for p in sys.argv[1:]]))`,
      outputs,
    ),
  ) as number[][];
  assert.deepEqual(stats[0]!.slice(0, 2), [0, 1]);
  assert.deepEqual(stats[1]!.slice(0, 2), [0, 1]);
  assert.ok(Math.abs(stats[2]![2]!) < 1e-5, `zscore mean ${stats[2]![2]}`);
  assert.throws(() => parseNormalization('window:40'), { code: 'USAGE' });
  assert.throws(() => parseNormalization('window:40,-1'), { code: 'USAGE' });

  const nifti = join(outDir, 'axial.nii.gz');
  const result = await exportVolume({ input, format: 'nifti', output: nifti });
  assert.deepEqual(result.shape, [24, 24, 24]);
  const shape = python(`import nibabel, sys; print(list(nibabel.load(sys.argv[1]).shape))`, [nifti]).trim();
  assert.equal(shape, '[24, 24, 24]');
});

test('several series in the input: a USAGE error naming them', async () => {
  const dir = join(outDir, 'two-series');
  mkdirSync(dir, { recursive: true });
  for (const orientation of ['axial', 'coronal'] as const) {
    makePhantomSeries({ orientation, rows: 8, columns: 8, slices: 4, seed: `two-${orientation}` }).forEach(
      (file, i) => {
        writeFileSync(join(dir, `${orientation}-${i}.dcm`), writeDicom(file));
      },
    );
  }
  await assert.rejects(
    exportVolume({ input: [dir], format: 'npz', output: join(outDir, 'two.npz') }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, 'USAGE');
      assert.match(error.message, /2 volumes/);
      return true;
    },
  );
});
