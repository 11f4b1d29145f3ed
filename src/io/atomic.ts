/** Atomic file output: write a temporary sibling, then rename over the target (same file system). */
import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DeferredValue } from '../core/dicom/model.ts';
import { MedvoxError } from '../core/errors.ts';

/** Pieces of a file: bytes as they are, or values produced a chunk at a time (DeferredValue.readInto). */
export type FileParts = ReadonlyArray<Uint8Array | DeferredValue>;

/** Bytes of a deferred value produced at a time: two such buffers alternate (one filled while the other is written). */
const CHUNK_BYTES = 4 * 1024 * 1024;

export async function writeFileAtomic(path: string, data: Uint8Array | string | FileParts): Promise<void> {
  await ensureDirectory(dirname(path));
  const temporary = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    if (Array.isArray(data)) {
      const handle = await open(temporary, 'w');
      try {
        await writeParts(handle, data as FileParts);
      } finally {
        await handle.close();
      }
    } else {
      await writeFile(temporary, data as Uint8Array | string);
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    if (error instanceof MedvoxError) throw error.file ? error : error.withFile(path);
    throw new MedvoxError('IO_ERROR', `cannot write: ${(error as Error).message}`, { file: path, cause: error });
  }
}

/**
 * Write the parts in order. Byte parts go out together (writev); a deferred value is produced into one of two
 * buffers while the other is being written on the thread pool, so producing and writing overlap and the value is
 * never in memory whole.
 */
async function writeParts(handle: FileHandle, parts: FileParts): Promise<void> {
  let position = 0;
  let batch: Uint8Array[] = [];
  // The write in flight; at most one at a time, each at its own position.
  let pending: Promise<void> = Promise.resolve();
  const startWrite = (buffers: Uint8Array[]): void => {
    const at = position;
    position += buffers.reduce((sum, buffer) => sum + buffer.length, 0);
    pending = writeAllAt(handle, buffers, at);
  };
  let chunks: [Uint8Array, Uint8Array] | undefined;
  for (const part of parts) {
    if (part instanceof Uint8Array) {
      batch.push(part);
      continue;
    }
    await pending;
    if (batch.length > 0) startWrite(batch);
    batch = [];
    chunks ??= [new Uint8Array(CHUNK_BYTES), new Uint8Array(CHUNK_BYTES)];
    for (let offset = 0, which = 0; offset < part.length; offset += CHUNK_BYTES, which ^= 1) {
      const chunk = chunks[which]!.subarray(0, Math.min(CHUNK_BYTES, part.length - offset));
      part.readInto(offset, [chunk]);
      // The other buffer's write must end before this one starts (and before that buffer is filled again).
      await pending;
      startWrite([chunk]);
    }
  }
  await pending;
  if (batch.length > 0) startWrite(batch);
  await pending;
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
    if (bytesWritten === 0 && rest.length > 0) throw new Error('the file system took no bytes');
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
