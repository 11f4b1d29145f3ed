/**
 * One pass over a labelmap: which labels occur on which slices, and (for BINARY SEGs) each label's 1-bit frame of
 * each slice, already in DICOM order (rows back to r = rows-1-j, pixel 0 in the least significant bit, PS3.5
 * 8.1.1). Bits are set in place in Uint8Arrays; a frame buffer is allocated only where a label occurs.
 */

export interface LabelmapScan {
  /** Distinct non-zero label values, sorted. */
  labelValues: number[];
  /** Per label value: 1 for each slice k where it occurs. */
  slices: Map<number, Uint8Array>;
}

export interface PackedLabelmap extends LabelmapScan {
  /** Per label value: its packed frame of each slice where it occurs (undefined elsewhere). */
  frames: Map<number, Array<Uint8Array | undefined>>;
  /** Bytes of one packed frame: ceil(rows * columns / 8). */
  frameBytes: number;
}

type Labels = Uint8Array | Uint16Array;

function sortedKeys<T>(map: Map<number, T>): number[] {
  return [...map.keys()].sort((a, b) => a - b);
}

/** Labels and the slices they occur on. */
export function scanLabelmap(labelmap: Labels, dims: readonly number[]): LabelmapScan {
  const [columns, rows, nz] = dims as [number, number, number];
  const sliceSize = columns * rows;
  const slices = new Map<number, Uint8Array>();
  for (let k = 0; k < nz; k++) {
    let previous = 0;
    const end = (k + 1) * sliceSize;
    for (let index = k * sliceSize; index < end; index++) {
      const value = labelmap[index]!;
      if (value === 0 || value === previous) continue;
      previous = value;
      let flags = slices.get(value);
      if (!flags) {
        flags = new Uint8Array(nz);
        slices.set(value, flags);
      }
      flags[k] = 1;
    }
  }
  return { labelValues: sortedKeys(slices), slices };
}

/** Labels, their slices and their packed BINARY frames, in one pass. */
export function packLabelmap(labelmap: Labels, dims: readonly number[]): PackedLabelmap {
  const [columns, rows, nz] = dims as [number, number, number];
  const sliceSize = columns * rows;
  const frameBytes = Math.ceil(sliceSize / 8);
  const frames = new Map<number, Array<Uint8Array | undefined>>();
  const slices = new Map<number, Uint8Array>();
  const frameOf = (value: number, k: number): Uint8Array => {
    let list = frames.get(value);
    if (!list) {
      list = new Array(nz);
      frames.set(value, list);
      slices.set(value, new Uint8Array(nz));
    }
    let frame = list[k];
    if (!frame) {
      frame = new Uint8Array(frameBytes);
      list[k] = frame;
      slices.get(value)![k] = 1;
    }
    return frame;
  };
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < rows; j++) {
      const from = k * sliceSize + j * columns;
      const rowBit = (rows - 1 - j) * columns;
      let previous = 0;
      let frame: Uint8Array | undefined;
      for (let c = 0; c < columns; c++) {
        const value = labelmap[from + c]!;
        if (value === 0) continue;
        if (value !== previous) {
          previous = value;
          frame = frameOf(value, k);
        }
        const bit = rowBit + c;
        frame![bit >>> 3]! |= 1 << (bit & 7);
      }
    }
  }
  return { labelValues: sortedKeys(frames), slices, frames, frameBytes };
}

/**
 * Concatenate packed frames of `frameBits` bits each without padding between them (PS3.5 8.1.1): byte copies when
 * frames are byte aligned, shifted bytes otherwise. The result is padded to an even length.
 */
export function concatenateBitFrames(frames: ReadonlyArray<Uint8Array | undefined>, frameBits: number): Uint8Array {
  const totalBytes = Math.ceil((frameBits * frames.length) / 8);
  const out = new Uint8Array(totalBytes + (totalBytes % 2));
  const frameBytes = Math.ceil(frameBits / 8);
  frames.forEach((frame, f) => {
    if (!frame) return;
    const startBit = f * frameBits;
    const shift = startBit % 8;
    const startByte = (startBit - shift) / 8;
    if (shift === 0) {
      out.set(frame.subarray(0, frameBytes), startByte);
      return;
    }
    // The last byte of a frame holds only frameBits % 8 valid bits: the rest are zero, so OR-ing is safe.
    for (let b = 0; b < frameBytes; b++) {
      const byte = frame[b]!;
      if (byte === 0) continue;
      out[startByte + b]! |= (byte << shift) & 0xff;
      const high = byte >>> (8 - shift);
      if (high) out[startByte + b + 1]! |= high;
    }
  });
  return out;
}
