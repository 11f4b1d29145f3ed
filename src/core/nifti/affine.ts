/**
 * The voxel -> world (RAS, mm) affine of a NIfTI header, chosen as nibabel's `img.affine` does
 * (sform when sform_code > 0, else qform when qform_code > 0, else the pixdim-only "base" affine),
 * and the quaternion form of a rigid affine for writing the qform (nifti1.h, "METHOD 2").
 */
import type { NiftiHeader } from './header.ts';

/** Row-major 4x4. */
export type Mat4 = number[];

export function sformAffine(header: NiftiHeader): Mat4 {
  return [...header.srowX, ...header.srowY, ...header.srowZ, 0, 0, 0, 1];
}

/** quatern_b/c/d + qfac + pixdim -> affine (nibabel get_qform). */
export function qformAffine(header: NiftiHeader): Mat4 {
  const b = header.quaternB;
  const c = header.quaternC;
  const d = header.quaternD;
  const rest = 1 - (b * b + c * c + d * d);
  // nibabel's fillpositive: tiny negative values (float32 rounding) mean a = 0.
  const a = rest < 0 ? 0 : Math.sqrt(rest);
  const n = a * a + b * b + c * c + d * d;
  const s = n < 1e-12 ? 0 : 2 / n;
  const rotation = [
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
  const qfac = header.pixdim[0] === -1 ? -1 : 1;
  const zooms = [header.pixdim[1]!, header.pixdim[2]!, header.pixdim[3]! * qfac];
  const m: Mat4 = [];
  for (let row = 0; row < 3; row++) {
    for (let col = 0; col < 3; col++) m.push(rotation[row * 3 + col]! * zooms[col]!);
    m.push([header.qoffsetX, header.qoffsetY, header.qoffsetZ][row]!);
  }
  return [...m, 0, 0, 0, 1];
}

/** Analyze-style fall-back: voxel centre of the volume at the origin, x flipped (nibabel get_base_affine). */
export function baseAffine(header: NiftiHeader): Mat4 {
  const shape = [header.dim[1] ?? 1, header.dim[2] ?? 1, header.dim[3] ?? 1];
  const zooms = [header.pixdim[1] || 1, header.pixdim[2] || 1, header.pixdim[3] || 1];
  const signs = [-1, 1, 1];
  const m: Mat4 = new Array(16).fill(0);
  for (let i = 0; i < 3; i++) {
    const rank = header.dim[0]!;
    const size = i < rank ? shape[i]! : 1;
    m[i * 4 + i] = signs[i]! * zooms[i]!;
    m[i * 4 + 3] = -((size - 1) / 2) * zooms[i]! * signs[i]!;
  }
  m[15] = 1;
  return m;
}

export function niftiAffine(header: NiftiHeader): Mat4 {
  if (header.sformCode > 0) return sformAffine(header);
  if (header.qformCode > 0) return qformAffine(header);
  return baseAffine(header);
}

export interface Quatern {
  quaternB: number;
  quaternC: number;
  quaternD: number;
  qfac: 1 | -1;
  zooms: [number, number, number];
  offset: [number, number, number];
}

/**
 * Decompose a rigid-plus-scale affine (no shear) into the qform parameters (nibabel set_qform): zooms are the
 * column norms, a negative determinant becomes qfac = -1 on the third axis, the rotation becomes a quaternion
 * with a >= 0. Returns undefined for a sheared affine (e.g. gantry tilt), which a qform cannot represent.
 */
export function quaternFromAffine(affine: Mat4, tolerance = 1e-4): Quatern | undefined {
  const column = (j: number) => [affine[j]!, affine[4 + j]!, affine[8 + j]!];
  const cols = [column(0), column(1), column(2)];
  const zooms = cols.map((v) => Math.hypot(v[0]!, v[1]!, v[2]!)) as [number, number, number];
  if (zooms.some((z) => z === 0)) return undefined;
  const r = cols.map((v, j) => v.map((x) => x / zooms[j]!));
  const dot = (u: number[], v: number[]) => u[0]! * v[0]! + u[1]! * v[1]! + u[2]! * v[2]!;
  if (
    Math.abs(dot(r[0]!, r[1]!)) > tolerance ||
    Math.abs(dot(r[0]!, r[2]!)) > tolerance ||
    Math.abs(dot(r[1]!, r[2]!)) > tolerance
  ) {
    return undefined;
  }
  const [c0, c1, c2] = r as [number[], number[], number[]];
  const det =
    c0[0]! * (c1[1]! * c2[2]! - c1[2]! * c2[1]!) -
    c1[0]! * (c0[1]! * c2[2]! - c0[2]! * c2[1]!) +
    c2[0]! * (c0[1]! * c1[2]! - c0[2]! * c1[1]!);
  let qfac: 1 | -1 = 1;
  if (det < 0) {
    qfac = -1;
    for (let i = 0; i < 3; i++) c2[i] = -c2[i]!;
  }
  // Rotation matrix R[row][col] = column col, row row.
  const R = (row: number, col: number) => r[col]![row]!;
  const trace = R(0, 0) + R(1, 1) + R(2, 2);
  let a: number;
  let b: number;
  let c: number;
  let d: number;
  if (trace > 0) {
    const s = 0.5 / Math.sqrt(trace + 1);
    a = 0.25 / s;
    b = (R(2, 1) - R(1, 2)) * s;
    c = (R(0, 2) - R(2, 0)) * s;
    d = (R(1, 0) - R(0, 1)) * s;
  } else if (R(0, 0) > R(1, 1) && R(0, 0) > R(2, 2)) {
    const s = 2 * Math.sqrt(1 + R(0, 0) - R(1, 1) - R(2, 2));
    a = (R(2, 1) - R(1, 2)) / s;
    b = 0.25 * s;
    c = (R(0, 1) + R(1, 0)) / s;
    d = (R(0, 2) + R(2, 0)) / s;
  } else if (R(1, 1) > R(2, 2)) {
    const s = 2 * Math.sqrt(1 + R(1, 1) - R(0, 0) - R(2, 2));
    a = (R(0, 2) - R(2, 0)) / s;
    b = (R(0, 1) + R(1, 0)) / s;
    c = 0.25 * s;
    d = (R(1, 2) + R(2, 1)) / s;
  } else {
    const s = 2 * Math.sqrt(1 + R(2, 2) - R(0, 0) - R(1, 1));
    a = (R(1, 0) - R(0, 1)) / s;
    b = (R(0, 2) + R(2, 0)) / s;
    c = (R(1, 2) + R(2, 1)) / s;
    d = 0.25 * s;
  }
  if (a < 0) {
    b = -b;
    c = -c;
    d = -d;
  }
  return { quaternB: b, quaternC: c, quaternD: d, qfac, zooms, offset: [affine[3]!, affine[7]!, affine[11]!] };
}

/** Set sform and (when the affine is not sheared) qform of a header from one affine, codes as given. */
export function setAffine(header: NiftiHeader, affine: Mat4, code = 1): NiftiHeader {
  const quatern = quaternFromAffine(affine);
  const next: NiftiHeader = {
    ...header,
    srowX: affine.slice(0, 4),
    srowY: affine.slice(4, 8),
    srowZ: affine.slice(8, 12),
    sformCode: code,
    qformCode: quatern ? code : 0,
  };
  const pixdim = [...header.pixdim];
  if (quatern) {
    next.quaternB = quatern.quaternB;
    next.quaternC = quatern.quaternC;
    next.quaternD = quatern.quaternD;
    [next.qoffsetX, next.qoffsetY, next.qoffsetZ] = quatern.offset;
    pixdim[0] = quatern.qfac;
    pixdim[1] = quatern.zooms[0];
    pixdim[2] = quatern.zooms[1];
    pixdim[3] = quatern.zooms[2];
  } else {
    // Sheared: zooms are still the column norms (what nibabel reports as voxel sizes).
    for (let j = 0; j < 3; j++) pixdim[j + 1] = Math.hypot(affine[j]!, affine[4 + j]!, affine[8 + j]!);
    pixdim[0] = 1;
  }
  next.pixdim = pixdim;
  return next;
}
