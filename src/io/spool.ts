/**
 * Text held back until the end: the body of a sheet whose header (columns discovered while rows stream in) can
 * only be written last. Up to 8 Mi characters stay in memory (a few thousand rows: no file I/O at all); past that
 * everything goes to a temporary file in large chunks, so memory stays bounded whatever the number of rows.
 */
import { createReadStream } from 'node:fs';
import { type FileHandle, open, rm } from 'node:fs/promises';
import { MedvoxError } from '../core/errors.ts';

const KEEP_IN_MEMORY = 1 << 23;
const FLUSH_AT = 1 << 20;

export class Spool {
  private parts: string[] = [];
  private pending = 0;
  private handle: FileHandle | undefined;
  /** Characters appended so far (0: nothing to read back). */
  length = 0;

  constructor(readonly path: string) {}

  async append(text: string): Promise<void> {
    this.parts.push(text);
    this.pending += text.length;
    this.length += text.length;
    if (this.pending >= (this.handle ? FLUSH_AT : KEEP_IN_MEMORY)) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.pending = 0;
    try {
      this.handle ??= await open(this.path, 'w');
      await this.handle.write(text);
    } catch (error) {
      throw new MedvoxError('IO_ERROR', `cannot write a temporary file: ${(error as Error).message}`, {
        file: this.path,
        cause: error,
      });
    }
  }

  /** The spooled text as UTF-8 chunks (the file, then what is still buffered). */
  async *read(): AsyncGenerator<Uint8Array | string> {
    if (this.handle) {
      await this.flush();
      await this.handle.close();
      this.handle = undefined;
      yield* createReadStream(this.path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
    } else if (this.parts.length > 0) {
      yield this.parts.join('');
    }
  }

  async dispose(): Promise<void> {
    await this.handle?.close().catch(() => {});
    this.handle = undefined;
    this.parts = [];
    await rm(this.path, { force: true });
  }
}
