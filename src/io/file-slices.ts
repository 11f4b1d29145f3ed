/**
 * Native grey slices read from their DICOM files, synchronously: read the frame, flip its rows and mask it to Bits
 * Stored (core/volume/native-rows.ts, as the volume reader does), then either write it at its place in a .nii file or
 * gather consecutive slices into one gzip member (.nii.gz). Used by this thread and by slice-worker.ts, which take
 * slices or members from one shared counter (slice-copier.ts); so this module imports only small ones, and the
 * worker's bundle stays small.
 */
import { closeSync, writeSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { MedvoxError } from '../core/errors.ts';
import {
  clampToBitsStored,
  flipRowsInto,
  type RowBuffer,
  rowBuffer,
  type StoredArray,
} from '../core/volume/native-rows.ts';
import { openForReading, readFully } from './file-read.ts';

/** Where a slice lies in its file, and how its values are stored. */
export interface FileFrame {
  path: string;
  offset: number;
  bitsStored: number;
  signed: boolean;
}

/** A volume's slices that are still in their files, as the planner found them (core/volume FileFrames). */
export interface FileSliceJob {
  rows: number;
  columns: number;
  /** 1, 2 or 4. */
  bytesPerSample: number;
  /** Where slice 0 goes in the output file; slice i goes `i * rows * columns * bytesPerSample` later. */
  voxOffset: number;
  frames: readonly FileFrame[];
}

/** Slots of the state a copy's threads share (Int32Array). */
export const NEXT = 0;
export const DONE = 1;
export const WORKER_MAX = 2;
/** 1 + the index of a slice the worker could not copy (0: none); the main thread copies it again to report it. */
export const FAILED = 3;
export const STATE_SLOTS = 4;

/** Reused buffers of one thread: the frame as read (with its row views) and the flipped slice. */
export interface SliceScratch {
  read: RowBuffer;
  flipped: Uint8Array;
}

export function sliceScratch(job: FileSliceJob): SliceScratch {
  const read = rowBuffer(job.rows, job.columns * job.bytesPerSample);
  return { read, flipped: new Uint8Array(read.whole.length) };
}

/**
 * Read slice `index` of `job` into `target` (its `rows * columns * bytesPerSample` bytes) as the volume holds it:
 * rows flipped, masked or sign-extended to Bits Stored. Returns the largest value of unsigned 16-bit data (the NIfTI
 * header may then say int16), else 0. IO_ERROR naming the DICOM file when it cannot be read.
 */
function readFileSlice(job: FileSliceJob, index: number, target: Uint8Array, scratch: SliceScratch): number {
  const frame = job.frames[index]!;
  const { read } = scratch;
  const source = openForReading(frame.path);
  try {
    readFully(source, read.whole, frame.offset, frame.path);
  } finally {
    closeSync(source);
  }
  flipRowsInto(read, target, 0);
  const values = storedValues(target, job.bytesPerSample, frame.signed);
  clampToBitsStored(values, 0, values.length, frame.bitsStored, frame.signed);
  return values instanceof Uint16Array ? largest(values) : 0;
}

/**
 * Copy slice `index` of `job` into the output file `fd`; returns the largest value of unsigned 16-bit data, else 0.
 * Errors: IO_ERROR naming the DICOM file that cannot be read, or IO_ERROR "cannot write" without a file (the NIfTI
 * stream adds its own path).
 */
export function copyFileSlice(job: FileSliceJob, index: number, fd: number, scratch: SliceScratch): number {
  const { flipped } = scratch;
  const max = readFileSlice(job, index, flipped, scratch);
  let written = 0;
  const position = job.voxOffset + index * flipped.length;
  try {
    while (written < flipped.length)
      written += writeSync(fd, flipped, written, flipped.length - written, position + written);
  } catch (error) {
    throw new MedvoxError('IO_ERROR', `cannot write: ${(error as Error).message}`, { cause: error });
  }
  return max;
}

/** How a .nii.gz volume's slices are cut into gzip members: `perMember` consecutive slices (fewer in the last). */
export interface MemberCut {
  perMember: number;
  /** zlib level. */
  level: number;
  /** Members of the job: ceil(frames / perMember). */
  members: number;
}

/** Reused buffer of one thread for the slices of a member. */
export function memberBuffer(job: FileSliceJob, cut: MemberCut): Uint8Array {
  return new Uint8Array(job.rows * job.columns * job.bytesPerSample * cut.perMember);
}

/**
 * Member `member` of `job` as one gzip member: its slices read into `buffer` (rows flipped, masked: readFileSlice),
 * then compressed on this thread. Returns the member and the largest value of unsigned 16-bit data. A slice that
 * cannot be read throws an IO_ERROR naming its file.
 */
export function gzipFileMember(
  job: FileSliceJob,
  member: number,
  cut: MemberCut,
  buffer: Uint8Array,
  scratch: SliceScratch,
): { bytes: Uint8Array; max: number } {
  const sliceBytes = job.rows * job.columns * job.bytesPerSample;
  const first = member * cut.perMember;
  const count = Math.min(cut.perMember, job.frames.length - first);
  let max = 0;
  for (let i = 0; i < count; i++) {
    const target = buffer.subarray(i * sliceBytes, (i + 1) * sliceBytes);
    max = Math.max(max, readFileSlice(job, first + i, target, scratch));
  }
  const bytes = gzipSync(buffer.subarray(0, count * sliceBytes), { level: cut.level, chunkSize: GZIP_OUTPUT_CHUNK });
  return { bytes, max };
}

/** Output pieces of zlib (not its 16 KiB: fewer, larger pieces to join). */
const GZIP_OUTPUT_CHUNK = 256 * 1024;

/**
 * The claim loop of both threads: take items (the slices of a .nii, or the members of a .nii.gz) from the counter in
 * `state` and do each (`work`, which returns the largest value of unsigned 16-bit data, else 0) until all `count` are
 * taken. Every item taken counts in DONE, done or not (so that a thread waiting for the others knows when nothing
 * writes any more); `failed` decides what a failure does: return to go on (the worker), throw to stop (this thread).
 * `publishMax` stores the running maximum in WORKER_MAX before each item counts as done. Returns the maximum and how
 * many items `work` did.
 */
export function doTakenItems(
  state: Int32Array,
  count: number,
  work: (index: number) => number,
  failed: (index: number, error: unknown) => void,
  publishMax = false,
): { max: number; done: number } {
  let max = 0;
  let done = 0;
  for (;;) {
    const index = Atomics.add(state, NEXT, 1);
    if (index >= count) return { max, done };
    try {
      max = Math.max(max, work(index));
      done++;
      if (publishMax) Atomics.store(state, WORKER_MAX, max);
    } catch (error) {
      failed(index, error);
    } finally {
      Atomics.add(state, DONE, 1);
      Atomics.notify(state, DONE);
    }
  }
}

/** The claim loop (doTakenItems) over the slices of `job`, each copied into `fd` (copyFileSlice). */
export function copyTakenSlices(
  job: FileSliceJob,
  fd: number,
  state: Int32Array,
  scratch: SliceScratch,
  failed: (index: number, error: unknown) => void,
  publishMax = false,
): { max: number; copied: number } {
  const work = (index: number): number => copyFileSlice(job, index, fd, scratch);
  const { max, done } = doTakenItems(state, job.frames.length, work, failed, publishMax);
  return { max, copied: done };
}

function storedValues(bytes: Uint8Array, bytesPerSample: number, signed: boolean): StoredArray {
  const { buffer, byteOffset } = bytes;
  const length = bytes.length / bytesPerSample;
  if (bytesPerSample === 1) return signed ? new Int8Array(buffer, byteOffset, length) : bytes;
  if (bytesPerSample === 2)
    return signed ? new Int16Array(buffer, byteOffset, length) : new Uint16Array(buffer, byteOffset, length);
  return signed ? new Int32Array(buffer, byteOffset, length) : new Uint32Array(buffer, byteOffset, length);
}

function largest(values: Uint16Array): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
  return max;
}
