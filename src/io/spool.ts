/**
 * Text held back until the end: the body of a sheet whose header (columns discovered while rows stream in) can
 * only be written last. Up to 8 Mi characters stay in memory (a few thousand rows: no file I/O at all); past that
 * everything goes to a temporary file in large chunks, so memory stays bounded whatever the number of rows.
 */
import { createReadStream } from 'node:fs';
import { type FileHandle, open, rm } from 'node:fs/promises';
import { MedvoxError } from '../core/errors.ts';

/** Bytes kept in memory before spilling to the file; past it, the file is written in chunks of FLUSH_AT. */
const KEEP_IN_MEMORY = 1 << 23;
const FLUSH_AT = 1 << 20;

export class Spool {
  /**
   * The text not yet written out, as UTF-8. Kept as bytes, not as the appended strings: thousands of row strings
   * (each a tree of concatenations) surviving until the end made the garbage collector copy them again and again.
   */
  private buffer = Buffer.allocUnsafe(1 << 16);
  private pending = 0;
  private handle: FileHandle | undefined;
  /** Bytes appended so far (0: nothing to read back). */
  length = 0;

  constructor(readonly path: string) {}

  /** Append text; resolves at once unless a chunk had to be written out. */
  append(text: string): Promise<void> | undefined {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    if (this.pending + text.length * 3 > this.buffer.length) {
      const needed = this.pending + text.length * 3;
      if (this.handle === undefined && needed <= KEEP_IN_MEMORY + FLUSH_AT) {
        const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
        this.buffer.copy(grown, 0, 0, this.pending);
        this.buffer = grown;
      } else if (this.pending > 0) return this.flush().then(() => this.append(text));
      else this.buffer = Buffer.allocUnsafe(needed);
    }
    const written = this.buffer.write(text, this.pending, 'utf8');
    this.pending += written;
    this.length += written;
    if (this.pending >= (this.handle ? FLUSH_AT : KEEP_IN_MEMORY)) return this.flush();
    return undefined;
  }

  private async flush(): Promise<void> {
    if (this.pending === 0) return;
    const bytes = this.buffer.subarray(0, this.pending);
    try {
      this.handle ??= await open(this.path, 'w');
      let done = 0;
      while (done < bytes.length) done += (await this.handle.write(bytes, done, bytes.length - done)).bytesWritten;
    } catch (error) {
      throw new MedvoxError('IO_ERROR', `cannot write a temporary file: ${(error as Error).message}`, {
        file: this.path,
        cause: error,
      });
    }
    this.pending = 0;
  }

  /** The spooled text as UTF-8 chunks (the file, then what is still buffered). */
  async *read(): AsyncGenerator<Uint8Array> {
    if (this.handle) {
      await this.flush();
      await this.handle.close();
      this.handle = undefined;
      yield* createReadStream(this.path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
    } else if (this.pending > 0) {
      yield this.buffer.subarray(0, this.pending);
    }
  }

  async dispose(): Promise<void> {
    await this.handle?.close().catch(() => {});
    this.handle = undefined;
    this.buffer = Buffer.allocUnsafe(0);
    this.pending = 0;
    await rm(this.path, { force: true });
  }
}
