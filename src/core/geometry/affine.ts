/**
 * 4x4 affines (row-major `number[]` of 16) and the DICOM LPS <-> NIfTI RAS convention. This folder is the one
 * place where orientation is decided (../shared/docs/GEOMETRY.md).
 */
export type Mat4 = number[];
export type Vec3 = [number, number, number];

export const identity = (): Mat4 => [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];

export function multiply(a: Mat4, b: Mat4): Mat4 {
  const out = new Array<number>(16).fill(0);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      let sum = 0;
      for (let k = 0; k < 4; k++) sum += a[r * 4 + k]! * b[k * 4 + c]!;
      out[r * 4 + c] = sum;
    }
  }
  return out;
}

export function apply(m: Mat4, p: readonly number[]): Vec3 {
  const [x, y, z] = [p[0]!, p[1]!, p[2]!];
  return [
    m[0]! * x + m[1]! * y + m[2]! * z + m[3]!,
    m[4]! * x + m[5]! * y + m[6]! * z + m[7]!,
    m[8]! * x + m[9]! * y + m[10]! * z + m[11]!,
  ];
}

export function invert(m: Mat4): Mat4 {
  const [a, b, c, d, e, f, g, h, i] = [m[0]!, m[1]!, m[2]!, m[4]!, m[5]!, m[6]!, m[8]!, m[9]!, m[10]!];
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  if (Math.abs(det) < 1e-12) throw new RangeError('singular affine');
  const inv = [
    (e * i - f * h) / det,
    (c * h - b * i) / det,
    (b * f - c * e) / det,
    (f * g - d * i) / det,
    (a * i - c * g) / det,
    (c * d - a * f) / det,
    (d * h - e * g) / det,
    (b * g - a * h) / det,
    (a * e - b * d) / det,
  ];
  const t = [m[3]!, m[7]!, m[11]!];
  const out: Mat4 = [];
  for (let r = 0; r < 3; r++) {
    out.push(inv[r * 3]!, inv[r * 3 + 1]!, inv[r * 3 + 2]!);
    out.push(-(inv[r * 3]! * t[0]! + inv[r * 3 + 1]! * t[1]! + inv[r * 3 + 2]! * t[2]!));
  }
  return [...out, 0, 0, 0, 1];
}

/** LPS (DICOM) affine -> RAS (NIfTI): diag(-1, -1, 1, 1) @ A. The same matrix maps RAS back to LPS. */
export function lpsToRas(affineLPS: Mat4): Mat4 {
  return affineLPS.map((value, index) => (index < 8 ? -value : value));
}

export const rasToLps = lpsToRas;

export const dot = (a: readonly number[], b: readonly number[]): number =>
  a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
export const cross = (a: readonly number[], b: readonly number[]): Vec3 => [
  a[1]! * b[2]! - a[2]! * b[1]!,
  a[2]! * b[0]! - a[0]! * b[2]!,
  a[0]! * b[1]! - a[1]! * b[0]!,
];
export const sub = (a: readonly number[], b: readonly number[]): Vec3 => [a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!];
export const scale = (a: readonly number[], s: number): Vec3 => [a[0]! * s, a[1]! * s, a[2]! * s];
export const add = (a: readonly number[], b: readonly number[]): Vec3 => [a[0]! + b[0]!, a[1]! + b[1]!, a[2]! + b[2]!];
export const norm = (a: readonly number[]): number => Math.hypot(a[0]!, a[1]!, a[2]!);
export function normalize(a: readonly number[]): Vec3 {
  const n = norm(a);
  return n === 0 ? [0, 0, 0] : scale(a, 1 / n);
}

/** Column j (0..3) of an affine as a 3-vector. */
export const column = (m: Mat4, j: number): Vec3 => [m[j]!, m[4 + j]!, m[8 + j]!];
