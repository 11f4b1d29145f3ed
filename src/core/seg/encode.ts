/**
 * A labelmap -> BINARY Pixel Data without per-frame allocation. `scanLabelmap` reads the labelmap once and finds
 * which labels occur on which slices and, while they stay few, the runs of each label along the rows (organs are a
 * few runs a row: a 512x512x300 mask of 20 organs is ~0.2 M runs for 78 M voxels). `binaryPixelData` then packs
 * any byte range of the Pixel Data from those runs alone, so it can be produced chunk by chunk while earlier chunks
 * are written; `packBinaryFrames` packs from the labelmap itself when the runs were too many to keep. Either way
 * frame f is rows * columns bits starting at bit f * rows * columns (no padding between frames), rows back in DICOM
 * order (r = rows-1-j), pixel 0 in the least significant bit (PS3.5 8.1.1).
 */
import { type DeferredValue, deferredValue } from '../dicom/model.ts';
import { MedvoxError } from '../errors.ts';

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

/**
 * Labels, the slices they occur on and their runs. Runs are kept while they take at most half the labelmap's
 * bytes (6 bytes a run) or 64 Ki runs; past that (noise-like masks) they are dropped and the frames are packed from
 * the labelmap.
 */
export function scanLabelmap(labelmap: Labels, dims: readonly number[]): LabelmapScan {
  const [columns, rows, nz] = dims as [number, number, number];
  if (columns <= 0xffff) {
    const collector = new RunCollector(columns, labelmap.byteLength);
    if (collector.add(labelmap, 0)) return collector.scan(rows, nz);
  }
  return labelSlices(labelmap, dims);
}

/**
 * The runs of a labelmap given a block of whole rows at a time (in voxel order), for readers that never hold the
 * whole labelmap (io/mask-scan.ts); `scanLabelmap` gives it the labelmap in one block. `add` says false once the
 * runs would take more than half of `labelmapBytes` (or 64 Ki runs, whichever is more): the caller then needs
 * the labelmap itself.
 */
export class RunCollector {
  /** Three words a run in voxel order: global row (k * rows + j), first column | end column << 16, label. */
  private sink: RunSink;

  constructor(
    private readonly columns: number,
    labelmapBytes: number,
  ) {
    if (columns > 0xffff) throw new MedvoxError('INTERNAL', `RunCollector: ${columns} columns do not fit 16 bits`);
    this.sink = { runs: new Uint32Array(3 * 65536), n: 0, maxRuns: Math.max(1 << 16, Math.floor(labelmapBytes / 12)) };
  }

  /** The runs of `block` (whole rows, the first of them global row `firstRow`); false past the run limit. */
  add(block: Labels, firstRow: number): boolean {
    return collectRuns(block, this.columns, firstRow, this.sink);
  }

  /** Labels, their slices and their runs so far, for a labelmap of `rows` x `nz` rows. */
  scan(rows: number, nz: number): LabelmapScan {
    return groupRuns(this.sink.runs, this.sink.n / 3, rows, nz);
  }
}

interface RunSink {
  runs: Uint32Array;
  /** Words used (3 a run). */
  n: number;
  maxRuns: number;
}

/**
 * Every run of `labelmap` (whole rows, the first global row `firstRow`) appended to `sink`. One tight loop with a
 * single way out per run, so that the JIT compiles it early (the CLI calls it a few times, cold). False past the
 * sink's `maxRuns`.
 */
function collectRuns(labelmap: Labels, columns: number, firstRow: number, sink: RunSink): boolean {
  const words = wordsOf(labelmap, columns);
  let runs = sink.runs;
  let n = sink.n;
  if (words) {
    // Whole rows are whole words: skip background words; a non-zero word starts a row's runs, followed until the
    // row ends or a background word begins.
    const wordCount = words.length;
    let w = 0;
    for (;;) {
      w = nextNonZero(words, w, wordCount);
      if (w === wordCount) break;
      const row = Math.floor((w * 4) / columns);
      const rowStart = row * columns;
      let c = w * 4 - rowStart;
      while (c < columns) {
        const label = labelmap[rowStart + c]!;
        if (label === 0) {
          c++;
          if ((c & 3) === 0 && words[(rowStart + c) >>> 2] === 0) break;
          continue;
        }
        const end = runEnd(labelmap as Uint8Array, words, rowStart + c + 1, rowStart + columns, label) - rowStart;
        if (n === runs.length) {
          if (n / 3 >= sink.maxRuns) return false;
          runs = doubled(runs);
          sink.runs = runs;
        }
        runs[n] = firstRow + row;
        runs[n + 1] = c | (end << 16);
        runs[n + 2] = label;
        n += 3;
        c = end;
        if ((c & 3) === 0 && words[(rowStart + c) >>> 2] === 0) break;
      }
      w = (rowStart + c) >>> 2; // c is a multiple of 4 here (a background word, or the row's end)
    }
    sink.n = n;
    return true;
  }
  const rowCount = labelmap.length / columns;
  for (let row = 0; row < rowCount; row++) {
    const rowStart = row * columns;
    let c = 0;
    while (c < columns) {
      const label = labelmap[rowStart + c]!;
      if (label === 0) {
        c++;
        continue;
      }
      let end = c + 1;
      while (end < columns && labelmap[rowStart + end] === label) end++;
      if (n === runs.length) {
        if (n / 3 >= sink.maxRuns) return false;
        runs = doubled(runs);
        sink.runs = runs;
      }
      runs[n] = firstRow + row;
      runs[n + 1] = c | (end << 16);
      runs[n + 2] = label;
      n += 3;
      c = end;
    }
  }
  sink.n = n;
  return true;
}

/** The end of the run of `label` that continues at `from` (at most `rowEnd`), four voxels at a time where aligned. */
function runEnd(labelmap: Uint8Array, words: Uint32Array, from: number, rowEnd: number, label: number): number {
  let at = from;
  while (at < rowEnd && (at & 3) !== 0 && labelmap[at] === label) at++;
  if ((at & 3) === 0) {
    const word = (label * 0x01010101) >>> 0;
    while (at + 4 <= rowEnd && words[at >>> 2] === word) at += 4;
  }
  while (at < rowEnd && labelmap[at] === label) at++;
  return at;
}

/** The first non-zero word at or after `w` (`end` if none): its own small function, so it is optimised early. */
function nextNonZero(words: Uint32Array, w: number, end: number): number {
  let at = w;
  while (at < end && words[at] === 0) at++;
  return at;
}

function doubled(array: Uint32Array): Uint32Array {
  const bigger = new Uint32Array(array.length * 2);
  bigger.set(array);
  return bigger;
}

/** The runs (voxel order) sorted out by label: each label's runs stay in slice, then row order. */
function groupRuns(runs: Uint32Array, count: number, rows: number, nz: number): LabelmapScan {
  const perLabel = new Uint32Array(0x10000);
  for (let n = 0; n < count; n++) perLabel[runs[3 * n + 2]!]!++;
  const labelValues: number[] = [];
  for (let label = 1; label < perLabel.length; label++) if (perLabel[label]! > 0) labelValues.push(label);
  const grouped: Array<LabelRuns & { next: number }> = [];
  for (const label of labelValues) {
    const size = perLabel[label]!;
    grouped[label] = {
      rows: new Uint16Array(size),
      first: new Uint16Array(size),
      end: new Uint16Array(size),
      sliceStart: new Uint32Array(nz + 1),
      next: 0,
    };
  }
  for (let n = 0; n < count; n++) {
    const row = runs[3 * n]!;
    const columns = runs[3 * n + 1]!;
    const target = grouped[runs[3 * n + 2]!]!;
    const k = Math.floor(row / rows);
    const at = target.next++;
    target.rows[at] = row - k * rows;
    target.first[at] = columns & 0xffff;
    target.end[at] = columns >>> 16;
    target.sliceStart[k + 1]!++;
  }
  const slices = new Map<number, Uint8Array>();
  const byLabel = new Map<number, LabelRuns>();
  for (const label of labelValues) {
    const { rows: runRows, first, end, sliceStart } = grouped[label]!;
    const flags = new Uint8Array(nz);
    for (let k = 0; k < nz; k++) {
      if (sliceStart[k + 1]! > 0) flags[k] = 1;
      sliceStart[k + 1]! += sliceStart[k]!;
    }
    slices.set(label, flags);
    byLabel.set(label, { rows: runRows, first, end, sliceStart });
  }
  return { labelValues, slices, runs: byLabel };
}

/** Labels and the slices they occur on, without runs (for labelmaps with too many runs to keep). */
function labelSlices(labelmap: Labels, dims: readonly number[]): LabelmapScan {
  const [columns, rows, nz] = dims as [number, number, number];
  const sliceSize = columns * rows;
  const slices = new Map<number, Uint8Array>();
  const words = wordsOf(labelmap, columns);
  const mark = (value: number, k: number): void => {
    let flags = slices.get(value);
    if (!flags) {
      flags = new Uint8Array(nz);
      slices.set(value, flags);
    }
    flags[k] = 1;
  };
  for (let k = 0; k < nz; k++) {
    let previous = 0;
    if (words) {
      const end = ((k + 1) * sliceSize) >>> 2;
      for (let w = (k * sliceSize) >>> 2; w < end; w++) {
        const word = words[w]!;
        if (word === 0) continue;
        for (let shift = 0; shift < 32; shift += 8) {
          const value = (word >>> shift) & 0xff; // little endian: the first voxel is the low byte
          if (value === 0 || value === previous) continue;
          previous = value;
          mark(value, k);
        }
      }
      continue;
    }
    const end = (k + 1) * sliceSize;
    for (let index = k * sliceSize; index < end; index++) {
      const value = labelmap[index]!;
      if (value === 0 || value === previous) continue;
      previous = value;
      mark(value, k);
    }
  }
  return { labelValues: [...slices.keys()].sort((a, b) => a - b), slices };
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
  if (!runs) throw new MedvoxError('INTERNAL', 'binaryPixelData needs the runs of the labelmap (scanned with runs)');
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
  // Each frame's bits lie in the rows between its first and last run: whole bytes around them.
  function* nonZeroRanges(): Generator<readonly [number, number]> {
    for (let f = 0; f < frames.length; f++) {
      const found = frameRuns[f];
      if (!found) continue;
      const { rows: runRows, sliceStart } = found.runs;
      let low = rows;
      let high = -1;
      for (let n = sliceStart[found.k]!; n < sliceStart[found.k + 1]!; n++) {
        const row = rows - 1 - runRows[n]!;
        if (row < low) low = row;
        if (row > high) high = row;
      }
      yield [Math.floor((f * frameBits + low * columns) / 8), Math.ceil((f * frameBits + (high + 1) * columns) / 8)];
    }
  }
  return deferredValue(length, readInto, { nonZeroRanges });
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

/** Set bits [first, end) of a little-endian bit string (bit 0 = least significant bit of byte 0); first < end. */
function setBits(out: Uint8Array, first: number, end: number): void {
  const firstByte = first >>> 3;
  const lastByte = (end - 1) >>> 3;
  const head = (0xff << (first & 7)) & 0xff;
  const tail = 0xff >>> (7 - ((end - 1) & 7));
  if (firstByte === lastByte) {
    out[firstByte]! |= head & tail;
    return;
  }
  out[firstByte]! |= head;
  // Runs are mostly short (an organ's width): a loop beats a call to fill() below a few dozen bytes.
  if (lastByte - firstByte > 32) out.fill(0xff, firstByte + 1, lastByte);
  else for (let byte = firstByte + 1; byte < lastByte; byte++) out[byte] = 0xff;
  out[lastByte]! |= tail;
}
