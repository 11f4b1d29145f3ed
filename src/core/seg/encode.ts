/**
 * A labelmap -> BINARY Pixel Data without per-frame allocation. `scanLabelmap` reads the labelmap once and finds
 * which labels occur on which slices and, while they stay few, the runs of each label along the rows (organs are a
 * few runs a row: a 512x512x300 mask of 20 organs is ~0.2 M runs for 78 M voxels). `binaryPixelData` then packs
 * any byte range of the Pixel Data from those runs alone, so it can be produced chunk by chunk while earlier chunks
 * are written; `packBinaryFrames` packs from the labelmap itself when the runs were too many to keep. Either way
 * frame f is rows * columns bits starting at bit f * rows * columns (no padding between frames), rows back in DICOM
 * order (r = rows-1-j), pixel 0 in the least significant bit (PS3.5 8.1.1).
 */
import type { DeferredValue } from '../dicom/model.ts';

export interface LabelmapScan {
  /** Distinct non-zero label values, sorted. */
  labelValues: number[];
  /** Per label value: 1 for each slice k where it occurs. */
  slices: Map<number, Uint8Array>;
  /** Per label value, its runs along the rows; absent when the labelmap has too many runs to keep. */
  runs?: Map<number, LabelRuns>;
}

/** The runs of one label: run n is row `rows[n]`, columns [first[n], end[n]); runs of slice k are [sliceStart[k], sliceStart[k+1]). */
export interface LabelRuns {
  rows: Uint16Array;
  first: Uint16Array;
  end: Uint16Array;
  sliceStart: Uint32Array;
}

type Labels = Uint8Array | Uint16Array;

/** 32-bit words over an 8-bit labelmap whose rows are whole words: background is skipped four voxels at a time. */
function wordsOf(labelmap: Labels, columns: number): Uint32Array | undefined {
  return labelmap instanceof Uint8Array && columns % 4 === 0 && labelmap.byteOffset % 4 === 0
    ? new Uint32Array(labelmap.buffer, labelmap.byteOffset, labelmap.length >>> 2)
    : undefined;
}

/** Runs of one label while they are being collected (arrays grow by doubling). */
class RunCollector {
  rows = new Uint16Array(1024);
  first = new Uint16Array(1024);
  end = new Uint16Array(1024);
  length = 0;
  readonly perSlice: Uint32Array;
  constructor(slices: number) {
    this.perSlice = new Uint32Array(slices);
  }
  add(k: number, j: number, first: number, end: number): void {
    if (this.length === this.rows.length) {
      const grow = <T extends Uint16Array>(array: T): T => {
        const bigger = new Uint16Array(array.length * 2);
        bigger.set(array);
        return bigger as T;
      };
      this.rows = grow(this.rows);
      this.first = grow(this.first);
      this.end = grow(this.end);
    }
    const n = this.length++;
    this.rows[n] = j;
    this.first[n] = first;
    this.end[n] = end;
    this.perSlice[k]!++;
  }
  finish(): LabelRuns {
    const sliceStart = new Uint32Array(this.perSlice.length + 1);
    for (let k = 0; k < this.perSlice.length; k++) sliceStart[k + 1] = sliceStart[k]! + this.perSlice[k]!;
    return { rows: this.rows, first: this.first, end: this.end, sliceStart };
  }
}

/**
 * Labels, the slices they occur on and their runs. Runs are kept while they take at most half the labelmap's
 * bytes (6 bytes a run) or 64 Ki runs; past that (noise-like masks) they are dropped and the frames are packed from
 * the labelmap.
 */
export function scanLabelmap(labelmap: Labels, dims: readonly number[]): LabelmapScan {
  const [columns, rows, nz] = dims as [number, number, number];
  const sliceSize = columns * rows;
  const collectors = new Map<number, RunCollector>();
  const maxRuns = Math.max(1 << 16, Math.floor(labelmap.byteLength / 12));
  let runCount = 0;
  let keepRuns = columns <= 0xffff && rows <= 0xffff;
  let value = 0;
  let collector: RunCollector | undefined;
  const words = wordsOf(labelmap, columns);
  const run = (k: number, j: number, first: number, end: number, label: number): void => {
    if (label !== value) {
      value = label;
      collector = collectors.get(label);
      if (!collector) {
        collector = new RunCollector(nz);
        collectors.set(label, collector);
      }
    }
    if (keepRuns) {
      collector!.add(k, j, first, end);
      if (++runCount > maxRuns) keepRuns = false;
    } else {
      collector!.perSlice[k] = 1;
    }
  };
  for (let k = 0; k < nz; k++) {
    const base = k * sliceSize;
    if (words) {
      // Whole rows are whole words: skip background words over the slice; a non-zero word starts a row's runs,
      // followed until the row ends or a background word begins.
      let w = base >>> 2;
      const sliceEnd = (base + sliceSize) >>> 2;
      while (w < sliceEnd) {
        if (words[w] === 0) {
          w++;
          continue;
        }
        const j = Math.floor((w * 4 - base) / columns);
        const rowStart = base + j * columns;
        let c = w * 4 - rowStart;
        while (c < columns) {
          const label = labelmap[rowStart + c]!;
          if (label === 0) {
            c++;
            if ((c & 3) === 0 && words[(rowStart + c) >>> 2] === 0) break;
            continue;
          }
          let end = c + 1;
          while (end < columns && labelmap[rowStart + end] === label) end++;
          run(k, j, c, end, label);
          c = end;
          if ((c & 3) === 0 && words[(rowStart + c) >>> 2] === 0) break;
        }
        w = (rowStart + c) >>> 2; // c is a multiple of 4 here (a background word, or the row's end)
      }
      continue;
    }
    for (let j = 0; j < rows; j++) {
      const rowStart = base + j * columns;
      let c = 0;
      while (c < columns) {
        const label = labelmap[rowStart + c]!;
        if (label === 0) {
          c++;
          continue;
        }
        let end = c + 1;
        while (end < columns && labelmap[rowStart + end] === label) end++;
        run(k, j, c, end, label);
        c = end;
      }
    }
  }
  const slices = new Map<number, Uint8Array>();
  for (const [label, found] of collectors)
    slices.set(
      label,
      Uint8Array.from(found.perSlice, (n) => (n > 0 ? 1 : 0)),
    );
  const scan: LabelmapScan = { labelValues: [...collectors.keys()].sort((a, b) => a - b), slices };
  if (keepRuns) scan.runs = new Map([...collectors].map(([label, found]) => [label, found.finish()]));
  return scan;
}

/** One frame of BINARY Pixel Data: the label and the slice it shows. */
export interface BinaryFrame {
  label: number;
  k: number;
}

/**
 * BINARY Pixel Data for `frames` as a value produced on demand from the runs (`scan.runs` must be present): any byte
 * range is packed straight into the caller's buffer, so a writer can produce and write it a chunk at a time. The
 * value is padded to an even length.
 */
export function binaryPixelData(
  scan: LabelmapScan,
  dims: readonly number[],
  frames: readonly BinaryFrame[],
): DeferredValue {
  const runs = scan.runs;
  if (!runs) throw new Error('binaryPixelData needs the runs of the labelmap');
  const [columns, rows] = dims as [number, number, number];
  const frameBits = columns * rows;
  const totalBytes = Math.ceil((frameBits * frames.length) / 8);
  const length = totalBytes + (totalBytes % 2);
  const frameRuns = frames.map(({ label, k }) => {
    const found = runs.get(label);
    return found && found.sliceStart[k + 1]! > found.sliceStart[k]! ? { runs: found, k } : undefined;
  });
  const fill = (offset: number, target: Uint8Array): void => {
    target.fill(0);
    const firstBit = offset * 8;
    const endBit = firstBit + target.length * 8;
    const lastFrame = Math.min(frames.length, Math.ceil(endBit / frameBits));
    for (let f = Math.floor(firstBit / frameBits); f < lastFrame; f++) {
      const found = frameRuns[f];
      if (!found) continue;
      // Bit positions relative to the target, clipped to it (frames need not start or end on a byte).
      const frameStart = f * frameBits - firstBit;
      const { rows: runRows, first, end, sliceStart } = found.runs;
      const stop = sliceStart[found.k + 1]!;
      const limit = target.length * 8;
      for (let n = sliceStart[found.k]!; n < stop; n++) {
        const rowBit = frameStart + (rows - 1 - runRows[n]!) * columns;
        const from = Math.max(0, rowBit + first[n]!);
        const to = Math.min(limit, rowBit + end[n]!);
        if (from < to) setBits(target, from, to);
      }
    }
  };
  const readInto = (offset: number, targets: readonly Uint8Array[]): void => {
    let at = offset;
    for (const target of targets) {
      fill(at, target);
      at += target.length;
    }
  };
  return {
    length,
    readInto,
    read: () => {
      const out = new Uint8Array(length);
      readInto(0, [out]);
      return out;
    },
  };
}

/**
 * BINARY Pixel Data for `frameCount` frames straight from the labelmap; `frameOf(label, k)` is the frame of label
 * `label` on slice k (every labelled voxel must have one). The result is padded to an even length.
 */
export function packBinaryFrames(
  labelmap: Labels,
  dims: readonly number[],
  frameCount: number,
  frameOf: (label: number, k: number) => number,
): Uint8Array {
  const [columns, rows, nz] = dims as [number, number, number];
  const sliceSize = columns * rows;
  const totalBytes = Math.ceil((sliceSize * frameCount) / 8);
  const out = new Uint8Array(totalBytes + (totalBytes % 2));
  const words = wordsOf(labelmap, columns);
  // Organs are runs of one label along a row: each run becomes a range of bits, set a byte at a time.
  for (let k = 0; k < nz; k++) {
    let previous = 0;
    let frameStart = 0; // first bit of the current label's frame
    for (let j = 0; j < rows; j++) {
      const from = k * sliceSize + j * columns;
      const rowBit = (rows - 1 - j) * columns;
      let c = 0;
      while (c < columns) {
        if (words && (c & 3) === 0) {
          // Background four voxels at a time, in a tight loop.
          let w = (from + c) >>> 2;
          const rowEnd = (from + columns) >>> 2;
          while (w < rowEnd && words[w] === 0) w++;
          c = (w << 2) - from;
          if (c >= columns) break;
        }
        const value = labelmap[from + c]!;
        if (value === 0) {
          c++;
          continue;
        }
        let end = c + 1;
        while (end < columns && labelmap[from + end] === value) end++;
        if (value !== previous) {
          previous = value;
          frameStart = frameOf(value, k) * sliceSize;
        }
        setBits(out, frameStart + rowBit + c, frameStart + rowBit + end);
        c = end;
      }
    }
  }
  return out;
}

/** Set bits [first, end) of a little-endian bit string (bit 0 = least significant bit of byte 0). */
function setBits(out: Uint8Array, first: number, end: number): void {
  let bit = first;
  while (bit < end && (bit & 7) !== 0) {
    out[bit >>> 3]! |= 1 << (bit & 7);
    bit++;
  }
  const wholeEnd = end - (end & 7);
  if (bit < wholeEnd) {
    out.fill(0xff, bit >>> 3, wholeEnd >>> 3);
    bit = wholeEnd;
  }
  while (bit < end) {
    out[bit >>> 3]! |= 1 << (bit & 7);
    bit++;
  }
}
