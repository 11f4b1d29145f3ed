/**
 * Slice drawing from raw voxels into RGBA pixels (a Uint32Array over an ImageData), one pass per slice:
 * stored value -> grey through a window/level table built once per window, then grey (+ label) -> packed RGBA
 * through a blend table built once per overlay change. No allocation per frame. DOM-free.
 */

import { sliceOrigin, type ViewGeometry } from './views.ts';
import { isIntegerType, type VolumeHeader, type VoxelArray } from './volume.ts';

export interface WindowLevel {
  center: number;
  width: number;
}

/** Stored values covered by a lookup table (integer volumes whose range fits); others are mapped per voxel. */
const MAX_TABLE = 1 << 20;

export interface GreyTable {
  /** Stored value v -> grey table[v - offset] (integer volumes), or undefined: map per voxel. */
  table: Uint8Array | undefined;
  offset: number;
  /** Per-voxel mapping: grey = clamp((v * slope + intercept - low) * scale). */
  slope: number;
  intercept: number;
  low: number;
  scale: number;
}

/** Linear window (real values, e.g. HU): [center - width/2, center + width/2] -> 0..255. */
export function greyTable(header: VolumeHeader, window: WindowLevel, previous?: GreyTable): GreyTable {
  const width = Math.max(window.width, 1e-6);
  const low = window.center - width / 2;
  const scale = 255 / width;
  const slope = header.rescaleSlope || 1;
  const intercept = header.rescaleIntercept || 0;
  const base = { offset: header.min, slope, intercept, low, scale };
  const size = header.max - header.min + 1;
  if (!isIntegerType(header.datatype) || !(size > 0) || size > MAX_TABLE) return { ...base, table: undefined };
  const table = previous?.table?.length === size ? previous.table : new Uint8Array(size);
  const from = header.min;
  // grey(v) = ((v*slope + intercept) - low) * scale, linear in v: step it instead of multiplying.
  let grey = (from * slope + intercept - low) * scale;
  const step = slope * scale;
  for (let n = 0; n < size; n++, grey += step) table[n] = grey <= 0 ? 0 : grey >= 255 ? 255 : grey + 0.5;
  return { ...base, table };
}

export interface Label {
  value: number;
  name: string;
  colour: readonly [number, number, number];
  visible: boolean;
}

/** (label << 8 | grey) -> packed RGBA (little-endian ABGR). Row 0 and hidden labels are plain grey. */
export function blendTable(labels: readonly Label[], opacity: number, previous?: Uint32Array): Uint32Array {
  const maxLabel = labels.reduce((max, label) => Math.max(max, label.value), 0);
  const size = (maxLabel + 1) * 256;
  const table = previous?.length === size ? previous : new Uint32Array(size);
  for (let g = 0; g < 256; g++) table[g] = 0xff000000 | (g << 16) | (g << 8) | g;
  for (let row = 1; row <= maxLabel; row++) table.copyWithin(row * 256, 0, 256);
  const alpha = Math.min(Math.max(opacity, 0), 1);
  for (const label of labels) {
    if (!label.visible || label.value <= 0 || alpha === 0) continue;
    const [r, gr, b] = label.colour;
    const row = label.value * 256;
    for (let g = 0; g < 256; g++) {
      const keep = (1 - alpha) * g;
      const red = (keep + alpha * r + 0.5) | 0;
      const green = (keep + alpha * gr + 0.5) | 0;
      const blue = (keep + alpha * b + 0.5) | 0;
      table[row + g] = 0xff000000 | (blue << 16) | (green << 8) | red;
    }
  }
  return table;
}

export interface Overlay {
  labels: VoxelArray;
  blend: Uint32Array;
  /** Largest label row in the blend table (larger voxel values draw as background). */
  maxLabel: number;
}

/** A slice's stored values and labels, gathered once per slice change into contiguous arrays (screen order). */
export interface SliceCache {
  values: VoxelArray;
  labels: Uint16Array | undefined;
}

export function newSliceCache(geometry: ViewGeometry, image: VoxelArray, withLabels: boolean): SliceCache {
  const size = geometry.width * geometry.height;
  const Values = image.constructor as new (length: number) => VoxelArray;
  return { values: new Values(size), labels: withLabels ? new Uint16Array(size) : undefined };
}

/** Copy one slice of a view (values, and labels when given) into the cache, in screen order. */
export function gatherSlice(
  cache: SliceCache,
  geometry: ViewGeometry,
  slice: number,
  image: VoxelArray,
  labels: VoxelArray | undefined,
): void {
  const { width, height } = geometry;
  const stepU = geometry.uFlip ? -geometry.strideU : geometry.strideU;
  const stepV = geometry.vFlip ? -geometry.strideV : geometry.strideV;
  const origin = sliceOrigin(geometry, slice);
  const values = cache.values;
  const out = labels ? cache.labels : undefined;
  let p = 0;
  for (let v = 0; v < height; v++) {
    let index = origin + v * stepV;
    if (out && labels) {
      for (let u = 0; u < width; u++, index += stepU, p++) {
        values[p] = image[index]!;
        out[p] = labels[index]!;
      }
    } else for (let u = 0; u < width; u++, index += stepU) values[p++] = image[index]!;
  }
}

/** Paint a gathered slice into `out` (packed RGBA) through the window table and the overlay blend table. */
export function paintSlice(
  out: Uint32Array,
  cache: SliceCache,
  grey: GreyTable,
  blend: Uint32Array,
  maxLabel: number,
): void {
  const { values } = cache;
  const labels = maxLabel > 0 ? cache.labels : undefined;
  const size = out.length;
  const table = grey.table;
  if (table) {
    const offset = grey.offset;
    if (labels) {
      for (let p = 0; p < size; p++) {
        const label = labels[p]!;
        out[p] = blend[((label > maxLabel ? 0 : label) << 8) | table[values[p]! - offset]!]!;
      }
    } else for (let p = 0; p < size; p++) out[p] = blend[table[values[p]! - offset]!]!;
    return;
  }
  const { slope, intercept, low, scale } = grey;
  for (let p = 0; p < size; p++) {
    const value = ((values[p]! * slope + intercept - low) * scale) | 0;
    const g = value <= 0 ? 0 : value >= 255 ? 255 : value;
    const label = labels ? labels[p]! : 0;
    out[p] = blend[((label > maxLabel ? 0 : label) << 8) | g]!;
  }
}

/** Gather and paint one slice (the first-slice preview; the engine keeps its caches). */
export function drawSlice(
  out: Uint32Array,
  geometry: ViewGeometry,
  slice: number,
  image: VoxelArray,
  grey: GreyTable,
  overlay: Overlay | undefined,
  plain: Uint32Array,
): void {
  const cache = newSliceCache(geometry, image, overlay !== undefined);
  gatherSlice(cache, geometry, slice, image, overlay?.labels);
  paintSlice(out, cache, grey, overlay?.blend ?? plain, overlay ? overlay.maxLabel : 0);
}

/** Window from percentiles of the stored values (MR auto: 1st..99th percentile of the non-zero voxels). */
export function percentileWindow(header: VolumeHeader, image: VoxelArray, low = 0.01, high = 0.99): WindowLevel {
  const sample = Math.max(1, Math.floor(image.length / 200_000));
  const values: number[] = [];
  for (let n = 0; n < image.length; n += sample) {
    const value = image[n]!;
    if (value !== 0) values.push(value);
  }
  if (values.length === 0) return { center: 0, width: 1 };
  values.sort((a, b) => a - b);
  const slope = header.rescaleSlope || 1;
  const intercept = header.rescaleIntercept || 0;
  const a = values[Math.floor(low * (values.length - 1))]! * slope + intercept;
  const b = values[Math.floor(high * (values.length - 1))]! * slope + intercept;
  return { center: (a + b) / 2, width: Math.max(b - a, 1) };
}

export const PRESETS: Array<{ key: string; name: string; window?: WindowLevel }> = [
  { key: '1', name: 'CT brain', window: { center: 40, width: 80 } },
  { key: '2', name: 'Soft tissue', window: { center: 40, width: 400 } },
  { key: '3', name: 'Lung', window: { center: -600, width: 1500 } },
  { key: '4', name: 'Bone', window: { center: 400, width: 1800 } },
  { key: '5', name: 'MR auto' },
];

/** Colours for labels without one in their table (distinct hues). */
export function defaultColour(value: number): [number, number, number] {
  const hue = (value * 137.508) % 360;
  const f = (n: number): number => {
    const k = (n + hue / 30) % 12;
    return Math.round(255 * (0.5 - 0.45 * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}
