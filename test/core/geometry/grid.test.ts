/**
 * sameVoxels: an image has a grid's voxels as stored when its dims are the grid's and its affine puts the corner
 * voxels within the tolerance of the grid's; not when shifted past it, rotated, or of other dims.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Mat4 } from '../../../src/core/geometry/affine.ts';
import { sameVoxels } from '../../../src/core/geometry/grid.ts';

// 0.7 x 0.7 x 1 mm voxels, axial, origin (-150, -150, 20) LPS.
const grid: Mat4 = [0.7, 0, 0, -150, 0, 0.7, 0, -150, 0, 0, 1, 20, 0, 0, 0, 1];
const dims = [512, 512, 300];

test('same dims and an affine within the tolerance at every corner: the same voxels', () => {
  assert.equal(sameVoxels(dims, grid, dims, grid, 0.01), true);
  const rounded = grid.map((value) => value + 1e-7) as Mat4;
  rounded[15] = 1;
  assert.equal(sameVoxels(dims, rounded, dims, grid, 0.01), true);
});

test('shifted past the tolerance, a spacing off at the far corner, other dims: not the same voxels', () => {
  const shifted = [...grid] as Mat4;
  shifted[3] = -150.02;
  assert.equal(sameVoxels(dims, shifted, dims, grid, 0.01), false);
  // 0.0001 mm more a slice: 0.03 mm at slice 299, nothing at slice 0.
  const stretched = [...grid] as Mat4;
  stretched[10] = 1.0001;
  assert.equal(sameVoxels(dims, stretched, dims, grid, 0.01), false);
  assert.equal(sameVoxels([512, 512, 299], grid, dims, grid, 0.01), false);
  assert.equal(sameVoxels([512, 512], grid, dims, grid, 0.01), false);
});
