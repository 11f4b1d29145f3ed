/** Atomic file output: write a temporary sibling, then rename over the target (same file system). */
import { writeSync } from 'node:fs';
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DeferredValue } from '../core/dicom/model.ts';
import { MedvoxError } from '../core/errors.ts';

/** Pieces of a file: bytes as they are, or values produced a chunk at a time (DeferredValue.readInto). */
export type FileParts = ReadonlyArray<Uint8Array | DeferredValue>;

/** Bytes of a deferred value produced at a time, and the buffers that take turns (filled while others are written). */
const CHUNK_BYTES = 4 * 1024 * 1024;
const BUFFERS = 3;

let temporaries = 0;

/**
 * A temporary sibling of `path` for writing it atomically: the process id, a counter and random letters keep
 * concurrent writers apart. Not node:crypto: loading it took ~1.7 ms of every CLI command's start, and the name
 * guards against collisions, not an adversary (the folder is the user's, and the file is created exclusively).
 */
export function temporaryPath(path: string): string {
  return `${path}.tmp-${process.pid.toString(36)}-${(temporaries++).toString(36)}${Math.random().toString(36).slice(2, 10)}`;
}

export async function writeFileAtomic(path: string, data: Uint8Array | string | FileParts): Promise<void> {
  if (Array.isArray(data)) {
    await writeAtomic(path, (handle) => writeParts(handle, data as FileParts));
    return;
  }
  await writeAtomic(path, (handle) => handle.writeFile(data as Uint8Array | string));
}

/**
 * The file written by `write` into a temporary sibling, then renamed over `path`; on any failure the temporary file
 * is removed and the error is an IO_ERROR naming `path` (a MedvoxError keeps its code).
 */
async function writeAtomic(path: string, write: (handle: FileHandle) => Promise<void>): Promise<void> {
  await ensureDirectory(dirname(path));
  const temporary = temporaryPath(path);
  try {
    const handle = await open(temporary, 'wx');
    try {
      await write(handle);
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    if (error instanceof MedvoxError) throw error.file ? error : error.withFile(path);
    throw new MedvoxError('IO_ERROR', `cannot write: ${(error as Error).message}`, { file: path, cause: error });
  }
}

/**
 * Write the parts in order from the start of the file: byte parts together (writev), deferred values by chunks (the
 * header's writev runs while the first chunk is produced).
 */
async function writeParts(handle: FileHandle, parts: FileParts): Promise<void> {
  let position = 0;
  let batch: Uint8Array[] = [];
  let batchAt = 0;
  const flush = (): Promise<void> => {
    const buffers = batch;
    batch = [];
    return buffers.length > 0 ? writeAllAt(handle, buffers, batchAt) : Promise.resolve();
  };
  for (const part of parts) {
    if (part instanceof Uint8Array) {
      if (batch.length === 0) batchAt = position;
      batch.push(part);
      position += part.length;
      continue;
    }
    const written = flush();
    written.catch(() => {}); // awaited below
    await writeValueAt(handle, part, position);
    await written;
    position += part.length;
  }
  await flush();
}

/**
 * Write a deferred value at `position`, produced a chunk at a time into a few buffers that are written on the thread
 * pool as soon as they are full (the next write already queued while one runs), so that producing and writing
 * overlap and the value is never in memory whole.
 */
async function writeValueAt(handle: FileHandle, value: DeferredValue, position: number): Promise<void> {
  if (value.nonZeroRanges) {
    await writeSparseAt(handle.fd, value, value.nonZeroRanges(), position);
    return;
  }
  const size = Math.min(CHUNK_BYTES, value.length);
  const buffers = Array.from({ length: BUFFERS }, () => new Uint8Array(size));
  const writes: Array<Promise<void>> = buffers.map(() => Promise.resolve());
  for (let offset = 0, which = 0; offset < value.length; offset += CHUNK_BYTES, which = (which + 1) % BUFFERS) {
    // This buffer's previous write must have ended before it is filled again.
    await writes[which];
    const chunk = buffers[which]!.subarray(0, Math.min(CHUNK_BYTES, value.length - offset));
    value.readInto(offset, [chunk]);
    const write = writeAllAt(handle, [chunk], position + offset);
    write.catch(() => {}); // awaited below or at the buffer's next turn; not an unhandled rejection meanwhile
    writes[which] = write;
  }
  await Promise.all(writes);
}

/** Holes smaller than this are written as zeros: a file system allocates whole blocks. */
const HOLE_MIN = 16 * 1024;

/**
 * Write only the ranges of a mostly-zero value that may be non-zero, and leave the rest as holes (a sparse file:
 * the zeros take no disk and, above all, no page cache). A BINARY SEG of 44 MiB is ~70% whole zero pages; written
 * whole, each of its 11 k pages is a page of the page cache to allocate and copy into (16-80 ms here, varying from
 * run to run); its ~1,400 ranges took 18.5-20 ms with synchronous writes (docs/segmentation.md). Synchronous: one
 * call a range, no thread-pool round trip; the event loop gets a turn every CHUNK_BYTES written.
 */
async function writeSparseAt(
  fd: number,
  value: DeferredValue,
  ranges: Iterable<readonly [number, number]>,
  position: number,
): Promise<void> {
  let buffer = new Uint8Array(0);
  let sinceTurn = 0;
  const write = (start: number, end: number): void => {
    for (let at = start; at < end; at += CHUNK_BYTES) {
      const length = Math.min(CHUNK_BYTES, end - at);
      if (buffer.length < length) buffer = new Uint8Array(Math.max(length, 256 * 1024));
      const piece = buffer.subarray(0, length);
      value.readInto(at, [piece]);
      writeAllSync(fd, piece, position + at);
      sinceTurn += length;
    }
  };
  let from = -1;
  let to = -1;
  for (const [start, end] of ranges) {
    if (end <= start) continue;
    if (from >= 0 && start <= to + HOLE_MIN) {
      to = Math.max(to, end);
      continue;
    }
    if (from >= 0) write(from, to);
    from = start;
    to = end;
    if (sinceTurn >= CHUNK_BYTES) {
      sinceTurn = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  if (from >= 0) write(from, to);
  // The file reaches the value's end even when its last bytes are a hole.
  if (to < value.length && value.length > 0) write(value.length - 1, value.length);
}

function writeAllSync(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) {
    const wrote = writeSync(fd, bytes, done, bytes.length - done, position + done);
    if (wrote === 0) throw tookNoBytes();
    done += wrote;
  }
}

/** A write that made no progress: typed here, named with the output file by writeAtomic. */
function tookNoBytes(): MedvoxError {
  return new MedvoxError('IO_ERROR', 'cannot write: the file system took no bytes', {
    hint: 'check the free space of the output folder',
  });
}

/** writev until every byte is written (a regular file may take fewer bytes a call). */
async function writeAllAt(handle: FileHandle, buffers: Uint8Array[], position: number): Promise<void> {
  let remaining = buffers;
  let at = position;
  while (remaining.length > 0) {
    const { bytesWritten } = await handle.writev(remaining, at);
    at += bytesWritten;
    let skip = bytesWritten;
    const rest: Uint8Array[] = [];
    for (const buffer of remaining) {
      if (skip >= buffer.length) {
        skip -= buffer.length;
        continue;
      }
      rest.push(skip > 0 ? buffer.subarray(skip) : buffer);
      skip = 0;
    }
    if (bytesWritten === 0 && rest.length > 0) throw tookNoBytes();
    remaining = rest;
  }
}

/** Create a folder (and its parents); a typed IO_ERROR naming it when that is impossible. */
export async function ensureDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new MedvoxError('IO_ERROR', `cannot create the output folder: ${(error as Error).message}`, {
      file: dir,
      hint: 'choose an --output folder you can write to',
      cause: error,
    });
  }
}
