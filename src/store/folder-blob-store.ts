/**
 * The default BlobStore: a folder of files named by the SHA-256 of their content (`ab/cd/abcd...`), written to a
 * temporary name and renamed, so a blob is either whole or absent and the same bytes are stored once.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { type FileHandle, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MedvoxError } from '../core/errors.ts';
import { ensureDirectory, temporaryPath } from '../io/atomic.ts';
import { BlobWriterPool } from './blob-writer.ts';
import type { BlobRef, BlobStore } from './types.ts';

const KEY = /^[0-9a-f]{64}$/;

/** Write every part; a write may be short (Linux writes at most 2 GiB - 4 KiB a call), so continue from there. */
async function writeAll(handle: FileHandle, parts: Uint8Array[], size: number): Promise<void> {
  let written = (await handle.writev(parts)).bytesWritten;
  if (written >= size) return;
  let start = 0;
  for (const part of parts) {
    const end = start + part.byteLength;
    while (written < end) {
      const from = written - start;
      written += (await handle.write(part, from, part.byteLength - from, written)).bytesWritten;
    }
    start = end;
  }
}

export class FolderBlobStore implements BlobStore {
  private readonly folders = new Set<string>();
  private writers: BlobWriterPool | undefined;

  constructor(readonly root: string) {}

  async put(data: Uint8Array | Uint8Array[], sha256?: string): Promise<BlobRef> {
    const parts = Array.isArray(data) ? data : [data];
    const hash = sha256 === undefined ? createHash('sha256') : undefined;
    let size = 0;
    for (const part of parts) {
      hash?.update(part);
      size += part.byteLength;
    }
    const key = hash ? hash.digest('hex') : sha256!;
    const path = this.pathOf(key);
    if (existsSync(path)) return { key, size, created: false };
    // The 65,536 fan-out folders are made once each (not a mkdir per blob: it competes with the writes).
    const folder = dirname(path);
    if (!this.folders.has(folder)) {
      await ensureDirectory(folder);
      this.folders.add(folder);
    }
    const temporary = temporaryPath(path);
    try {
      // One vectored write (writeFile would cut a 525 KB CT slice into 512 KiB chunks: two writes).
      const handle = await open(temporary, 'w');
      try {
        await writeAll(handle, parts, size);
      } finally {
        await handle.close();
      }
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw new MedvoxError('IO_ERROR', `cannot store a blob: ${(error as Error).message}`, {
        file: path,
        cause: error,
      });
    }
    return { key, size, created: true };
  }

  /** put on worker threads (hashing too): see blob-writer.ts. */
  putTransfer(data: Uint8Array): Promise<BlobRef & { buffer: Uint8Array }> {
    this.writers ??= new BlobWriterPool(this.root);
    return this.writers.write(data);
  }

  /** Stop the writer threads (idle ones never keep the process up). */
  async close(): Promise<void> {
    const writers = this.writers;
    this.writers = undefined;
    await writers?.close();
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      const buffer = await readFile(this.pathOf(key));
      return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    } catch (error) {
      throw new MedvoxError('IO_ERROR', `blob ${key} cannot be read: ${(error as Error).message}`, { cause: error });
    }
  }

  path(key: string): string {
    return this.pathOf(key);
  }

  async has(key: string): Promise<boolean> {
    try {
      await stat(this.pathOf(key));
      return true;
    } catch {
      return false;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async read(key: string, offset: number, length: number): Promise<Uint8Array> {
    const handle = await open(this.pathOf(key), 'r');
    try {
      const out = new Uint8Array(length);
      const { bytesRead } = await handle.read(out, 0, length, offset);
      return out.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  /** Remove temporary files an interrupted write left behind (called on open). */
  async sweepTemporaries(): Promise<number> {
    let removed = 0;
    const walk = async (dir: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (entry.name.includes('.tmp-')) {
          await rm(path, { force: true });
          removed++;
        }
      }
    };
    await walk(this.root);
    return removed;
  }

  private pathOf(key: string): string {
    // Keys come from our own index, but a key is never allowed to become a path outside the store.
    if (!KEY.test(key)) throw new MedvoxError('IO_ERROR', `not a blob key: ${key.slice(0, 80)}`);
    return join(this.root, key.slice(0, 2), key.slice(2, 4), key);
  }
}
