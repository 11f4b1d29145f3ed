/**
 * The three views of a volume, reformatted by voxel axis (no resampling): each view takes the voxel axes closest
 * to its screen directions (core/geometry axisCodes, nibabel's io_orientation). Screen conventions (radiological):
 * axial: patient Right on the screen left, Anterior at the top; coronal: Right on the left, Superior at the top;
 * sagittal: Anterior on the left, Superior at the top. Side labels come from the affine's direction cosines, so an
 * oblique volume is labelled by its real directions (e.g. "LA").
 */
import { apply } from '../../../src/core/geometry/affine.ts';
import { axisCodes } from '../../../src/core/geometry/orientation.ts';

export type ViewName = 'axial' | 'coronal' | 'sagittal';
export const VIEWS: ViewName[] = ['axial', 'coronal', 'sagittal'];

/** Screen right (+u) and screen down (+v) as LPS axis and sign; the slice normal's LPS axis. */
const SCREEN: Record<ViewName, { u: [number, 1 | -1]; v: [number, 1 | -1]; normal: number }> = {
  axial: { u: [0, 1], v: [1, 1], normal: 2 },
  coronal: { u: [0, 1], v: [2, -1], normal: 1 },
  sagittal: { u: [1, 1], v: [2, -1], normal: 0 },
};

export interface ViewGeometry {
  view: ViewName;
  /** Screen width / height in voxels, number of slices. */
  width: number;
  height: number;
  slices: number;
  /** Voxel axes (0 i, 1 j, 2 k) along screen u, screen v and through the slices. */
  uAxis: number;
  vAxis: number;
  sliceAxis: number;
  /** True when screen u (v) runs against the voxel axis. */
  uFlip: boolean;
  vFlip: boolean;
  /** Millimetres per screen pixel along u and v. */
  spacingU: number;
  spacingV: number;
  /** Letters at the screen's edges. */
  labels: { left: string; right: string; top: string; bottom: string };
  /** Index steps in the voxel array. */
  strideU: number;
  strideV: number;
  strideSlice: number;
}

const LETTERS: Array<[string, string]> = [
  ['L', 'R'],
  ['P', 'A'],
  ['S', 'I'],
];

/** Letters of an LPS direction, strongest component first; components under 30% of the strongest are left out. */
export function directionLetters(direction: readonly number[]): string {
  const parts = [0, 1, 2]
    .map((axis) => ({ axis, value: direction[axis]! }))
    .sort((a, b) => Math.abs(b.value) - Math.abs(a.value));
  const strongest = Math.abs(parts[0]!.value) || 1;
  return parts
    .filter((part) => Math.abs(part.value) >= 0.3 * strongest && part.value !== 0)
    .map((part) => LETTERS[part.axis]![part.value > 0 ? 0 : 1])
    .join('');
}

function axisColumn(affine: readonly number[], axis: number): [number, number, number] {
  const column: [number, number, number] = [affine[axis]!, affine[4 + axis]!, affine[8 + axis]!];
  const length = Math.hypot(...column) || 1;
  return [column[0] / length, column[1] / length, column[2] / length];
}

export function viewGeometry(dims: readonly number[], affineLPS: readonly number[], view: ViewName): ViewGeometry {
  const codes = axisCodes([...affineLPS]);
  const screen = SCREEN[view];
  const voxelAxisOf = (world: number): number => codes.findIndex((code) => code.axis === world);
  const uAxis = voxelAxisOf(screen.u[0]);
  const vAxis = voxelAxisOf(screen.v[0]);
  const sliceAxis = voxelAxisOf(screen.normal);
  const uFlip = codes[uAxis]!.sign !== screen.u[1];
  const vFlip = codes[vAxis]!.sign !== screen.v[1];
  const strides = [1, dims[0]!, dims[0]! * dims[1]!];
  const spacing = [0, 1, 2].map((axis) => Math.hypot(affineLPS[axis]!, affineLPS[4 + axis]!, affineLPS[8 + axis]!));
  const right = axisColumn(affineLPS, uAxis).map((value) => (uFlip ? -value : value));
  const down = axisColumn(affineLPS, vAxis).map((value) => (vFlip ? -value : value));
  return {
    view,
    width: dims[uAxis]!,
    height: dims[vAxis]!,
    slices: dims[sliceAxis]!,
    uAxis,
    vAxis,
    sliceAxis,
    uFlip,
    vFlip,
    spacingU: spacing[uAxis]! || 1,
    spacingV: spacing[vAxis]! || 1,
    labels: {
      right: directionLetters(right),
      left: directionLetters(right.map((value) => -value)),
      bottom: directionLetters(down),
      top: directionLetters(down.map((value) => -value)),
    },
    strideU: strides[uAxis]!,
    strideV: strides[vAxis]!,
    strideSlice: strides[sliceAxis]!,
  };
}

/** Voxel (i, j, k) shown at screen pixel (u, v) of a slice. */
export function voxelAt(geometry: ViewGeometry, u: number, v: number, slice: number): [number, number, number] {
  const voxel: [number, number, number] = [0, 0, 0];
  voxel[geometry.uAxis] = geometry.uFlip ? geometry.width - 1 - u : u;
  voxel[geometry.vAxis] = geometry.vFlip ? geometry.height - 1 - v : v;
  voxel[geometry.sliceAxis] = slice;
  return voxel;
}

/** The slice of a view that holds a voxel, and where the voxel is on the screen. */
export function screenOf(geometry: ViewGeometry, voxel: readonly number[]): { u: number; v: number; slice: number } {
  const u = voxel[geometry.uAxis]!;
  const v = voxel[geometry.vAxis]!;
  return {
    u: geometry.uFlip ? geometry.width - 1 - u : u,
    v: geometry.vFlip ? geometry.height - 1 - v : v,
    slice: voxel[geometry.sliceAxis]!,
  };
}

/** Index in the voxel array of screen pixel (0, 0) of a slice. */
export function sliceOrigin(geometry: ViewGeometry, slice: number): number {
  const u0 = geometry.uFlip ? geometry.width - 1 : 0;
  const v0 = geometry.vFlip ? geometry.height - 1 : 0;
  return u0 * geometry.strideU + v0 * geometry.strideV + slice * geometry.strideSlice;
}

/** Patient LPS coordinates (mm) of a voxel. */
export function patientLPS(affineLPS: readonly number[], voxel: readonly number[]): [number, number, number] {
  return apply([...affineLPS], voxel);
}
