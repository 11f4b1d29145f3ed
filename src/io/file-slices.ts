/**
 * Native grey slices copied from their DICOM files into a .nii file, synchronously: read the frame, flip its rows
 * (j = rows-1-r, docs GEOMETRY), mask or sign-extend it to Bits Stored, write it at its place. Used by this thread
 * and by slice-worker.ts, which share the slices of a volume (slice-copier.ts); so this module imports nothing
 * but node:fs, and the worker's bundle stays small.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

/** A volume's slices that are still in their files, as the planner found them (core/volume FileFrames). */
export interface FileSliceJob extends SliceShape {
  /** Where slice 0 goes in the output file; slice i goes `i * rows * columns * bytesPerSample` later. */
  voxOffset: number;
  frames: readonly FileFrame[];
}

/**
 * Reused buffers of one thread: the frame as read, a view of each of its rows (made once: a view per row and slice
 * was 150,000 small objects for 300 slices of 512 rows, most of a conversion's garbage), and the flipped slice.
 */
export interface SliceScratch {
  read: Uint8Array;
  rows: Uint8Array[];
  flipped: Uint8Array;
}

export function sliceScratch(job: SliceShape): SliceScratch {
  const rowBytes = job.columns * job.bytesPerSample;
  const read = new Uint8Array(job.rows * rowBytes);
  const rows = Array.from({ length: job.rows }, (_, r) => read.subarray(r * rowBytes, (r + 1) * rowBytes));
  return { read, rows, flipped: new Uint8Array(read.length) };
}

/** Where a slice lies in its file, and how its values are stored. */
export interface FileFrame {
  path: string;
  offset: number;
  bitsStored: number;
  signed: boolean;
}

/** Slice geometry: `rows * columns` values of `bytesPerSample` bytes. */
export interface SliceShape {
  rows: number;
  columns: number;
  bytesPerSample: number;
}

/**
 * Read `frame` into `target` (its slice's bytes) with the rows flipped, masked / sign-extended to Bits Stored.
 * Returns the largest value of unsigned 16-bit data (the NIfTI header may then say int16), else 0. Throws the file
 * system's error (a short file: 'the file is shorter than its Pixel Data'); the caller names the file.
 */
function readFileSlice(shape: SliceShape, frame: FileFrame, target: Uint8Array, scratch: SliceScratch): number {
  const { rows, columns, bytesPerSample } = shape;
  const rowBytes = columns * bytesPerSample;
  const sliceBytes = rows * rowBytes;
  const { read } = scratch;
  const source = openSync(frame.path, 'r');
  try {
    let done = 0;
    while (done < sliceBytes) {
      const got = readSync(source, read, done, sliceBytes - done, frame.offset + done);
      if (got === 0) throw new Error('the file is shorter than its Pixel Data');
      done += got;
    }
  } finally {
    closeSync(source);
  }
  for (let r = 0; r < rows; r++) target.set(scratch.rows[r]!, (rows - 1 - r) * rowBytes);
  return clampToBitsStored(target, bytesPerSample, frame.bitsStored, frame.signed);
}

/**
 * Copy slice `index` of `job` into the output file `fd` (readFileSlice, then written at its place). A failed write
 * throws an OutputError.
 */
export function copyFileSlice(job: FileSliceJob, index: number, fd: number, scratch: SliceScratch): number {
  const sliceBytes = job.rows * job.columns * job.bytesPerSample;
  const { flipped } = scratch;
  const max = readFileSlice(job, job.frames[index]!, flipped, scratch);
  let written = 0;
  const position = job.voxOffset + index * sliceBytes;
  try {
    while (written < sliceBytes) written += writeSync(fd, flipped, written, sliceBytes - written, position + written);
  } catch (error) {
    throw new OutputError((error as Error).message);
  }
  return max;
}

/** Writing the output failed (a full disk, say), not reading the DICOM file. */
export class OutputError extends Error {}

/** Masked / sign-extended to Bits Stored as the codecs do (core/volume copyNative); the max of uint16 data. */
function clampToBitsStored(bytes: Uint8Array, bytesPerSample: number, bitsStored: number, signed: boolean): number {
  const length = bytes.length / bytesPerSample;
  const values =
    bytesPerSample === 1
      ? signed
        ? new Int8Array(bytes.buffer, bytes.byteOffset, length)
        : bytes
      : bytesPerSample === 2
        ? signed
          ? new Int16Array(bytes.buffer, bytes.byteOffset, length)
          : new Uint16Array(bytes.buffer, bytes.byteOffset, length)
        : signed
          ? new Int32Array(bytes.buffer, bytes.byteOffset, length)
          : new Uint32Array(bytes.buffer, bytes.byteOffset, length);
  if (bitsStored < bytesPerSample * 8) {
    const shift = 32 - bitsStored;
    const mask = 2 ** bitsStored - 1;
    for (let i = 0; i < length; i++) {
      const value = values[i]!;
      values[i] = signed ? (value << shift) >> shift : (value & mask) >>> 0;
    }
  }
  if (!(values instanceof Uint16Array)) return 0;
  let max = 0;
  for (let i = 0; i < length; i++) if (values[i]! > max) max = values[i]!;
  return max;
}
