/** The `_Eq` derived volume: a stack with a missing slice resampled to equidistant slices in the right places. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apply } from '../../../src/core/geometry/affine.ts';
import { makePhantomSeries } from '../../../src/core/phantom/index.ts';
import { assembleVolumes, equaliseSpacing } from '../../../src/core/volume/index.ts';

test('a stack with a missing slice is resampled to the full equidistant stack', async () => {
  const complete = makePhantomSeries({ slices: 12, modality: 'MR' });
  const full = (await assembleVolumes(complete)).volumes[0]!;
  const gapped = (await assembleVolumes(complete.filter((_, index) => index !== 5))).volumes[0]!;
  const eq = equaliseSpacing(gapped);
  assert.ok(eq, 'uneven spacing gives an _Eq volume');
  assert.deepEqual(eq.dims, full.dims);
  assert.deepEqual(eq.warnings, []);
  // Same grid as the complete acquisition: every voxel centre in the same place.
  for (const corner of [
    [0, 0, 0],
    [63, 63, 11],
    [10, 50, 5],
  ]) {
    const a = apply(eq.affineLPS, corner);
    const b = apply(full.affineLPS, corner);
    assert.ok(Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]) < 1e-6, `voxel ${corner}`);
  }
  // Acquired slices are kept exactly; the missing one is the mean of its neighbours.
  const size = 64 * 64;
  for (const k of [0, 4, 6, 11]) {
    for (let i = 0; i < size; i += 97) assert.equal(eq.data[k * size + i], full.data[k * size + i], `slice ${k}`);
  }
  for (let i = 0; i < size; i += 97) {
    const expected = (Number(full.data[4 * size + i]) + Number(full.data[6 * size + i])) / 2;
    assert.equal(eq.data[5 * size + i], expected);
  }
});

test('an evenly spaced stack has no _Eq volume', async () => {
  const volume = (await assembleVolumes(makePhantomSeries({ slices: 6 }))).volumes[0]!;
  assert.equal(equaliseSpacing(volume), undefined);
});
