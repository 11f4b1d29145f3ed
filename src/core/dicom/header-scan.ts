/**
 * Header scan: a DICOM file's header as an `IndexedDataset` (indexed-dataset.ts) instead of the full model, for
 * reading a few values of many files. Handles what `readDicom` handles (Part 10 or bare datasets; explicit and
 * implicit VR little endian, explicit VR big endian, deflated), stops before `untilTag` (Pixel Data), and works on
 * a prefix of the file: `more` when the prefix ends before the header does.
 */
import { isNotDicom } from '../errors.ts';
import { FullParseNeeded, type IndexedBytes } from './element-walk.ts';
import { IndexedDataset, indexElement, indexElements } from './indexed-dataset.ts';
import { TransferSyntax } from './model.ts';
import { inflate, locateDataset } from './reader.ts';

export interface HeaderScanOptions {
  /** File name for error messages. */
  source?: string;
  /** Stop before the first top-level element whose tag is >= this (e.g. 0x7fe00010 to skip Pixel Data). */
  untilTag?: number;
  /** False when `bytes` is only the start of the file (default true: the whole file). */
  complete?: boolean;
}

/** A scanned header. Its values are read from the scanned bytes: valid while those bytes are. */
export interface IndexedHeader {
  /** File Meta Information (group 0002; empty when the file has none). */
  meta: IndexedDataset;
  dataset: IndexedDataset;
  transferSyntaxUID: string;
  hasPreamble: boolean;
  source?: string;
}

const EXPLICIT_LITTLE_ENDIAN = { explicit: true, littleEndian: true };
const NO_BYTES: IndexedBytes = { bytes: new Uint8Array(0), view: new DataView(new ArrayBuffer(0)), source: undefined };

export type HeaderScan =
  | { kind: 'header'; header: IndexedHeader }
  /** The prefix ends before the header does: scan a longer one. */
  | { kind: 'more' }
  /** A construct the index does not take (see FullParseNeeded): read this file with `readDicom`. */
  | { kind: 'parse'; reason: string };

/**
 * Scans headers one after another with one index: each scan reuses the previous one's index (and its header
 * object), so a loop over thousands of files allocates next to nothing per file. A header is valid until the next
 * scan.
 */
export class HeaderScanner {
  private file: IndexedBytes | undefined;
  private readonly meta = new IndexedDataset(NO_BYTES, EXPLICIT_LITTLE_ENDIAN);
  private readonly dataset = new IndexedDataset(NO_BYTES, EXPLICIT_LITTLE_ENDIAN);

  scan(bytes: Uint8Array, options: HeaderScanOptions = {}): HeaderScan {
    const { source, untilTag } = options;
    const complete = options.complete ?? true;
    try {
      const file = this.bytesFor(bytes, source);
      const meta = this.meta;
      meta.reset(file, EXPLICIT_LITTLE_ENDIAN);
      const located = locateDataset(bytes, source, (start) => {
        let offset = start;
        while (offset + 8 <= bytes.length && file.view.getUint16(offset, true) === 0x0002)
          offset = indexElement(meta, offset, bytes.length, false);
        return { offset, transferSyntaxUID: meta.string(0x00020010), hasElements: meta.size > 0 };
      });
      let body = bytes;
      let offset = located.offset;
      if (located.transferSyntaxUID === TransferSyntax.DeflatedExplicitVRLittleEndian) {
        if (!complete) return { kind: 'more' };
        body = inflate(bytes.subarray(offset), source);
        offset = 0;
      } else if (!located.syntax.littleEndian) {
        // Values are swapped to little endian where they lie: in a copy, never in the caller's bytes.
        body = bytes.slice();
      }
      const dataset = this.dataset;
      dataset.reset(body === bytes ? file : this.bytesFor(body, source), located.syntax);
      const stoppedAt = indexElements(dataset, offset, body.length, false, untilTag);
      if (!complete && stoppedAt >= body.length) return { kind: 'more' };
      const header: IndexedHeader = {
        meta,
        dataset,
        transferSyntaxUID: located.transferSyntaxUID,
        hasPreamble: located.hasPreamble,
      };
      if (source !== undefined) header.source = source;
      return { kind: 'header', header };
    } catch (error) {
      // A prefix may end anywhere: inside an element, a sequence, the meta header.
      if (!complete && !isNotDicom(error)) return { kind: 'more' };
      if (error instanceof FullParseNeeded) return { kind: 'parse', reason: error.message };
      throw error;
    }
  }

  private bytesFor(bytes: Uint8Array, source: string | undefined): IndexedBytes {
    // The same buffer scanned again (a reused read buffer) keeps its DataView.
    const previous = this.file;
    const view =
      previous &&
      previous.bytes.buffer === bytes.buffer &&
      previous.view.byteOffset === bytes.byteOffset &&
      previous.view.byteLength >= bytes.byteLength
        ? previous.view
        : new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.file = { bytes, view, source };
    return this.file;
  }
}

/** Scan one header (see HeaderScanner for many). */
export function scanDicomHeader(bytes: Uint8Array, options: HeaderScanOptions = {}): HeaderScan {
  return new HeaderScanner().scan(bytes, options);
}
