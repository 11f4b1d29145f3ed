/**
 * The image grid a mask, a DICOM-SEG or an RT Structure Set belongs to: the in-plane geometry of the slices and the
 * true position of every slice (uneven spacing and missing slices are kept: a slice is placed where it was
 * acquired, not where the NIfTI affine's constant step would put it). Voxel order is the volume's: i = column,
 * j = flipped row (j = rows-1-r), k = slice along +normal (GEOMETRY.md).
 */
import { add, apply, dot, type Mat4, norm, scale, sub, type Vec3 } from './affine.ts';

export interface ImageGrid {
  columns: number;
  rows: number;
  /** Direction of increasing column (X) and of increasing row (Y) in LPS; normal = X x Y. */
  rowCosines: Vec3;
  columnCosines: Vec3;
  normal: Vec3;
  /** [between rows (along Y), between columns (along X)], as PixelSpacing. */
  pixelSpacing: [number, number];
  /** ImagePositionPatient of slice k (centre of its first transmitted pixel), k along +normal. */
  positions: Vec3[];
  /** Voxel (i, j, k) -> LPS of the NIfTI written for this grid (constant slice step: the first gap). */
  affineLPS: Mat4;
}

/** Distance of each slice along the normal. */
export function sliceDistances(grid: ImageGrid): number[] {
  return grid.positions.map((position) => dot(grid.normal, position));
}

/** LPS position of voxel (i, j, k) at the slice's true position (not through the constant-step affine). */
export function gridVoxelToPatient(grid: ImageGrid, i: number, j: number, k: number): Vec3 {
  const r = grid.rows - 1 - j;
  const origin = grid.positions[k]!;
  return add(
    origin,
    add(scale(grid.rowCosines, i * grid.pixelSpacing[1]), scale(grid.columnCosines, r * grid.pixelSpacing[0])),
  );
}

/**
 * The largest distance (mm) between where two voxel -> world affines put the 8 corner voxels of a grid of `dims`:
 * 0 when two images share a grid, whatever their float rounding.
 */
export function affineDistance(a: Mat4, b: Mat4, dims: readonly number[]): number {
  let worst = 0;
  for (const i of [0, Math.max(0, dims[0]! - 1)]) {
    for (const j of [0, Math.max(0, dims[1]! - 1)]) {
      for (const k of [0, Math.max(0, (dims[2] ?? 1) - 1)]) {
        worst = Math.max(worst, norm(sub(apply(a, [i, j, k]), apply(b, [i, j, k]))));
      }
    }
  }
  return worst;
}

/**
 * Whether an image of `dims` whose voxel -> LPS affine is `affineLPS` has the voxels of the grid (`gridDims`,
 * `gridAffineLPS`) as stored: the same dims, and the corner voxels within `tolerance` mm (affineDistance).
 */
export function sameVoxels(
  dims: readonly number[],
  affineLPS: Mat4,
  gridDims: readonly number[],
  gridAffineLPS: Mat4,
  tolerance: number,
): boolean {
  return (
    dims.length === gridDims.length &&
    dims.every((size, axis) => size === gridDims[axis]) &&
    affineDistance(gridAffineLPS, affineLPS, gridDims) <= tolerance
  );
}
