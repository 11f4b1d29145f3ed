/**
 * Synchronous file reads that name the file in their errors (IO_ERROR). Small on purpose: the DICOM readers and the
 * slice worker (slice-worker.ts, whose bundle stays small) both read through it.
 */
import { openSync, readSync } from 'node:fs';
import { MedvoxError } from '../core/errors.ts';

/** A file descriptor for reading `path`; IO_ERROR naming the file when it cannot be opened. */
export function openForReading(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (error) {
    throw readError(error, path);
  }
}

/** One read(2) into `target` (from its start) at `position` of the file: the bytes read, 0 at the end. */
export function readSome(fd: number, target: Uint8Array, position: number, path: string): number {
  try {
    return readSync(fd, target, 0, target.length, position);
  } catch (error) {
    throw readError(error, path);
  }
}

/** Fill `target` from `position` of the file, or up to the file's end; returns the bytes read. */
export function readUpTo(fd: number, target: Uint8Array, position: number, path: string): number {
  let done = 0;
  while (done < target.length) {
    const got = readSome(fd, target.subarray(done), position + done, path);
    if (got === 0) break;
    done += got;
  }
  return done;
}

/** Fill `target` from `position` of the file; IO_ERROR naming `path` when the file is shorter. */
export function readFully(fd: number, target: Uint8Array, position: number, path: string): number {
  const done = readUpTo(fd, target, position, path);
  if (done < target.length) throw new MedvoxError('IO_ERROR', 'the file shrank while it was read', { file: path });
  return done;
}

function readError(error: unknown, path: string): MedvoxError {
  return new MedvoxError('IO_ERROR', `cannot read: ${(error as Error).message}`, { file: path, cause: error });
}
