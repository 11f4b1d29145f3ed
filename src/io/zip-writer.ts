/**
 * A streaming ZIP writer (PKWARE APPNOTE 6.3: local headers, DEFLATE, data descriptors, central directory) for the
 * .xlsx writer: entries are compressed as their bytes arrive, so a sheet of any length passes through bounded
 * memory. No ZIP64: an archive past 4 GiB is refused with a clear error.
 */
import type { FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import { constants, crc32, deflateRaw } from 'node:zlib';
import { MedvoxError } from '../core/errors.ts';

interface CentralEntry {
  name: Buffer;
  crc: number;
  compressedSize: number;
  size: number;
  offset: number;
  flags: number;
}

const LIMIT = 0xffffffff;
/** Compressed bytes gathered before a write. */
const WRITE_BYTES = 4 * 1024 * 1024;
/** Chunks of an entry compressing while earlier ones are written. */
const PIECES_AHEAD = 4;
/** An empty final fixed-Huffman block (BFINAL 1, BTYPE 01, end of block): ends a stream of sync-flushed pieces. */
const FINAL_BLOCK = new Uint8Array([0x03, 0x00]);
const deflateRawAsync = promisify(deflateRaw);

/**
 * `bytes` as one piece of a DEFLATE stream: compressed on its own (no reference to earlier pieces) and ended by a
 * sync flush, so that pieces concatenate (ZipWriter.addEntry ends the stream). Runs on the libuv pool.
 */
export function deflatePiece(bytes: Uint8Array, level = 1): Promise<Uint8Array> {
  return deflateRawAsync(bytes, { level, finishFlush: constants.Z_SYNC_FLUSH, chunkSize: 256 * 1024 });
}

/** Bit 3: sizes and CRC follow the data in a data descriptor (APPNOTE 4.4.4). */
const DATA_DESCRIPTOR = 0x0008;

export class ZipWriter {
  private offset = 0;
  private readonly entries: CentralEntry[] = [];
  private readonly dosTime: number;
  private readonly dosDate: number;

  constructor(
    private readonly out: FileHandle,
    private readonly path: string,
    private readonly level = 1,
    now = new Date(),
  ) {
    this.dosTime = (now.getHours() << 11) | (now.getMinutes() << 5) | (now.getSeconds() >> 1);
    this.dosDate = (Math.max(0, now.getFullYear() - 1980) << 9) | ((now.getMonth() + 1) << 5) | now.getDate();
  }

  /** Bytes not yet written: small pieces are gathered and written together (one system call, not dozens). */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  private async write(bytes: Uint8Array): Promise<void> {
    this.offset += bytes.length;
    if (this.offset > LIMIT)
      throw new MedvoxError('IO_ERROR', 'the workbook would exceed 4 GiB (ZIP64 is not written)', {
        file: this.path,
        hint: 'split the report (e.g. one study at a time) or use --format csv',
      });
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= WRITE_BYTES) await this.flush();
  }

  private async flush(): Promise<void> {
    const pieces = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for (let first = 0; first < pieces.length; first += 1024) {
      const batch = pieces.slice(first, first + 1024);
      while (batch.length > 0) {
        let { bytesWritten } = await this.out.writev(batch);
        // A short write: drop what was written, go on with the rest.
        while (batch.length > 0 && bytesWritten >= batch[0]!.length) bytesWritten -= batch.shift()!.length;
        if (batch.length > 0 && bytesWritten > 0) batch[0] = batch[0]!.subarray(bytesWritten);
      }
    }
  }

  /**
   * Add an entry whose content arrives as chunks (strings are UTF-8). Each chunk is deflated on its own, on the
   * libuv pool, several at once, ending in a sync flush (byte-aligned, not final), and one final empty block ends
   * the entry: the concatenation is one valid DEFLATE stream (RFC 1951 3.2.3). `deflated` may give a chunk already
   * compressed that way (`deflatePiece`), e.g. while the rows were still being made.
   */
  async addEntry(
    name: string,
    chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
    deflated?: (chunk: Uint8Array) => Promise<Uint8Array> | undefined,
  ): Promise<void> {
    const nameBytes = Buffer.from(name, 'utf8');
    const entry: CentralEntry = {
      name: nameBytes,
      crc: 0,
      compressedSize: 0,
      size: 0,
      offset: this.offset,
      flags: DATA_DESCRIPTOR,
    };
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(entry.flags, 6);
    header.writeUInt16LE(8, 8);
    header.writeUInt16LE(this.dosTime, 10);
    header.writeUInt16LE(this.dosDate, 12);
    // CRC and sizes are 0 here and given by the data descriptor.
    header.writeUInt16LE(nameBytes.length, 26);
    await this.write(Buffer.concat([header, nameBytes]));

    // Pieces compress in parallel and are written in order, a few ahead at most (bounded memory).
    const pieces: Array<Promise<Uint8Array>> = [];
    const writeOldest = async (): Promise<void> => {
      const compressed = await pieces.shift()!;
      entry.compressedSize += compressed.length;
      await this.write(compressed);
    };
    try {
      for await (const chunk of chunks) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
        if (bytes.length === 0) continue;
        entry.crc = crc32(bytes, entry.crc);
        entry.size += bytes.length;
        if (entry.size > LIMIT)
          throw new MedvoxError('IO_ERROR', `zip entry ${name} would exceed 4 GiB`, { file: this.path });
        const piece = deflated?.(bytes) ?? deflatePiece(bytes, this.level);
        piece.catch(() => {}); // awaited in order below
        pieces.push(piece);
        if (pieces.length > PIECES_AHEAD) await writeOldest();
      }
      pieces.push(Promise.resolve(FINAL_BLOCK));
      while (pieces.length > 0) await writeOldest();
    } catch (error) {
      await Promise.allSettled(pieces);
      throw error;
    }
    const descriptor = Buffer.alloc(16);
    descriptor.writeUInt32LE(0x08074b50, 0);
    descriptor.writeUInt32LE(entry.crc >>> 0, 4);
    descriptor.writeUInt32LE(entry.compressedSize, 8);
    descriptor.writeUInt32LE(entry.size, 12);
    await this.write(descriptor);
    this.entries.push(entry);
  }

  /** Write the central directory and the end record. */
  async finish(): Promise<void> {
    const start = this.offset;
    const records: Buffer[] = [];
    for (const entry of this.entries) {
      const record = Buffer.alloc(46);
      record.writeUInt32LE(0x02014b50, 0);
      record.writeUInt16LE(20, 4);
      record.writeUInt16LE(20, 6);
      record.writeUInt16LE(entry.flags, 8);
      record.writeUInt16LE(8, 10);
      record.writeUInt16LE(this.dosTime, 12);
      record.writeUInt16LE(this.dosDate, 14);
      record.writeUInt32LE(entry.crc >>> 0, 16);
      record.writeUInt32LE(entry.compressedSize, 20);
      record.writeUInt32LE(entry.size, 24);
      record.writeUInt16LE(entry.name.length, 28);
      record.writeUInt32LE(entry.offset, 42);
      records.push(record, entry.name);
    }
    await this.write(Buffer.concat(records));
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(this.entries.length, 8);
    end.writeUInt16LE(this.entries.length, 10);
    end.writeUInt32LE(this.offset - start, 12);
    end.writeUInt32LE(start, 16);
    await this.write(end);
    await this.flush();
  }
}
