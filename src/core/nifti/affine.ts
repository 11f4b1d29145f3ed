/**
 * Voxel -> world (RAS+, mm) affines of a NIfTI header, decided as nibabel decides `img.affine` for a loaded image
 * (nifti1.h "ORIENTATION AND LOCATION IN SPACE", methods 1-3; nibabel 5 Nifti1Header.get_best_affine):
 * sform when sform_code != 0, else qform when qform_code != 0, else the pixdim-only fall-back. Before choosing,
 * nibabel's load-time header fixes apply: an unknown xform code counts as 0, qfac other than -1 / 1 is 1, and
 * pixdim[1..3] are made positive (0 -> 1). All matrices are row-major 4x4 `number[]` of 16.
 */
import { MedvoxError } from '../errors.ts';
import type { NiftiHeader } from './header.ts';

/** Row-major 4x4. */
export type Mat4 = number[];

/** NIFTI_XFORM_UNKNOWN .. NIFTI_XFORM_TEMPLATE_OTHER (nifti1.h / nibabel xform_codes). */
export const XformCode = { UNKNOWN: 0, SCANNER_ANAT: 1, ALIGNED_ANAT: 2, TALAIRACH: 3, MNI_152: 4, TEMPLATE_OTHER: 5 };

/** An xform code as nibabel reads it: codes outside 0..5 are reset to 0 on load. */
export function effectiveXformCode(code: number): number {
  return Number.isInteger(code) && code >= 0 && code <= 5 ? code : 0;
}

/** pixdim[1..3] as nibabel uses them after its load-time fix: absolute values, 0 replaced by 1. */
function spatialZooms(header: NiftiHeader): [number, number, number] {
  const zoom = (i: number) => Math.abs(header.pixdim[i] ?? 1) || 1;
  return [zoom(1), zoom(2), zoom(3)];
}

/** nifti1.h: qfac is pixdim[0]; it should be -1 or 1, anything else is treated as 1. */
export function qfacOf(header: NiftiHeader): 1 | -1 {
  return header.pixdim[0] === -1 ? -1 : 1;
}

/** Method 3: srow_x / srow_y / srow_z as the first three rows. */
export function sformAffine(header: NiftiHeader): Mat4 {
  return [...header.srowX.slice(0, 4), ...header.srowY.slice(0, 4), ...header.srowZ.slice(0, 4), 0, 0, 0, 1];
}

/** Rotation matrix (row-major 3x3) of the quaternion (a, b, c, d) (nibabel quaternions.quat2mat). */
function rotationFromQuaternion(a: number, b: number, c: number, d: number): number[] {
  const norm = a * a + b * b + c * c + d * d;
  if (norm < Number.EPSILON) return [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const s = 2 / norm;
  return [
    1 - s * (c * c + d * d),
    s * (b * c - a * d),
    s * (b * d + a * c),
    s * (b * c + a * d),
    1 - s * (b * b + d * d),
    s * (c * d - a * b),
    s * (b * d - a * c),
    s * (c * d + a * b),
    1 - s * (b * b + c * c),
  ];
}

/**
 * Method 2 (nifti1.h): R from quatern_b/c/d with a = sqrt(1 - b^2 - c^2 - d^2), times diag(pixdim[1], pixdim[2],
 * qfac * pixdim[3]), plus qoffset. As nibabel's fillpositive, a slightly negative 1 - b^2 - c^2 - d^2 (within
 * 3 float32 / float64 epsilons, the precision of the stored fields) means a = 0; beyond that the header is invalid.
 */
export function affineFromQuatern(header: NiftiHeader): Mat4 {
  const { quaternB: b, quaternC: c, quaternD: d } = header;
  const w2 = 1 - (b * b + c * c + d * d);
  const epsilon = header.version === 1 ? 2 ** -23 : Number.EPSILON;
  if (w2 < -3 * epsilon || !Number.isFinite(w2)) {
    throw new MedvoxError('NIFTI_BAD_HEADER', `quatern_b/c/d (${b}, ${c}, ${d}) are not part of a unit quaternion`);
  }
  const a = w2 < 0 ? 0 : Math.sqrt(w2);
  const rotation = rotationFromQuaternion(a, b, c, d);
  const zooms = spatialZooms(header);
  zooms[2] *= qfacOf(header);
  const offset = [header.qoffsetX, header.qoffsetY, header.qoffsetZ];
  const m: Mat4 = [];
  for (let row = 0; row < 3; row++) {
    for (let col = 0; col < 3; col++) m.push(rotation[row * 3 + col]! * zooms[col]!);
    m.push(offset[row]!);
  }
  return [...m, 0, 0, 0, 1];
}

/**
 * Method 1 (nifti1.h, ANALYZE 7.5 compatibility) as nibabel's get_base_affine: diagonal pixdim with x flipped
 * (radiological storage), translated so that the centre voxel of the first three dimensions is at the origin.
 */
export function baseAffine(header: NiftiHeader): Mat4 {
  const rank = header.dim[0] ?? 3;
  const zooms = spatialZooms(header);
  const m: Mat4 = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  for (let i = 0; i < 3; i++) {
    const size = i < rank ? header.dim[i + 1]! : 1;
    const zoom = i < rank ? zooms[i]! : 1;
    const signed = i === 0 ? -zoom : zoom;
    m[i * 5] = signed;
    m[i * 4 + 3] = -((size - 1) / 2) * signed;
  }
  return m;
}

/** The affine nibabel reports as `img.affine` for this header. */
export function niftiAffine(header: NiftiHeader): Mat4 {
  if (effectiveXformCode(header.sformCode) !== 0) return sformAffine(header);
  if (effectiveXformCode(header.qformCode) !== 0) return affineFromQuatern(header);
  return baseAffine(header);
}

/** The qform parameters of an affine, as nibabel's Nifti1Header.set_qform computes them. */
export interface Quatern {
  quaternB: number;
  quaternC: number;
  quaternD: number;
  /** pixdim[0]: -1 when the affine is left-handed (negative determinant); the third axis is then flipped. */
  qfac: 1 | -1;
  /** pixdim[1..3]: the column norms of the 3x3 part. */
  zooms: [number, number, number];
  /** qoffset_x/y/z: the translation column. */
  offset: [number, number, number];
  /**
   * Largest |cosine| between two columns of the 3x3 part: 0 for a rotation times zooms. A qform cannot hold
   * shear (e.g. gantry tilt); the quaternion above is then the closest rotation.
   */
  shear: number;
}

function det3(m: readonly number[]): number {
  return (
    m[0]! * (m[4]! * m[8]! - m[5]! * m[7]!) -
    m[1]! * (m[3]! * m[8]! - m[5]! * m[6]!) +
    m[2]! * (m[3]! * m[7]! - m[4]! * m[6]!)
  );
}

/**
 * The orthogonal factor of the polar decomposition of a non-singular 3x3 (row-major): nibabel takes it from the SVD
 * (P @ Qs); Newton's iteration X <- (X + X^-T) / 2 converges to the same matrix.
 */
function closestRotation(r: number[]): number[] {
  let x = [...r];
  for (let iteration = 0; iteration < 100; iteration++) {
    const det = det3(x);
    // Inverse transpose = cofactor matrix / det.
    const cof = [
      x[4]! * x[8]! - x[5]! * x[7]!,
      x[5]! * x[6]! - x[3]! * x[8]!,
      x[3]! * x[7]! - x[4]! * x[6]!,
      x[2]! * x[7]! - x[1]! * x[8]!,
      x[0]! * x[8]! - x[2]! * x[6]!,
      x[1]! * x[6]! - x[0]! * x[7]!,
      x[1]! * x[5]! - x[2]! * x[4]!,
      x[2]! * x[3]! - x[0]! * x[5]!,
      x[0]! * x[4]! - x[1]! * x[3]!,
    ];
    const next = x.map((value, i) => (value + cof[i]! / det) / 2);
    const change = Math.max(...next.map((value, i) => Math.abs(value - x[i]!)));
    x = next;
    if (change < 1e-15) break;
  }
  return x;
}

/** Unit quaternion (a >= 0) of a rotation matrix (row-major), by Shepperd's method. */
function quaternionFromRotation(m: readonly number[]): [number, number, number, number] {
  const [xx, xy, xz, yx, yy, yz, zx, zy, zz] = m as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const trace = xx + yy + zz;
  let q: [number, number, number, number];
  if (trace > 0) {
    const s = 2 * Math.sqrt(1 + trace);
    q = [s / 4, (zy - yz) / s, (xz - zx) / s, (yx - xy) / s];
  } else if (xx >= yy && xx >= zz) {
    const s = 2 * Math.sqrt(1 + xx - yy - zz);
    q = [(zy - yz) / s, s / 4, (xy + yx) / s, (xz + zx) / s];
  } else if (yy >= zz) {
    const s = 2 * Math.sqrt(1 + yy - xx - zz);
    q = [(xz - zx) / s, (xy + yx) / s, s / 4, (yz + zy) / s];
  } else {
    const s = 2 * Math.sqrt(1 + zz - xx - yy);
    q = [(yx - xy) / s, (xz + zx) / s, (yz + zy) / s, s / 4];
  }
  const norm = Math.hypot(...q);
  const sign = q[0] < 0 ? -1 : 1;
  return q.map((v) => (sign * v) / norm) as [number, number, number, number];
}

/**
 * The qform of an affine (nibabel Nifti1Header.set_qform): zooms are the column norms; a negative determinant gives
 * qfac = -1 and flips the third column; the rotation is the closest orthogonal matrix (polar decomposition, which
 * strips shears); the quaternion has a >= 0 (nifti1.h: "we take a >= 0"). Throws for a singular 3x3 part.
 */
export function quaternFromAffine(affine: Mat4): Quatern {
  const columns = [0, 1, 2].map((j) => [affine[j]!, affine[4 + j]!, affine[8 + j]!]);
  const zooms = columns.map((v) => Math.hypot(v[0]!, v[1]!, v[2]!)) as [number, number, number];
  if (zooms.some((zoom) => !(zoom > 0) || !Number.isFinite(zoom))) {
    throw new MedvoxError('NIFTI_BAD_HEADER', `affine has a zero or non-finite column (zooms ${zooms.join(', ')})`);
  }
  const unit = columns.map((v, j) => v.map((x) => x / zooms[j]!));
  // Row-major R with the unit columns.
  const r = [0, 1, 2].flatMap((row) => [unit[0]![row]!, unit[1]![row]!, unit[2]![row]!]);
  const det = det3(r);
  if (!(Math.abs(det) > 1e-12)) throw new MedvoxError('NIFTI_BAD_HEADER', 'affine is singular: no qform exists');
  const qfac: 1 | -1 = det > 0 ? 1 : -1;
  if (qfac < 0) for (let row = 0; row < 3; row++) r[row * 3 + 2] = -r[row * 3 + 2]!;
  const dot = (u: number[], v: number[]) => Math.abs(u[0]! * v[0]! + u[1]! * v[1]! + u[2]! * v[2]!);
  const shear = Math.max(dot(unit[0]!, unit[1]!), dot(unit[0]!, unit[2]!), dot(unit[1]!, unit[2]!));
  const [, b, c, d] = quaternionFromRotation(closestRotation(r));
  return { quaternB: b, quaternC: c, quaternD: d, qfac, zooms, offset: [affine[3]!, affine[7]!, affine[11]!], shear };
}

/**
 * Set sform (code `code`) and qform from one affine, and pixdim[0..3] to qfac and the zooms (as nibabel's image
 * update does). The qform gets the same code unless the affine is sheared beyond `shearTolerance` (a qform cannot
 * represent a tilted stack; docs GEOMETRY.md): then qform_code is 0 and readers use the sform.
 */
export function setAffine(header: NiftiHeader, affine: Mat4, code = 1, shearTolerance = 1e-4): NiftiHeader {
  const quatern = quaternFromAffine(affine);
  const pixdim = [...header.pixdim];
  pixdim[0] = quatern.qfac;
  [pixdim[1], pixdim[2], pixdim[3]] = quatern.zooms;
  return {
    ...header,
    pixdim,
    srowX: affine.slice(0, 4),
    srowY: affine.slice(4, 8),
    srowZ: affine.slice(8, 12),
    sformCode: code,
    qformCode: quatern.shear <= shearTolerance ? code : 0,
    quaternB: quatern.quaternB,
    quaternC: quatern.quaternC,
    quaternD: quatern.quaternD,
    qoffsetX: quatern.offset[0],
    qoffsetY: quatern.offset[1],
    qoffsetZ: quatern.offset[2],
  };
}
