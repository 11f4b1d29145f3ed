/**
 * Text held back until the end: the body of a sheet whose header (columns discovered while rows stream in) can
 * only be written last. Up to 8 MiB (UTF-8) stay in memory (a few thousand rows: no file I/O at all); past that
 * everything goes to a temporary file in large chunks, so memory stays bounded whatever the number of rows.
 */
import { createReadStream } from 'node:fs';
import { type FileHandle, open, rm } from 'node:fs/promises';
import { MedvoxError } from '../core/errors.ts';

/** Bytes kept in memory before spilling to the file; past it, the file is written in chunks of FLUSH_AT. */
const KEEP_IN_MEMORY = 1 << 23;
const FLUSH_AT = 1 << 20;

/** Bytes of one in-memory chunk (a row never spans two: a longer one gets a chunk of its own). */
const CHUNK = 1 << 20;

export class Spool {
  /**
   * The text not yet written out, as UTF-8 in chunks. Kept as bytes, not as the appended strings: thousands of row
   * strings (each a tree of concatenations) surviving until the end made the garbage collector copy them again and
   * again; and in chunks, not one growing buffer, so nothing is copied as it grows.
   */
  private chunks: Buffer[] = [];
  /** Bytes used in the last chunk. */
  private used = 0;
  private pending = 0;
  private handle: FileHandle | undefined;
  /** Bytes appended so far (0: nothing to read back). */
  length = 0;

  /**
   * `onFull` is given each in-memory chunk as it fills up (it is not changed afterwards, and `read` yields that same
   * array): work on the text can start while more is appended (the workbook compresses it).
   */
  constructor(
    readonly path: string,
    private readonly onFull?: (chunk: Uint8Array) => void,
  ) {}

  /** Append text; returns a promise only when a chunk had to be written out (await it before appending more). */
  append(text: string): Promise<void> | undefined {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    const { buffer, offset } = this.reserve(text.length * 3);
    return this.commit(buffer.write(text, offset, 'utf8'));
  }

  private readonly region: { buffer: Buffer; offset: number } = { buffer: Buffer.alloc(0), offset: 0 };

  /** Room for `length` more bytes at the end: write them into `buffer` from `offset`, then `commit`. */
  private reserve(length: number): { buffer: Buffer; offset: number } {
    let chunk = this.chunks[this.chunks.length - 1];
    if (chunk === undefined || this.used + length > chunk.length) {
      // The full chunk keeps only its written bytes.
      if (chunk !== undefined) {
        const full = chunk.subarray(0, this.used);
        this.chunks[this.chunks.length - 1] = full;
        if (!this.handle && full.length > 0) this.onFull?.(full);
      }
      chunk = Buffer.allocUnsafe(Math.max(CHUNK, length));
      this.chunks.push(chunk);
      this.used = 0;
    }
    this.region.buffer = chunk;
    this.region.offset = this.used;
    return this.region;
  }

  /** `length` bytes were written where `reserve` said; returns a promise only when a chunk had to be written out. */
  private commit(length: number): Promise<void> | undefined {
    this.used += length;
    this.pending += length;
    this.length += length;
    if (this.pending >= (this.handle ? FLUSH_AT : KEEP_IN_MEMORY)) return this.flush();
    return undefined;
  }

  /** The bytes held in memory, chunk by chunk. */
  private held(): Buffer[] {
    return this.chunks.map((chunk, i) => (i === this.chunks.length - 1 ? chunk.subarray(0, this.used) : chunk));
  }

  private async flush(): Promise<void> {
    if (this.pending === 0) return;
    const held = this.held();
    this.chunks = [];
    this.used = 0;
    this.pending = 0;
    try {
      this.handle ??= await open(this.path, 'w');
      for (const bytes of held) {
        let done = 0;
        while (done < bytes.length) done += (await this.handle.write(bytes, done, bytes.length - done)).bytesWritten;
      }
    } catch (error) {
      throw new MedvoxError('IO_ERROR', `cannot write a temporary file: ${(error as Error).message}`, {
        file: this.path,
        cause: error,
      });
    }
  }

  /** The spooled text as UTF-8 chunks (the file, then what is still buffered). */
  async *read(): AsyncGenerator<Uint8Array> {
    if (this.handle) {
      await this.flush();
      await this.handle.close();
      this.handle = undefined;
      yield* createReadStream(this.path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
    } else {
      for (const bytes of this.held()) if (bytes.length > 0) yield bytes;
    }
  }

  async dispose(): Promise<void> {
    await this.handle?.close().catch(() => {});
    this.handle = undefined;
    this.chunks = [];
    this.used = 0;
    this.pending = 0;
    await rm(this.path, { force: true });
  }
}
