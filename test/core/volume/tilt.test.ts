/** The `_Tilt` derived volume: a gantry-tilted phantom resampled onto an orthogonal grid keeps its anatomy in place. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { apply, column, cross, dot, normalize, type Vec3 } from '../../../src/core/geometry/affine.ts';
import { makePhantomSeries, phantomMarkers } from '../../../src/core/phantom/index.ts';
import { assembleVolumes, correctTilt, type Volume, volumeToNifti } from '../../../src/core/volume/index.ts';
import { loadDicomInputs } from '../../../src/io/load-dicom.ts';
import { writeNiftiFile } from '../../../src/io/nifti-file.ts';
import { corpus, debianPython, requirePeers } from '../../support/env.ts';
import { compareInPatientSpace } from '../../support/nibabel.ts';

function centroidAbove(volume: Volume, threshold: number, below = Number.POSITIVE_INFINITY): Vec3 {
  const [nx, ny, nz] = volume.dims;
  const sum: Vec3 = [0, 0, 0];
  let count = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const value = Number(volume.data[(k * ny + j) * nx + i]);
        if (value <= threshold || value >= below) continue;
        const p = apply(volume.affineLPS, [i, j, k]);
        sum[0] += p[0];
        sum[1] += p[1];
        sum[2] += p[2];
        count++;
      }
    }
  }
  assert.ok(count > 0);
  return [sum[0] / count, sum[1] / count, sum[2] / count];
}

test('a tilted stack is resampled to an orthogonal grid with its markers in place', async () => {
  const files = makePhantomSeries({ slices: 40, modality: 'MR', tiltDegrees: 20 });
  const tilted = (await assembleVolumes(files)).volumes[0]!;
  const tilt = tilted.warnings.find((w) => w.kind === 'GANTRY_TILT');
  assert.ok(tilt && tilt.kind === 'GANTRY_TILT' && Math.abs(tilt.angleDegrees - 20) < 0.01);
  const corrected = correctTilt(tilted);
  assert.ok(corrected);
  assert.deepEqual(corrected.warnings, []);
  // Orthogonal: the slice axis is the normal of the image plane.
  const a = corrected.affineLPS;
  const normal = normalize(cross(column(a, 0), column(a, 1)));
  assert.ok(Math.abs(Math.abs(dot(normalize(column(a, 2)), normal)) - 1) < 1e-9);
  assert.ok(corrected.dims[1] > tilted.dims[1], 'the grid grows to hold the sheared slab');
  const markers = phantomMarkers();
  for (const [threshold, below, expected] of [
    [900, Number.POSITIVE_INFINITY, markers.A],
    [495, 505, markers.B],
  ] as const) {
    const found = centroidAbove(corrected, threshold, below);
    const distance = Math.hypot(found[0] - expected[0], found[1] - expected[1], found[2] - expected[2]);
    assert.ok(distance < 3, `marker at ${found.map((v) => v.toFixed(1))}, expected ${expected}`);
  }
});

test('an untilted stack has no _Tilt volume', async () => {
  const volume = (await assembleVolumes(makePhantomSeries({ slices: 6 }))).volumes[0]!;
  assert.equal(correctTilt(volume), undefined);
});

test("the corpus tilted CT gives dcm2niix's _Tilt grid, and the same voxels up to its integer rounding", async (t) => {
  if (!requirePeers(t, 'dcm2niix', debianPython)) return;
  const dir = mkdtempSync(join(tmpdir(), 'medvox-tilt-'));
  try {
    const input = corpus('ct/siemens_somatom_gantry_tilt_4sl/dicom');
    spawnSync('dcm2niix', ['-z', 'n', '-f', 'ref', '-o', dir, input], { stdio: 'ignore' });
    const reference = readdirSync(dir).find((name) => name.includes('_Tilt') && name.endsWith('.nii'));
    assert.ok(reference, 'dcm2niix wrote a _Tilt volume');
    const { files } = await loadDicomInputs([input]);
    const corrected = correctTilt((await assembleVolumes(files)).volumes[0]!)!;
    const ours = join(dir, 'medvox_Tilt.nii');
    await writeNiftiFile(ours, volumeToNifti(corrected));
    const [comparison] = compareInPatientSpace([[ours, join(dir, reference)]]);
    assert.deepEqual(comparison!.shape_ours, comparison!.shape_ref);
    assert.ok(comparison!.max_affine_diff < 1e-3, `affine differs by ${comparison!.max_affine_diff}`);
    // dcm2niix stores the interpolated values as integers; medvox keeps them as float32.
    assert.ok(comparison!.max_voxel_diff! <= 1, `voxels differ by ${comparison!.max_voxel_diff}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
