/** DICOM files on disk: read one (naming it in every error), or every DICOM file below some inputs. */
import { closeSync, fstatSync, openSync, readvSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { type HeaderScan, HeaderScanner } from '../core/dicom/header-scan.ts';
import {
  type Dataset,
  type DeferredValue,
  type DicomFile,
  deferredValue,
  type ReadonlyDataset,
} from '../core/dicom/model.ts';
import { type ReadOptions, readDicom, readDicomHead, readDicomPrefix } from '../core/dicom/reader.ts';
import { isNotDicom, MedvoxError, toMedvoxError } from '../core/errors.ts';
import { openForReading, readFully, readSome, readUpTo } from './file-read.ts';

export async function readDicomFile(path: string, options: Omit<ReadOptions, 'source'> = {}): Promise<DicomFile> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    throw new MedvoxError('IO_ERROR', `cannot read: ${(error as Error).message}`, { file: path, cause: error });
  }
  try {
    return readDicom(bytes, { ...options, source: path });
  } catch (error) {
    throw toMedvoxError(error, path);
  }
}

const PIXEL_DATA = 0x7fe00010;
/** First read of a header scan: enough for nearly every header (large private CSA / GE headers included). */
const FIRST_CHUNK = 64 * 1024;

/**
 * Parse a file's header: every top-level element before Pixel Data (or before `untilTag`). Reads only the first
 * bytes of the file, reading 4x more until the tag is reached, so scanning large multi-frame files stays fast.
 */
export async function readDicomFileHeader(path: string, untilTag: number = PIXEL_DATA): Promise<DicomFile> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new MedvoxError('IO_ERROR', `cannot read: ${(error as Error).message}`, { file: path, cause: error });
  }
  try {
    const size = (await handle.stat()).size;
    let length = Math.min(size, FIRST_CHUNK);
    for (;;) {
      const bytes = new Uint8Array(length);
      const { bytesRead } = await handle.read(bytes, 0, length, 0);
      const prefix = bytes.subarray(0, bytesRead);
      if (bytesRead >= size) return readDicom(prefix, { source: path, untilTag });
      const file = readDicomPrefix(prefix, untilTag, path);
      if (file) return file;
      length = Math.min(size, length * 4);
    }
  } catch (error) {
    if (error instanceof MedvoxError) throw error.withFile(path);
    throw new MedvoxError('IO_ERROR', `cannot read: ${(error as Error).message}`, { file: path, cause: error });
  } finally {
    await handle.close();
  }
}

/** First read of a header-first read: nearly every header fits; larger ones are read again, 4x more each time. */
export const HEAD_CHUNK = 16 * 1024;
let scratch = new Uint8Array(HEAD_CHUNK);

/**
 * Read a file header first (synchronously): native little-endian Pixel Data stays in the file as a deferred value
 * (see DataElement.deferred) that the volume builder reads frame by frame straight into the volume, so a series is
 * never in memory twice. Every other value is copied out of the read buffer. Anything unusual (encapsulated, big
 * endian, deflated, elements after Pixel Data, a length that does not match the file) is read whole, as readDicom.
 */
export function readDicomFileHeadFirst(path: string): DicomFile {
  const fd = openForReading(path);
  try {
    const size = fstatSync(fd).size;
    let length = Math.min(size, HEAD_CHUNK);
    while (length < size) {
      if (scratch.length < length) scratch = new Uint8Array(length);
      const prefix = scratch.subarray(0, readFully(fd, scratch.subarray(0, length), 0, path));
      const head = readDicomHead(prefix, size, path);
      if (head.kind === 'whole') break;
      if (head.kind === 'head') {
        // The values leave the reused read buffer.
        detachFile(head.file);
        const { vr, valueOffset, length: valueLength } = head.pixelData;
        head.file.dataset.set({ tag: PIXEL_DATA, vr, deferred: fileValue(path, valueOffset, valueLength) });
        return head.file;
      }
      length = Math.min(size, length * 4);
    }
    const bytes = new Uint8Array(size);
    readFully(fd, bytes, 0, path);
    return readDicom(bytes, { source: path });
  } catch (error) {
    throw toMedvoxError(error, path);
  } finally {
    closeSync(fd);
  }
}

/** readv takes at most IOV_MAX (1024 on Linux) buffers a call. */
const IOV_MAX = 1024;

/** A value at [start, start + length) of a file, read on demand (the file is opened for each read). */
function fileValue(path: string, start: number, length: number): DeferredValue {
  const readInto = (offset: number, targets: readonly Uint8Array[]): void => {
    const fd = openSync(path, 'r');
    try {
      let position = start + offset;
      for (let first = 0; first < targets.length; first += IOV_MAX) {
        const batch = targets.slice(first, first + IOV_MAX);
        const wanted = batch.reduce((sum, target) => sum + target.length, 0);
        const got = readvSync(fd, batch, position);
        if (got < wanted) {
          // A short vectored read: finish each target that it did not fill.
          let targetStart = 0;
          for (const target of batch) {
            const filled = Math.max(0, Math.min(target.length, got - targetStart));
            if (filled < target.length) readFully(fd, target.subarray(filled), position + targetStart + filled, path);
            targetStart += target.length;
          }
        }
        position += wanted;
      }
    } catch (error) {
      throw toMedvoxError(error, path);
    } finally {
      closeSync(fd);
    }
  };
  return deferredValue(length, readInto, { file: { path, start } });
}

const PIXEL_TAGS = new Set([PIXEL_DATA, 0x7fe00008, 0x7fe00009]);

/**
 * Copy the values of `file` out of the buffers they were read from, so that those can be reused or freed: per
 * source buffer, one copy of the span its values lie in, the values pointed at the copy (a copy per value made ~100
 * small buffers a file, which the garbage collector then carried along). The top-level Pixel Data stays where it is
 * (the caller reads it in or drops it with its file).
 */
export function detachFile(file: DicomFile): void {
  const spans = new Map<ArrayBufferLike, { start: number; end: number; total: number; copy?: Uint8Array }>();
  const measure = (dataset: Dataset, top: boolean): void => {
    for (const element of dataset.elements.values()) {
      if (element.items) for (const item of element.items) measure(item, false);
      const bytes = element.bytes;
      if (!bytes || bytes.length === 0 || (top && PIXEL_TAGS.has(element.tag))) continue;
      const span = spans.get(bytes.buffer);
      const end = bytes.byteOffset + bytes.length;
      if (!span) spans.set(bytes.buffer, { start: bytes.byteOffset, end, total: bytes.length });
      else {
        span.start = Math.min(span.start, bytes.byteOffset);
        span.end = Math.max(span.end, end);
        span.total += bytes.length;
      }
    }
  };
  const point = (dataset: Dataset, top: boolean): void => {
    for (const element of dataset.elements.values()) {
      if (element.items) for (const item of element.items) point(item, false);
      const bytes = element.bytes;
      if (!bytes || bytes.length === 0 || (top && PIXEL_TAGS.has(element.tag))) continue;
      const span = spans.get(bytes.buffer)!;
      // Values spread around something large (elements after Pixel Data): each gets its own copy.
      if (span.end - span.start > 2 * span.total + 65536) {
        element.bytes = bytes.slice();
        continue;
      }
      span.copy ??= new Uint8Array(bytes.buffer, span.start, span.end - span.start).slice();
      const at = bytes.byteOffset - span.start;
      element.bytes = span.copy.subarray(at, at + bytes.length);
    }
  };
  measure(file.meta, true);
  measure(file.dataset, true);
  point(file.meta, true);
  point(file.dataset, true);
}

// Reading many files at once (folders, zips): see load-dicom.ts.

/**
 * Header reads for batch scans of many files (a metadata report over thousands of instances): synchronous reads
 * into one reused buffer (the promise machinery of four async calls per file, and a fresh buffer per file, cost
 * more than the reads), and headers indexed (core/dicom/header-scan.ts) rather than parsed into the dataset model.
 * A header is valid until the next read.
 */
export class HeaderReader {
  private buffer: Uint8Array;
  private readonly scanner = new HeaderScanner();

  /**
   * `firstRead`: bytes of the first read of each file. The default takes small files whole in one read; readers of
   * image slices (0.5 MB, a header of a few KiB) read less, as each byte read is a byte copied.
   */
  constructor(firstRead: number = FIRST_CHUNK) {
    this.buffer = new Uint8Array(firstRead);
  }

  /**
   * The header of the file at `path`: every top-level element before `untilTag`. Reads the first `firstRead` bytes
   * (all of a small file, so no stat call), then 4x more until the header is in.
   */
  read(path: string, untilTag: number = PIXEL_DATA): FileHeader {
    const fd = openForReading(path);
    try {
      // One read(2) usually holds the whole header: when the scan of it reaches `untilTag`, that is the header,
      // and the read that would only confirm the end of a small file is saved (a quarter of a report's syscalls).
      const first = readSome(fd, this.buffer, 0, path);
      const early = first > 0 ? this.prefixHeader(this.buffer.subarray(0, first), path, untilTag) : undefined;
      if (early) return early;
      let length = this.buffer.length;
      let size = -1;
      let kept = first;
      for (;;) {
        if (this.buffer.length < length) this.buffer = new Uint8Array(length);
        const got = kept + readUpTo(fd, this.buffer.subarray(kept, length), kept, path);
        kept = 0;
        // A short read is the whole file; a full one asks for the size (only files larger than the buffer do).
        if (got === length && size < 0) size = fstatSync(fd).size;
        const complete = got < length || got >= size;
        const header = this.headerOf(this.buffer.subarray(0, got), path, untilTag, complete);
        if (header) return header;
        length = Math.min(size, length * 4);
      }
    } catch (error) {
      if (error instanceof MedvoxError) throw error.withFile(path);
      throw new MedvoxError('IO_ERROR', `cannot read: ${(error as Error).message}`, { file: path, cause: error });
    } finally {
      closeSync(fd);
    }
  }

  /** The header in `prefix` (the start of a file) when the scan reached `untilTag` in it; anything else undefined. */
  private prefixHeader(prefix: Uint8Array, source: string, untilTag: number): FileHeader | undefined {
    try {
      const scan = this.scanner.scan(prefix, { source, untilTag, complete: false });
      return scan.kind === 'header' ? scan.header : undefined;
    } catch {
      // Whatever it is, the complete read below decides and words it.
      return undefined;
    }
  }

  /** The header of a whole file's bytes (a zip entry). */
  fromBytes(bytes: Uint8Array, source: string, untilTag: number = PIXEL_DATA): FileHeader {
    return this.headerOf(bytes, source, untilTag, true)!;
  }

  /** Undefined when `bytes` (not the whole file) ends before the header does. */
  private headerOf(bytes: Uint8Array, source: string, untilTag: number, complete: boolean): FileHeader | undefined {
    let scan: HeaderScan;
    try {
      scan = this.scanner.scan(bytes, { source, untilTag, complete });
    } catch (error) {
      // A damaged file: the reader decides what it is (it tolerates some defects) and words the error.
      if (isNotDicom(error)) throw error;
      return readDicom(bytes, { source, untilTag });
    }
    if (scan.kind === 'header') return scan.header;
    if (scan.kind === 'more') return undefined;
    return complete ? readDicom(bytes, { source, untilTag }) : undefined;
  }
}

/** What a header read gives: an indexed header, or a parsed one (files the index does not take). */
export interface FileHeader {
  meta: ReadonlyDataset;
  dataset: ReadonlyDataset;
  transferSyntaxUID: string;
}
