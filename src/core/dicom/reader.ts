/**
 * DICOM Part 10 / bare dataset reader (PS3.10 7.1, PS3.5 7). Produces the lossless model of model.ts: value bytes
 * are views into the input (little endian) or swapped copies (big endian), sequences are parsed into items,
 * encapsulated Pixel Data into fragments. Tolerates files without preamble, without meta header, and meta headers
 * without group length; rejects everything else with a typed MedvoxError.
 */
import { inflateSync, unzlibSync } from 'fflate';
import { isNotDicom, MedvoxError } from '../errors.ts';
import { tagToString } from './dictionary.ts';
import { implicitVR, vrForUN } from './implicit-vr.ts';
import { type DataElement, Dataset, type DicomFile, isVR, LONG_LENGTH_VRS, TransferSyntax, type VR } from './model.ts';
import { swapToLittleEndian } from './values.ts';

export interface ReadOptions {
  /** File name used in error messages. */
  source?: string;
  /** Stop before the first top-level element whose tag is >= this (e.g. 0x7fe00010 to skip Pixel Data). */
  untilTag?: number;
}

const PIXEL_DATA = 0x7fe00010;
const ITEM = 0xfffee000;
const ITEM_DELIMITER = 0xfffee00d;
const SEQUENCE_DELIMITER = 0xfffee0dd;
const UNDEFINED = 0xffffffff;
const SPECIFIC_CHARACTER_SET = 0x00080005;

/** How a dataset is encoded: explicit or implicit VR, byte order (PS3.5 7.1, 7.3). */
export interface Syntax {
  explicit: boolean;
  littleEndian: boolean;
}

class Cursor {
  readonly view: DataView;
  readonly warnings: string[] = [];
  constructor(
    readonly bytes: Uint8Array,
    readonly source: string | undefined,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  fail(code: 'TRUNCATED' | 'BAD_LENGTH' | 'BAD_VR' | 'NOT_DICOM', message: string): never {
    throw new MedvoxError(code, message, { file: this.source });
  }
}

/** Parse a DICOM file (Part 10, or a bare dataset). Throws MedvoxError (EMPTY_FILE, NOT_DICOM, TRUNCATED, ...). */
export function readDicom(bytes: Uint8Array, options: ReadOptions = {}): DicomFile {
  return parse(bytes, options).file;
}

/**
 * Parse the first bytes of a file up to `untilTag` (e.g. 0x7fe00010): the file, or undefined when `prefix` ends
 * before that tag is reached (read more and call again). Lets a header scan read 64 KiB instead of 500 MB.
 */
export function readDicomPrefix(prefix: Uint8Array, untilTag: number, source?: string): DicomFile | undefined {
  try {
    const { file, stoppedAt } = parse(prefix, { source, untilTag });
    return stoppedAt === undefined ? undefined : file;
  } catch (error) {
    if (error instanceof MedvoxError && !isNotDicom(error)) return undefined;
    throw error;
  }
}

/** Where a header-first read found native Pixel Data: its value lies in the file from `valueOffset`. */
export interface PixelDataLocation {
  vr: VR;
  valueOffset: number;
  length: number;
}

/**
 * Header-first read of a file of `fileSize` bytes from its first bytes: `more` when `prefix` ends before Pixel
 * Data; `whole` when the file must be read entirely (encapsulated, big endian or deflated data, elements after Pixel
 * Data, a length that does not match the file); else the header (values are views into `prefix`) and where native
 * Pixel Data lies, so that a converter can read frames straight into a volume.
 */
export function readDicomHead(
  prefix: Uint8Array,
  fileSize: number,
  source?: string,
): { kind: 'more' } | { kind: 'whole' } | { kind: 'head'; file: DicomFile; pixelData: PixelDataLocation } {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(prefix, { source, untilTag: PIXEL_DATA });
  } catch (error) {
    if (isNotDicom(error)) throw error;
    return prefix.length >= fileSize ? { kind: 'whole' } : { kind: 'more' };
  }
  const { file, stoppedAt, syntax, deflated } = parsed;
  if (stoppedAt === undefined) return prefix.length >= fileSize ? { kind: 'whole' } : { kind: 'more' };
  if (deflated || !syntax.littleEndian) return { kind: 'whole' };
  if (stoppedAt + 12 > prefix.length) return { kind: 'more' };
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const tag = ((view.getUint16(stoppedAt, true) << 16) | view.getUint16(stoppedAt + 2, true)) >>> 0;
  if (tag !== PIXEL_DATA) return { kind: 'whole' };
  let vr: VR;
  let length: number;
  let valueOffset: number;
  if (syntax.explicit) {
    const text = String.fromCharCode(prefix[stoppedAt + 4]!, prefix[stoppedAt + 5]!);
    if (text !== 'OB' && text !== 'OW') return { kind: 'whole' };
    vr = text;
    length = view.getUint32(stoppedAt + 8, true);
    valueOffset = stoppedAt + 12;
  } else {
    vr = implicitVR(PIXEL_DATA, file.dataset);
    length = view.getUint32(stoppedAt + 4, true);
    valueOffset = stoppedAt + 8;
  }
  if (length === UNDEFINED || valueOffset + length !== fileSize) return { kind: 'whole' };
  return { kind: 'head', file, pixelData: { vr, valueOffset, length } };
}

function parse(
  bytes: Uint8Array,
  options: ReadOptions,
): { file: DicomFile; stoppedAt: number | undefined; syntax: Syntax; deflated: boolean } {
  const source = options.source;
  const cursor = new Cursor(bytes, source);
  const meta = new Dataset();
  const { offset, syntax, transferSyntaxUID, hasPreamble } = locateDataset(bytes, source, (start) => {
    const next = readMeta(cursor, start, meta);
    return { offset: next, transferSyntaxUID: meta.string(0x00020010), hasElements: meta.size > 0 };
  });
  let body = cursor;
  let bodyOffset = offset;
  if (transferSyntaxUID === TransferSyntax.DeflatedExplicitVRLittleEndian) {
    body = new Cursor(inflate(bytes.subarray(offset), source), source);
    bodyOffset = 0;
  }
  const dataset = new Dataset();
  const end = parseElements(body, bodyOffset, body.bytes.length, syntax, dataset, false, options.untilTag);
  const file: DicomFile = { meta, dataset, transferSyntaxUID, hasPreamble };
  if (source !== undefined) file.source = source;
  const warnings = [...cursor.warnings, ...(body === cursor ? [] : body.warnings)];
  if (warnings.length) file.warnings = warnings;
  return { file, stoppedAt: end < body.bytes.length ? end : undefined, syntax, deflated: body !== cursor };
}

/**
 * Reads the File Meta Information elements from `offset` (while the group is 0002, always explicit VR little endian,
 * PS3.10 7.1); returns the offset after them, the Transfer Syntax UID, and whether any element was read.
 */
export type MetaReader = (offset: number) => {
  offset: number;
  transferSyntaxUID: string | undefined;
  hasElements: boolean;
};

/**
 * Where the dataset of a Part 10 file (or bare dataset) starts and how it is encoded: preamble, File Meta Information
 * (read by `readMeta`, into a Dataset here or an index in header-scan.ts) and the syntax, decided as `readDicom`
 * decides it.
 */
export function locateDataset(
  bytes: Uint8Array,
  source: string | undefined,
  readMeta: MetaReader,
): { offset: number; syntax: Syntax; transferSyntaxUID: string; hasPreamble: boolean } {
  if (bytes.length === 0) throw new MedvoxError('EMPTY_FILE', 'the file is empty (0 bytes)', { file: source });
  let offset = 0;
  let hasPreamble = false;
  if (bytes.length >= 132 && magicAt(bytes, 128)) {
    offset = 132;
    hasPreamble = true;
  } else if (magicAt(bytes, 0)) {
    offset = 4;
  }
  const cursor = new Cursor(bytes, source);
  if (hasPreamble && offset >= bytes.length) cursor.fail('TRUNCATED', 'the file ends right after the DICM preamble');
  let transferSyntaxUID: string | undefined;
  let hasMeta = false;
  if (offset + 8 <= bytes.length && cursor.view.getUint16(offset, true) === 0x0002) {
    const meta = readMeta(offset);
    offset = meta.offset;
    transferSyntaxUID = meta.transferSyntaxUID;
    hasMeta = meta.hasElements;
  }
  const syntax = detectSyntax(cursor, offset, transferSyntaxUID, hasPreamble || hasMeta);
  transferSyntaxUID ??= syntax.explicit
    ? syntax.littleEndian
      ? TransferSyntax.ExplicitVRLittleEndian
      : TransferSyntax.ExplicitVRBigEndian
    : TransferSyntax.ImplicitVRLittleEndian;
  return { offset, syntax, transferSyntaxUID, hasPreamble };
}

/** PS3.5 A.5: the dataset is raw DEFLATE (RFC 1951); a zlib wrapper (RFC 1950), which some writers add, is accepted. */
export function inflate(deflated: Uint8Array, source: string | undefined): Uint8Array {
  try {
    return inflateSync(deflated);
  } catch (error) {
    if (deflated[0] === 0x78) {
      try {
        return unzlibSync(deflated);
      } catch {
        // fall through to the error of the raw attempt
      }
    }
    throw new MedvoxError('BAD_VALUE', 'the deflated dataset cannot be inflated', { file: source, cause: error });
  }
}

function magicAt(bytes: Uint8Array, at: number): boolean {
  return bytes[at] === 0x44 && bytes[at + 1] === 0x49 && bytes[at + 2] === 0x43 && bytes[at + 3] === 0x4d;
}

/** File Meta Information: always explicit VR little endian (PS3.10 7.1); read while the group is 0002. */
function readMeta(cursor: Cursor, offset: number, meta: Dataset): number {
  const syntax: Syntax = { explicit: true, littleEndian: true };
  while (offset + 8 <= cursor.bytes.length && cursor.view.getUint16(offset, true) === 0x0002) {
    offset = readElement(cursor, offset, cursor.bytes.length, syntax, meta, false);
  }
  return offset;
}

const TS_SYNTAX: Readonly<Record<string, Syntax>> = {
  [TransferSyntax.ImplicitVRLittleEndian]: { explicit: false, littleEndian: true },
  [TransferSyntax.ExplicitVRBigEndian]: { explicit: true, littleEndian: false },
};

function looksLikeVR(bytes: Uint8Array, at: number): boolean {
  const a = bytes[at];
  const b = bytes[at + 1];
  return a !== undefined && b !== undefined && isVR(String.fromCharCode(a, b));
}

/** True when an explicit VR little endian element starts at `offset` and another (or the end) follows it. */
function explicitAt(cursor: Cursor, offset: number): boolean {
  const { bytes, view } = cursor;
  if (!looksLikeVR(bytes, offset + 4)) return false;
  const vr = String.fromCharCode(bytes[offset + 4]!, bytes[offset + 5]!) as VR;
  if (LONG_LENGTH_VRS.has(vr)) return view.getUint16(offset + 6, true) === 0;
  const next = offset + 8 + view.getUint16(offset + 6, true);
  return next === bytes.length || (next + 6 <= bytes.length && looksLikeVR(bytes, next + 4));
}

/**
 * The syntax of the dataset: from the meta header's Transfer Syntax UID when there is one (checked against the
 * bytes, since some writers lie), otherwise guessed from the first element as pydicom and dcmtk do.
 */
function detectSyntax(cursor: Cursor, offset: number, uid: string | undefined, claimedDicom: boolean): Syntax {
  const { bytes, view } = cursor;
  if (offset + 8 > bytes.length) {
    if (claimedDicom && offset === bytes.length) return { explicit: true, littleEndian: true };
    cursor.fail(claimedDicom ? 'TRUNCATED' : 'NOT_DICOM', 'no dataset follows the header');
  }
  if (uid !== undefined) {
    const declared = TS_SYNTAX[uid] ?? { explicit: true, littleEndian: true };
    if (uid === TransferSyntax.DeflatedExplicitVRLittleEndian) return declared;
    // The declared VR encoding contradicts the first element (known writer bugs): trust the bytes, as pydicom does.
    if (declared.explicit && !looksLikeVR(bytes, offset + 4)) return { explicit: false, littleEndian: true };
    if (!declared.explicit && explicitAt(cursor, offset)) return { explicit: true, littleEndian: true };
    return declared;
  }
  if (claimedDicom) {
    // A meta header without Transfer Syntax UID: explicit VR LE when a VR is there, else implicit (pydicom's guess).
    return { explicit: looksLikeVR(bytes, offset + 4), littleEndian: true };
  }
  const groupLE = view.getUint16(offset, true);
  const groupBE = view.getUint16(offset, false);
  const explicitVR = looksLikeVR(bytes, offset + 4);
  const plausible = (group: number): boolean => group >= 0x0002 && group <= 0x00ff && group % 2 === 0;
  if (plausible(groupLE)) {
    if (explicitVR) return { explicit: true, littleEndian: true };
    const length = view.getUint32(offset + 4, true);
    if (length === UNDEFINED || offset + 8 + length <= bytes.length) return { explicit: false, littleEndian: true };
  }
  if (plausible(groupBE) && explicitVR) return { explicit: true, littleEndian: false };
  return cursor.fail('NOT_DICOM', 'no DICM prefix and the content does not start like a DICOM dataset');
}

/** Parse elements in [offset, end) into `dataset`; returns the offset after the last one (or after a delimiter). */
function parseElements(
  cursor: Cursor,
  offset: number,
  end: number,
  syntax: Syntax,
  dataset: Dataset,
  inItem: boolean,
  untilTag?: number,
): number {
  const { view } = cursor;
  while (offset < end) {
    if (offset + 4 <= end && untilTag !== undefined && !inItem) {
      const tag =
        ((view.getUint16(offset, syntax.littleEndian) << 16) | view.getUint16(offset + 2, syntax.littleEndian)) >>> 0;
      if (tag >= untilTag) return offset;
    }
    if (offset + 8 > end) {
      // Trailing padding of a few zero bytes is common; anything else is a truncated element header.
      if (cursor.bytes.subarray(offset, end).every((byte) => byte === 0)) return end;
      cursor.fail('TRUNCATED', `the file ends inside an element header at byte ${offset}`);
    }
    const tag =
      ((view.getUint16(offset, syntax.littleEndian) << 16) | view.getUint16(offset + 2, syntax.littleEndian)) >>> 0;
    if (tag === ITEM_DELIMITER && inItem) return offset + 8;
    offset = readElement(cursor, offset, end, syntax, dataset, inItem);
  }
  return offset;
}

/** Read one element at `offset` into `dataset`; returns the offset of the next element. */
function readElement(
  cursor: Cursor,
  offset: number,
  end: number,
  syntax: Syntax,
  dataset: Dataset,
  inItem: boolean,
): number {
  const { view, bytes } = cursor;
  const le = syntax.littleEndian;
  const group = view.getUint16(offset, le);
  const tag = ((group << 16) | view.getUint16(offset + 2, le)) >>> 0;
  let vr: VR | undefined;
  let length: number;
  let valueOffset: number;
  const isDelimiterTag = group === 0xfffe;
  if (syntax.explicit && !isDelimiterTag) {
    const vrText = String.fromCharCode(bytes[offset + 4] ?? 0, bytes[offset + 5] ?? 0);
    if (!isVR(vrText)) {
      cursor.fail('BAD_VR', `element ${tagToString(tag)} has an invalid VR "${printable(vrText)}" at byte ${offset}`);
    }
    vr = vrText;
    if (LONG_LENGTH_VRS.has(vr)) {
      if (offset + 12 > end) cursor.fail('TRUNCATED', `the file ends inside the header of ${tagToString(tag)}`);
      length = view.getUint32(offset + 8, le);
      valueOffset = offset + 12;
    } else {
      length = view.getUint16(offset + 6, le);
      valueOffset = offset + 8;
    }
  } else {
    length = view.getUint32(offset + 4, le);
    valueOffset = offset + 8;
  }
  if (isDelimiterTag) {
    // A stray delimiter outside its context: skip it (dcmtk and pydicom do).
    return valueOffset + (length === UNDEFINED ? 0 : length);
  }
  vr ??= implicitVR(tag, dataset);

  const undefinedLength = length === UNDEFINED;
  if (undefinedLength) {
    if (tag === PIXEL_DATA && vr !== 'SQ') {
      const { fragments, next } = readFragments(cursor, valueOffset, end, syntax);
      dataset.set({ tag, vr: vr === 'OW' && !syntax.explicit ? 'OB' : vr, fragments, undefinedLength: true });
      return next;
    }
    // SQ, or UN / unknown with undefined length: a sequence in implicit VR little endian (PS3.5 6.2.2 note).
    const itemSyntax = vr === 'SQ' ? syntax : { explicit: false, littleEndian: true };
    const { items, next } = readItems(cursor, valueOffset, end, itemSyntax, dataset, true);
    const parsed: DataElement = { tag, vr: 'SQ', items, undefinedLength: true };
    if (vr !== 'SQ') parsed.originalVR = vr;
    dataset.set(parsed);
    return next;
  }
  const valueEnd = valueOffset + length;
  if (valueEnd > end) {
    const where = inItem ? 'its sequence item' : 'the file';
    cursor.fail(
      valueEnd > bytes.length ? 'TRUNCATED' : 'BAD_LENGTH',
      `element ${tagToString(tag)} (${vr}) declares ${length} bytes but ${where} has only ${end - valueOffset} left`,
    );
  }
  if (vr === 'SQ') {
    const { items } = readItems(cursor, valueOffset, valueEnd, syntax, dataset, false);
    dataset.set({ tag, vr, items });
    return valueEnd;
  }
  let knownVR = vr === 'UN' ? vrForUN(tag, dataset, length) : undefined;
  if (knownVR !== undefined) {
    if (knownVR === 'SQ') {
      // UN holding a defined-length sequence: re-parse as implicit VR little endian (PS3.5 6.2.2). When the bytes
      // are not a sequence after all, the element stays UN (its bytes are kept) and the defect is reported.
      try {
        const implicitLE = { explicit: false, littleEndian: true };
        const { items } = readItems(cursor, valueOffset, valueEnd, implicitLE, dataset, false);
        dataset.set({ tag, vr: 'SQ', items, originalVR: 'UN' });
        return valueEnd;
      } catch (error) {
        if (!(error instanceof MedvoxError)) throw error;
        cursor.warnings.push(`${tagToString(tag)} is UN and not a valid sequence (${error.message}); kept as UN`);
        knownVR = undefined;
      }
    }
  }
  let value = bytes.subarray(valueOffset, valueEnd);
  if (!le) value = swapToLittleEndian(value, vr);
  const parsed: DataElement = { tag, vr, bytes: value };
  if (knownVR !== undefined) {
    // pydicom's replace_un_with_known_vr: an element sent as UN gets its (private) dictionary VR back.
    parsed.vr = knownVR;
    parsed.originalVR = 'UN';
  }
  dataset.set(parsed);
  if (tag === SPECIFIC_CHARACTER_SET) dataset.characterSet = decodeCharacterSetTerms(value);
  return valueEnd;
}

function readItems(
  cursor: Cursor,
  offset: number,
  end: number,
  syntax: Syntax,
  parent: Dataset,
  undefinedLength: boolean,
): { items: Dataset[]; next: number } {
  const { view } = cursor;
  const le = syntax.littleEndian;
  const items: Dataset[] = [];
  while (offset < end) {
    if (offset + 8 > end) cursor.fail('TRUNCATED', `the file ends inside a sequence at byte ${offset}`);
    const tag = ((view.getUint16(offset, le) << 16) | view.getUint16(offset + 2, le)) >>> 0;
    const length = view.getUint32(offset + 4, le);
    offset += 8;
    if (tag === SEQUENCE_DELIMITER) return { items, next: offset };
    if (tag !== ITEM)
      cursor.fail('BAD_LENGTH', `expected a sequence item at byte ${offset - 8}, found ${tagToString(tag)}`);
    const item = new Dataset(parent.characterSet);
    item.parent = parent;
    if (length === UNDEFINED) {
      offset = parseElements(cursor, offset, end, syntax, item, true);
    } else {
      let itemEnd = offset + length;
      if (itemEnd > end) {
        // Tolerated only at the end of the file, as pydicom does: the elements that are there are kept.
        if (end !== cursor.bytes.length)
          cursor.fail('BAD_LENGTH', `sequence item at byte ${offset - 8} overruns its sequence`);
        cursor.warnings.push(`sequence item at byte ${offset - 8} declares ${length} bytes past the end of the file`);
        itemEnd = end;
      }
      parseElements(cursor, offset, itemEnd, syntax, item, true);
      offset = itemEnd;
    }
    items.push(item);
  }
  if (undefinedLength && cursor.warnings.length === 0) {
    cursor.fail('TRUNCATED', 'the file ends inside a sequence (no sequence delimiter)');
  }
  return { items, next: offset };
}

/** Encapsulated Pixel Data (PS3.5 A.4): items up to the sequence delimiter; item 0 is the Basic Offset Table. */
function readFragments(
  cursor: Cursor,
  offset: number,
  end: number,
  syntax: Syntax,
): { fragments: Uint8Array[]; next: number } {
  const { view, bytes } = cursor;
  const fragments: Uint8Array[] = [];
  while (offset + 8 <= end) {
    const tag =
      ((view.getUint16(offset, syntax.littleEndian) << 16) | view.getUint16(offset + 2, syntax.littleEndian)) >>> 0;
    const length = view.getUint32(offset + 4, syntax.littleEndian);
    offset += 8;
    if (tag === SEQUENCE_DELIMITER) return { fragments, next: offset };
    if (tag !== ITEM) cursor.fail('BAD_LENGTH', `encapsulated Pixel Data: expected an item at byte ${offset - 8}`);
    if (length === UNDEFINED || offset + length > end) {
      cursor.fail('TRUNCATED', `encapsulated Pixel Data: fragment ${fragments.length} runs past the end of the file`);
    }
    fragments.push(bytes.subarray(offset, offset + length));
    offset += length;
  }
  return cursor.fail('TRUNCATED', 'encapsulated Pixel Data has no sequence delimiter (file truncated)');
}

/** The terms of a Specific Character Set value (0008,0005). */
export function decodeCharacterSetTerms(value: Uint8Array): string[] {
  // The files of a scan nearly always share one value: the last one is kept (copies; callers may keep the array).
  const last = lastCharacterSet;
  if (last && last.bytes.length === value.length && last.bytes.every((byte, i) => byte === value[i])) {
    return [...last.terms];
  }
  let text = '';
  for (let i = 0; i < value.length; i++) text += String.fromCharCode(value[i]!);
  const terms = text.split('\\').map((term) => term.replace(/\0/g, '').trim());
  lastCharacterSet = { bytes: value.slice(), terms };
  return [...terms];
}

let lastCharacterSet: { bytes: Uint8Array; terms: string[] } | undefined;

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
