/** Contour placement and filling rules on a synthetic grid: holes, islands, off-grid, clipped, open contours. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { add, scale, type Vec3 } from '../../../src/core/geometry/affine.ts';
import type { ImageGrid } from '../../../src/core/geometry/grid.ts';
import { rasterizeROI } from '../../../src/core/rtstruct/rasterize.ts';
import type { Contour, StructureSetROI } from '../../../src/core/rtstruct/structure-set.ts';

/** 20x10 pixels of 2 mm, 5 axial slices 3 mm apart except a missing one (z = 0, 3, 6, 12, 15). */
const grid: ImageGrid = {
  columns: 20,
  rows: 10,
  rowCosines: [1, 0, 0],
  columnCosines: [0, 1, 0],
  normal: [0, 0, 1],
  pixelSpacing: [2, 2],
  positions: [0, 3, 6, 12, 15].map((z) => [10, 20, z] as Vec3),
  affineLPS: [2, 0, 0, 10, 0, -2, 0, 38, 0, 0, 3, 0, 0, 0, 0, 1],
};

/** A rectangle of pixel centres (c0..c1, r0..r1 inclusive) as a contour drawn half a pixel outside them. */
function rectangle(c0: number, c1: number, r0: number, r1: number, z: number, type = 'CLOSED_PLANAR'): Contour {
  const corner = (c: number, r: number) => add([10, 20, z], add(scale([1, 0, 0], c * 2), scale([0, 1, 0], r * 2)));
  const points = [
    corner(c0 - 0.5, r0 - 0.5),
    corner(c1 + 0.5, r0 - 0.5),
    corner(c1 + 0.5, r1 + 0.5),
    corner(c0 - 0.5, r1 + 0.5),
  ].flat();
  return { geometricType: type, points: Float64Array.from(points), referencedSOPInstanceUIDs: [] };
}

const roi = (contours: Contour[]): StructureSetROI => ({
  number: 7,
  name: 'test',
  color: [1, 2, 3],
  frameOfReferenceUID: undefined,
  generationAlgorithm: undefined,
  interpretedType: undefined,
  contours,
});

/** Is pixel (c, r) of slice k set? (masks are in volume order: rows flipped) */
const at = (mask: Uint8Array | undefined, c: number, r: number, k: number) => mask?.[k * 200 + (9 - r) * 20 + c] === 1;

test('a contour inside another is a hole; an island inside the hole is filled again (even-odd)', () => {
  const result = rasterizeROI(
    roi([
      rectangle(1, 12, 1, 8, 6),
      rectangle(3, 10, 2, 7, 6),
      rectangle(5, 7, 3, 5, 6.4),
      rectangle(15, 17, 1, 2, 5.9),
    ]),
    grid,
  );
  assert.deepEqual(result.warnings, []);
  assert.deepEqual(result.slices, [2]);
  assert.ok(at(result.mask, 1, 1, 2) && at(result.mask, 12, 8, 2), 'outer ring');
  assert.ok(!at(result.mask, 3, 2, 2) && !at(result.mask, 10, 7, 2), 'hole');
  assert.ok(at(result.mask, 5, 3, 2) && at(result.mask, 7, 5, 2), 'island in the hole');
  assert.ok(at(result.mask, 15, 1, 2) && at(result.mask, 17, 2, 2), 'second island');
  assert.equal(result.voxels, 12 * 8 - 8 * 6 + 3 * 3 + 3 * 2);
});

test('contours are placed by position: off the stack and in the missing slice gap are reported, not guessed', () => {
  const result = rasterizeROI(
    roi([rectangle(1, 2, 1, 2, 0), rectangle(1, 2, 1, 2, 9), rectangle(1, 2, 1, 2, 19), rectangle(1, 2, 1, 2, 13.4)]),
    grid,
  );
  assert.deepEqual(result.slices, [0, 3]);
  assert.deepEqual(result.warnings, [
    { kind: 'CONTOUR_OFF_GRID', roi: 7, name: 'test', contours: 2, distances: [9, 19] },
  ]);
});

test('contours reaching outside the image are clipped and reported; open and point contours are reported', () => {
  const result = rasterizeROI(
    roi([rectangle(-3, 2, 8, 12, 3), rectangle(5, 6, 5, 6, 3, 'OPEN_PLANAR'), rectangle(5, 5, 5, 5, 3, 'POINT')]),
    grid,
  );
  assert.equal(result.voxels, 3 * 2);
  assert.deepEqual(
    result.warnings.map((w) => w.kind),
    ['CONTOUR_CLIPPED', 'CONTOUR_NOT_AREA'],
  );
});

test('a contour on its referenced image but another slice by position: placed by position, reported', () => {
  const contour = { ...rectangle(1, 2, 1, 2, 3), referencedSOPInstanceUIDs: ['uid-slice-0'] };
  const result = rasterizeROI(roi([contour]), grid, { sliceOfInstance: new Map([['uid-slice-0', 0]]) });
  assert.deepEqual(result.slices, [1]);
  assert.deepEqual(
    result.warnings.map((w) => w.kind),
    ['CONTOUR_REFERENCE_DISAGREES'],
  );
});
