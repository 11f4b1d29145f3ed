/** Orientation codes of an affine and reorientation of voxel arrays to the closest canonical (RAS+) order. */
import { cross, type Mat4, type Vec3 } from './affine.ts';

/** For each voxel axis: the world axis (0 x, 1 y, 2 z) it is closest to, and the sign. nibabel's io_orientation. */
export function axisCodes(affine: Mat4): Array<{ axis: number; sign: 1 | -1 }> {
  const columns = [0, 1, 2].map((j) => [affine[j]!, affine[4 + j]!, affine[8 + j]!]);
  const used = new Set<number>();
  const out: Array<{ axis: number; sign: 1 | -1 }> = [];
  // Greedy on the largest absolute component, as io_orientation does after normalising columns.
  const candidates: Array<{ j: number; axis: number; value: number }> = [];
  columns.forEach((column, j) => {
    const length = Math.hypot(column[0]!, column[1]!, column[2]!) || 1;
    column.forEach((value, axis) => {
      candidates.push({ j, axis, value: value / length });
    });
  });
  candidates.sort((a, b) => Math.abs(b.value) - Math.abs(a.value));
  const assigned = new Map<number, { axis: number; sign: 1 | -1 }>();
  for (const { j, axis, value } of candidates) {
    if (assigned.has(j) || used.has(axis)) continue;
    assigned.set(j, { axis, sign: value < 0 ? -1 : 1 });
    used.add(axis);
  }
  for (let j = 0; j < 3; j++) out.push(assigned.get(j)!);
  return out;
}

/** Three letters naming where each voxel axis points, in RAS world terms (e.g. 'LPS', 'RAS'). */
export function orientationCode(affineRAS: Mat4): string {
  const letters = [
    ['L', 'R'],
    ['P', 'A'],
    ['I', 'S'],
  ];
  return axisCodes(affineRAS)
    .map(({ axis, sign }) => letters[axis]![sign > 0 ? 1 : 0])
    .join('');
}

export interface Reoriented<T extends ArrayLike<number>> {
  data: T;
  dims: [number, number, number];
  affine: Mat4;
}

/**
 * Permute and flip a 3D (or 4D, volumes of nx*ny*nz) voxel array so its axes follow +x, +y, +z of the world
 * frame of `affine` (RAS for NIfTI): what nibabel's as_closest_canonical does.
 */
export type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

export function closestCanonical<T extends NumericArray>(
  data: T,
  dims: readonly number[],
  affine: Mat4,
): Reoriented<T> {
  const codes = axisCodes(affine);
  const [nx, ny, nz] = [dims[0]!, dims[1]!, dims[2]!];
  const nt = data.length / (nx * ny * nz);
  // New axis a takes old voxel axis j where codes[j].axis === a.
  const from = [0, 1, 2].map((a) => codes.findIndex((code) => code.axis === a));
  const oldDims = [nx, ny, nz];
  const newDims = from.map((j) => oldDims[j]!) as [number, number, number];
  const out = new (data.constructor as new (length: number) => T)(data.length);
  const oldStride = [1, nx, nx * ny];
  const volume = nx * ny * nz;
  for (let t = 0; t < nt; t++) {
    let o = t * volume;
    for (let z = 0; z < newDims[2]; z++) {
      for (let y = 0; y < newDims[1]; y++) {
        for (let x = 0; x < newDims[0]; x++) {
          const idx = [x, y, z];
          let source = t * volume;
          for (let a = 0; a < 3; a++) {
            const j = from[a]!;
            const flipped = codes[j]!.sign < 0 ? oldDims[j]! - 1 - idx[a]! : idx[a]!;
            source += flipped * oldStride[j]!;
          }
          out[o++] = data[source]!;
        }
      }
    }
  }
  // New affine: column a = sign * old column from[a]; origin moves to the flipped corner.
  const affineOut: Mat4 = [...affine];
  const origin = [affine[3]!, affine[7]!, affine[11]!];
  for (let a = 0; a < 3; a++) {
    const j = from[a]!;
    const sign = codes[j]!.sign;
    for (let r = 0; r < 3; r++) {
      affineOut[r * 4 + a] = affine[r * 4 + j]! * sign;
      if (sign < 0) origin[r] = origin[r]! + affine[r * 4 + j]! * (oldDims[j]! - 1);
    }
  }
  affineOut[3] = origin[0]!;
  affineOut[7] = origin[1]!;
  affineOut[11] = origin[2]!;
  return { data: out, dims: newDims, affine: affineOut };
}

export type StandardPlane = 'AX' | 'COR' | 'SAG' | 'OBL';

export interface PlaneDecision {
  plane: StandardPlane;
  /** Angle (degrees) between the slice normal and the nearest patient axis. */
  angleDegrees: number;
  /** The patient axis the normal is nearest to (the plane is that axis' plane when within the tolerance). */
  nearest: Exclude<StandardPlane, 'OBL'>;
  reason: string;
}

const PLANE_OF_AXIS: ReadonlyArray<Exclude<StandardPlane, 'OBL'>> = ['SAG', 'COR', 'AX'];
const AXIS_NAME = ['x (L-R)', 'y (A-P)', 'z (S-I)'];

/**
 * The standard plane of an image from its ImageOrientationPatient (row then column direction cosines, LPS): the
 * slice normal N = row x column (PS3.3 C.7.6.2.1.1) along z is axial, along y coronal, along x sagittal; a normal
 * further than `toleranceDegrees` from every axis is oblique. Undefined when the cosines are missing or degenerate.
 */
export function standardPlane(orientation: readonly number[], toleranceDegrees: number): PlaneDecision | undefined {
  if (orientation.length < 6 || orientation.slice(0, 6).some((value) => !Number.isFinite(value))) return undefined;
  const row: Vec3 = [orientation[0]!, orientation[1]!, orientation[2]!];
  const column: Vec3 = [orientation[3]!, orientation[4]!, orientation[5]!];
  const normal = cross(row, column);
  const length = Math.hypot(normal[0], normal[1], normal[2]);
  if (!(length > 1e-6)) return undefined;
  let axis = 0;
  for (let a = 1; a < 3; a++) if (Math.abs(normal[a]!) > Math.abs(normal[axis]!)) axis = a;
  const cosine = Math.min(1, Math.abs(normal[axis]!) / length);
  const angleDegrees = (Math.acos(cosine) * 180) / Math.PI;
  const nearest = PLANE_OF_AXIS[axis]!;
  const plane: StandardPlane = angleDegrees <= toleranceDegrees ? nearest : 'OBL';
  const angle = angleDegrees.toFixed(1);
  const reason =
    plane === 'OBL'
      ? `slice normal ${angle} deg from the ${AXIS_NAME[axis]} axis (nearest), more than the ${toleranceDegrees} deg tolerance`
      : `slice normal ${angle} deg from the ${AXIS_NAME[axis]} axis (tolerance ${toleranceDegrees} deg)`;
  return { plane, angleDegrees, nearest, reason };
}
