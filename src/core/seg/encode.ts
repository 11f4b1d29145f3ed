/**
 * Two passes over a labelmap, no per-frame allocation: `scanLabelmap` finds which labels occur on which slices;
 * `packBinaryFrames` then sets every labelled voxel's bit straight into the BINARY Pixel Data, frame f of
 * rows * columns bits starting at bit f * rows * columns (no padding between frames), rows back in DICOM order
 * (r = rows-1-j), pixel 0 in the least significant bit (PS3.5 8.1.1).
 */

export interface LabelmapScan {
  /** Distinct non-zero label values, sorted. */
  labelValues: number[];
  /** Per label value: 1 for each slice k where it occurs. */
  slices: Map<number, Uint8Array>;
}

type Labels = Uint8Array | Uint16Array;

/** 32-bit words over an 8-bit labelmap whose rows are whole words: background is skipped four voxels at a time. */
function wordsOf(labelmap: Labels, columns: number): Uint32Array | undefined {
  return labelmap instanceof Uint8Array && columns % 4 === 0 && labelmap.byteOffset % 4 === 0
    ? new Uint32Array(labelmap.buffer, labelmap.byteOffset, labelmap.length >>> 2)
    : undefined;
}

/** Labels and the slices they occur on. */
export function scanLabelmap(labelmap: Labels, dims: readonly number[]): LabelmapScan {
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

/**
 * BINARY Pixel Data for `frameCount` frames; `frameOf(label, k)` is the frame of label `label` on slice k (every
 * labelled voxel must have one). The result is padded to an even length.
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
