/**
 * Orientation survives NIfTI -> DICOM -> NIfTI: the asymmetric phantom stored in 8 voxel axis orders (the orders of
 * corpus nifti/niivue_orientation_permutations: RAS, LAS, LPS, LPI, ASL, PIR, IRP, SLA), and every file of that
 * corpus folder, become a new DICOM series (no sidecar) and come back through medvox's converter with the same
 * world coordinates, checked by nibabel in patient space (voxels identical, affines within 1e-4 mm).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type Mat4, multiply, type Vec3 } from '../../src/core/geometry/affine.ts';
import { emptyHeader, setAffine } from '../../src/core/nifti/index.ts';
import { phantomValue } from '../../src/core/phantom/index.ts';
import { writeNiftiFile } from '../../src/io/nifti-file.ts';
import { dicomToNifti } from '../../src/ops/dicom-to-nifti.ts';
import { niftiToDicom } from '../../src/ops/nifti-to-dicom.ts';
import { corpus, debianPython, requirePeers } from '../support/env.ts';
import { compareInPatientSpace } from '../support/nibabel.ts';

const outRoot = mkdtempSync(join(tmpdir(), 'medvox-orient-'));
after(() => rmSync(outRoot, { recursive: true, force: true }));

const ORDERS = ['RAS', 'LAS', 'LPS', 'LPI', 'ASL', 'PIR', 'IRP', 'SLA'];
/** Canonical RAS grid of the phantom: 24 x 28 x 20 voxels of 4 x 3.5 x 4.5 mm (anisotropic, non-cubic: flips show). */
const DIMS: Vec3 = [24, 28, 20];
const SPACING: Vec3 = [4, 3.5, 4.5];
const ORIGIN: Vec3 = [-46, -47.25, -42.75];

/** The phantom with voxel axes in `order` (e.g. 'ASL': i runs to Anterior, j to Superior, k to Left). */
function phantomIn(order: string): { dims: number[]; data: Int16Array; affine: Mat4 } {
  const axes = [...order].map((letter) => {
    const axis = 'RL'.includes(letter) ? 0 : 'AP'.includes(letter) ? 1 : 2;
    return { axis, sign: 'RAS'.includes(letter) ? 1 : -1 };
  });
  const dims = axes.map(({ axis }) => DIMS[axis]!);
  // RAS index of new voxel (i0, i1, i2).
  const rasIndex = (index: number[]): number[] => {
    const ras = [0, 0, 0];
    axes.forEach(({ axis, sign }, n) => {
      ras[axis] = sign > 0 ? index[n]! : DIMS[axis]! - 1 - index[n]!;
    });
    return ras;
  };
  const data = new Int16Array(dims[0]! * dims[1]! * dims[2]!);
  for (let k = 0; k < dims[2]!; k++) {
    for (let j = 0; j < dims[1]!; j++) {
      for (let i = 0; i < dims[0]!; i++) {
        const [x, y, z] = rasIndex([i, j, k]).map((v, a) => ORIGIN[a]! + v * SPACING[a]!) as Vec3;
        data[(k * dims[1]! + j) * dims[0]! + i] = phantomValue([-x, -y, z]); // RAS -> LPS
      }
    }
  }
  // Column n of the affine: the RAS step of new axis n; translation: the world position of voxel (0, 0, 0).
  // Row-major 4x4: RAS voxel -> world, and new voxel -> RAS voxel.
  const rasAffine: Mat4 = [
    SPACING[0],
    0,
    0,
    ORIGIN[0],
    0,
    SPACING[1],
    0,
    ORIGIN[1],
    0,
    0,
    SPACING[2],
    ORIGIN[2],
    0,
    0,
    0,
    1,
  ];
  const toRas: Mat4 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
  axes.forEach(({ axis, sign }, n) => {
    toRas[axis * 4 + n] = sign;
    toRas[axis * 4 + 3] = sign > 0 ? 0 : DIMS[axis]! - 1;
  });
  return { dims, data, affine: multiply(rasAffine, toRas) };
}

async function roundTrip(input: string, name: string): Promise<string> {
  const dicom = await niftiToDicom({
    inputs: [input],
    outputDir: join(outRoot, name, 'dicom'),
    newSeries: { modality: 'CT', patientName: 'Orientation^Test', patientId: name },
  });
  assert.deepEqual(
    dicom.errors.map((e) => e.describe()),
    [],
    name,
  );
  assert.equal(dicom.series[0]!.maxQuantisationError, 0, `${name}: integer voxels kept exactly`);
  const back = await dicomToNifti({ inputs: [dicom.series[0]!.outputDir], outputDir: join(outRoot, name, 'back') });
  assert.equal(back.outputs.length, 1, `${name}: one volume back`);
  return back.outputs[0]!.nifti;
}

test('the asymmetric phantom in 8 axis orders survives NIfTI -> DICOM -> NIfTI in world coordinates', async (t) => {
  if (!requirePeers(t, debianPython)) return;
  const pairs: Array<[string, string]> = [];
  for (const order of ORDERS) {
    const { dims, data, affine } = phantomIn(order);
    const header = setAffine(
      { ...emptyHeader(1), datatype: 4, dim: [3, dims[0]!, dims[1]!, dims[2]!, 1, 1, 1, 1] },
      affine,
    );
    const input = join(outRoot, `phantom_${order}.nii.gz`);
    await writeNiftiFile(input, { header, data });
    pairs.push([await roundTrip(input, `phantom_${order}`), input]);
  }
  compareInPatientSpace(pairs).forEach((c, index) => {
    assert.ok(c.same_voxels, `${ORDERS[index]}: voxels differ (${c.max_voxel_diff})`);
    assert.ok(c.max_affine_diff < 1e-4, `${ORDERS[index]}: affine differs by ${c.max_affine_diff} mm`);
  });
  // The orders really differ on disk (the same anatomy, other voxel layouts), and the markers are there.
  const layouts = new Set(ORDERS.map((order) => Buffer.from(phantomIn(order).data.buffer).toString('base64')));
  assert.equal(layouts.size, ORDERS.length, 'eight different voxel layouts');
  assert.ok(phantomIn('RAS').data.includes(1000) && phantomIn('RAS').data.includes(500), 'both markers present');
});

test('every corpus orientation permutation survives NIfTI -> DICOM -> NIfTI in world coordinates', async (t) => {
  if (!requirePeers(t, debianPython)) return;
  const folder = corpus('nifti/niivue_orientation_permutations');
  const names = readdirSync(folder).filter((name) => name.endsWith('.nii.gz'));
  assert.ok(names.length >= 8, `${names.length} permutations`);
  const pairs: Array<[string, string]> = [];
  for (const name of names)
    pairs.push([await roundTrip(join(folder, name), name.replace(/\W+/g, '_')), join(folder, name)]);
  compareInPatientSpace(pairs).forEach((c, index) => {
    const tolerance = 1e-6;
    assert.ok(
      c.same_voxels || (c.max_voxel_diff !== null && c.max_voxel_diff <= tolerance),
      `${names[index]}: voxels differ (${c.max_voxel_diff})`,
    );
    assert.ok(c.max_affine_diff < 1e-4, `${names[index]}: affine differs by ${c.max_affine_diff} mm`);
  });
  t.diagnostic(`${names.length} permutations: ${names.join(', ')}`);
});
