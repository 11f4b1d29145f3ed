/**
 * A stack of parallel slices: the slice normal, ordering by position along it, spacing analysis (uniform,
 * uneven, missing slices), gantry tilt, and the voxel -> patient (LPS) affine of dcm2niix's convention:
 * i = column, j = flipped row (j = Rows-1-r), k = slices ordered along +N (GEOMETRY.md).
 */
import { add, cross, dot, type Mat4, norm, normalize, scale, sub, type Vec3 } from './affine.ts';

export interface SlicePlane {
  /** ImagePositionPatient: centre of the first transmitted pixel (LPS mm). */
  position: Vec3;
  /** ImageOrientationPatient: row direction (X, increasing column) and column direction (Y, increasing row). */
  rowCosines: Vec3;
  columnCosines: Vec3;
  /** PixelSpacing: [between rows (along Y), between columns (along X)]. */
  pixelSpacing: [number, number];
}

export const sliceNormal = (plane: Pick<SlicePlane, 'rowCosines' | 'columnCosines'>): Vec3 =>
  normalize(cross(plane.rowCosines, plane.columnCosines));

export type StackWarning =
  | { kind: 'UNEVEN_SPACING'; min: number; max: number; gaps: number[] }
  | { kind: 'MISSING_SLICES'; expected: number; found: number; gapIndices: number[] }
  | { kind: 'GANTRY_TILT'; angleDegrees: number }
  | { kind: 'DUPLICATE_POSITION'; index: number }
  | { kind: 'NO_PATIENT_GEOMETRY' }
  /** A Modality LUT Sequence maps the stored values (PS3.3 C.11.1): the voxels are stored values, the LUT is in the sidecar. */
  | { kind: 'MODALITY_LUT_NOT_APPLIED' };

export interface StackGeometry {
  /** Voxel (i, j, k) -> LPS mm. */
  affineLPS: Mat4;
  /** Column spacing, row spacing, slice spacing (first two slices, as dcm2niix writes them). */
  spacing: Vec3;
  warnings: StackWarning[];
  /** Distances between consecutive slices along the normal. */
  gaps: number[];
  tiltDegrees: number;
}

/** Signed distance of each position along the normal. */
export function distancesAlong(normal: Vec3, positions: readonly Vec3[]): number[] {
  return positions.map((position) => dot(normal, position));
}

/**
 * Geometry of slices already ordered by increasing distance along the normal. With one slice, the slice step is
 * `fallbackSpacing` along the normal (SpacingBetweenSlices, else SliceThickness, as dcm2niix does).
 */
export function stackGeometry(planes: readonly SlicePlane[], rows: number, fallbackSpacing = 1): StackGeometry {
  const first = planes[0]!;
  const normal = sliceNormal(first);
  const [dr, dc] = first.pixelSpacing;
  const X = first.rowCosines;
  const Y = first.columnCosines;
  const warnings: StackWarning[] = [];
  const distances = distancesAlong(
    normal,
    planes.map((plane) => plane.position),
  );
  const gaps = distances.slice(1).map((d, i) => d - distances[i]!);
  let step: Vec3 = scale(normal, fallbackSpacing || 1);
  let tiltDegrees = 0;
  if (planes.length > 1) {
    step = sub(planes[1]!.position, first.position);
    const along = normalize(step);
    const cosine = Math.min(1, Math.abs(dot(normal, along)));
    tiltDegrees = (Math.acos(cosine) * 180) / Math.PI;
    // Below 0.1 degree the 'tilt' is rounding in the stored positions (seen on MR), not a gantry.
    if (tiltDegrees > 0.1) warnings.push({ kind: 'GANTRY_TILT', angleDegrees: Number(tiltDegrees.toFixed(3)) });
    const min = Math.min(...gaps);
    const max = Math.max(...gaps);
    gaps.forEach((gap, index) => {
      if (gap < 1e-4) warnings.push({ kind: 'DUPLICATE_POSITION', index: index + 1 });
    });
    if (max - min > Math.max(0.01 * Math.abs(min), 1e-3)) {
      warnings.push({ kind: 'UNEVEN_SPACING', min, max, gaps });
      // Missing slices: a gap that is a near-integer multiple (>= 2) of the smallest one.
      const missing = gaps
        .map((gap, index) => ({ index, ratio: gap / min }))
        .filter(({ ratio }) => ratio > 1.5 && Math.abs(ratio - Math.round(ratio)) < 0.1);
      if (missing.length > 0 && min > 1e-4) {
        const expected = planes.length + missing.reduce((sum, { ratio }) => sum + Math.round(ratio) - 1, 0);
        warnings.push({
          kind: 'MISSING_SLICES',
          expected,
          found: planes.length,
          gapIndices: missing.map((m) => m.index),
        });
      }
    }
  }
  const origin = add(first.position, scale(Y, (rows - 1) * dr));
  const cx = scale(X, dc);
  const cy = scale(Y, -dr);
  const affineLPS: Mat4 = [
    cx[0],
    cy[0],
    step[0],
    origin[0],
    cx[1],
    cy[1],
    step[1],
    origin[1],
    cx[2],
    cy[2],
    step[2],
    origin[2],
    0,
    0,
    0,
    1,
  ];
  return { affineLPS, spacing: [dc, dr, norm(step)], warnings, gaps, tiltDegrees };
}
