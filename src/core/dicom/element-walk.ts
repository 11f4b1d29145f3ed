/**
 * Walking DICOM elements without building anything (PS3.5 7): element headers read the reader's way (reader.ts
 * readElement), and sequences, items and encapsulated fragments checked as the reader would read them. The header
 * index (indexed-dataset.ts) uses it to skip what nobody has asked for yet and to read element headers.
 */
import { MedvoxError } from '../errors.ts';
import { tagToString } from './dictionary.ts';
import { LONG_LENGTH_VRS, type VR, VRS } from './model.ts';
import type { Syntax } from './reader.ts';

export const PIXEL_DATA = 0x7fe00010;
export const ITEM = 0xfffee000;
export const ITEM_DELIMITER = 0xfffee00d;
export const SEQUENCE_DELIMITER = 0xfffee0dd;
export const UNDEFINED = 0xffffffff;

/** The file's bytes an index points into, shared by a dataset and its items. */
export interface IndexedBytes {
  /** Little endian values: a big-endian file is indexed in a copy whose values are swapped as they are indexed. */
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly source: string | undefined;
}

/** The walk met a construct `readDicom` resolves by trying and backing off: read the file with it instead. */
export class FullParseNeeded extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FullParseNeeded';
  }
}

const VR_BY_CODE = new Map<number, VR>(VRS.map((vr) => [(vr.charCodeAt(0) << 8) | vr.charCodeAt(1), vr]));

export function fail(file: IndexedBytes, code: 'TRUNCATED' | 'BAD_LENGTH' | 'BAD_VR', message: string): never {
  throw new MedvoxError(code, message, { file: file.source });
}

export function tagAt(view: DataView, offset: number, littleEndian: boolean): number {
  return ((view.getUint16(offset, littleEndian) << 16) | view.getUint16(offset + 2, littleEndian)) >>> 0;
}

export function zeroesFrom(bytes: Uint8Array, offset: number, end: number): boolean {
  for (let i = offset; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}

export interface ElementHeader {
  tag: number;
  /** Explicit VR as written; undefined in implicit VR and for delimiters. */
  vr: VR | undefined;
  length: number;
  valueOffset: number;
}

/** One element header read the reader's way (reader.ts readElement); the object is reused: read it at once. */
const header: ElementHeader = { tag: 0, vr: undefined, length: 0, valueOffset: 0 };

export function readElementHeader(file: IndexedBytes, syntax: Syntax, offset: number, end: number): ElementHeader {
  const { bytes, view } = file;
  const littleEndian = syntax.littleEndian;
  const group = view.getUint16(offset, littleEndian);
  header.tag = ((group << 16) | view.getUint16(offset + 2, littleEndian)) >>> 0;
  header.vr = undefined;
  if (syntax.explicit && group !== 0xfffe) {
    const vr = VR_BY_CODE.get((bytes[offset + 4]! << 8) | bytes[offset + 5]!);
    if (vr === undefined) {
      const text = String.fromCharCode(bytes[offset + 4] ?? 0, bytes[offset + 5] ?? 0).replace(
        /[^\x20-\x7e]/g,
        (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`,
      );
      fail(file, 'BAD_VR', `element ${tagToString(header.tag)} has an invalid VR "${text}" at byte ${offset}`);
    }
    header.vr = vr;
    if (LONG_LENGTH_VRS.has(vr)) {
      if (offset + 12 > end) fail(file, 'TRUNCATED', `the file ends inside the header of ${tagToString(header.tag)}`);
      header.length = view.getUint32(offset + 8, littleEndian);
      header.valueOffset = offset + 12;
    } else {
      header.length = view.getUint16(offset + 6, littleEndian);
      header.valueOffset = offset + 8;
    }
  } else {
    header.length = view.getUint32(offset + 4, littleEndian);
    header.valueOffset = offset + 8;
  }
  return header;
}

export function checkValueEnd(
  file: IndexedBytes,
  tag: number,
  vr: VR,
  valueOffset: number,
  length: number,
  end: number,
  inItem: boolean,
): number {
  const valueEnd = valueOffset + length;
  if (valueEnd > end) {
    const where = inItem ? 'its sequence item' : 'the file';
    fail(
      file,
      valueEnd > file.bytes.length ? 'TRUNCATED' : 'BAD_LENGTH',
      `element ${tagToString(tag)} (${vr}) declares ${length} bytes but ${where} has only ${end - valueOffset} left`,
    );
  }
  return valueEnd;
}

/** Check the items of an explicit VR sequence as indexItems would read them, without recording anything. */
export function skipItems(
  file: IndexedBytes,
  syntax: Syntax,
  offset: number,
  end: number,
  undefinedLength: boolean,
): number {
  const view = file.view;
  const littleEndian = syntax.littleEndian;
  while (offset < end) {
    if (offset + 8 > end) fail(file, 'TRUNCATED', `the file ends inside a sequence at byte ${offset}`);
    const tag = tagAt(view, offset, littleEndian);
    const length = view.getUint32(offset + 4, littleEndian);
    offset += 8;
    if (tag === SEQUENCE_DELIMITER) return offset;
    if (tag !== ITEM)
      fail(file, 'BAD_LENGTH', `expected a sequence item at byte ${offset - 8}, found ${tagToString(tag)}`);
    if (length === UNDEFINED) offset = skipElements(file, syntax, offset, end);
    else {
      const itemEnd = offset + length;
      if (itemEnd > end) throw new FullParseNeeded(`sequence item at byte ${offset - 8} runs past its sequence`);
      skipElements(file, syntax, offset, itemEnd);
      offset = itemEnd;
    }
  }
  if (undefinedLength) fail(file, 'TRUNCATED', 'the file ends inside a sequence (no sequence delimiter)');
  return offset;
}

/** The elements of one explicit VR item (indexElements in an item), checked only. */
function skipElements(file: IndexedBytes, syntax: Syntax, offset: number, end: number): number {
  const { bytes, view } = file;
  while (offset < end) {
    if (offset + 8 > end) {
      if (zeroesFrom(bytes, offset, end)) return end;
      fail(file, 'TRUNCATED', `the file ends inside an element header at byte ${offset}`);
    }
    if (tagAt(view, offset, syntax.littleEndian) === ITEM_DELIMITER) return offset + 8;
    const { tag, vr, length, valueOffset } = readElementHeader(file, syntax, offset, end);
    if (tag >>> 16 === 0xfffe) {
      offset = valueOffset + (length === UNDEFINED ? 0 : length);
      continue;
    }
    // Explicit VR: only delimiters come without a VR. A UN value's VR depends on the item's private creators.
    if (vr === undefined || vr === 'UN') throw new FullParseNeeded(`${tagToString(tag)} in a sequence item is UN`);
    if (length === UNDEFINED) {
      if (tag === PIXEL_DATA && vr !== 'SQ') offset = skipFragments(file, syntax, valueOffset, end);
      else if (vr === 'SQ') offset = skipItems(file, syntax, valueOffset, end, true);
      else throw new FullParseNeeded(`${tagToString(tag)} (${vr}) has an undefined length`);
      continue;
    }
    const valueEnd = checkValueEnd(file, tag, vr, valueOffset, length, end, true);
    if (vr === 'SQ') skipItems(file, syntax, valueOffset, valueEnd, false);
    offset = valueEnd;
  }
  return offset;
}

/** Encapsulated Pixel Data (reader.ts readFragments): items up to the sequence delimiter; returns the offset after it. */
export function skipFragments(file: IndexedBytes, syntax: Syntax, offset: number, end: number): number {
  const view = file.view;
  let fragments = 0;
  while (offset + 8 <= end) {
    const tag = tagAt(view, offset, syntax.littleEndian);
    const length = view.getUint32(offset + 4, syntax.littleEndian);
    offset += 8;
    if (tag === SEQUENCE_DELIMITER) return offset;
    if (tag !== ITEM) fail(file, 'BAD_LENGTH', `encapsulated Pixel Data: expected an item at byte ${offset - 8}`);
    if (length === UNDEFINED || offset + length > end)
      fail(file, 'TRUNCATED', `encapsulated Pixel Data: fragment ${fragments} runs past the end of the file`);
    offset += length;
    fragments++;
  }
  return fail(file, 'TRUNCATED', 'encapsulated Pixel Data has no sequence delimiter (file truncated)');
}

/** The fragments of checked encapsulated Pixel Data in [offset, end): views into the file's bytes. */
export function fragmentsOf(file: IndexedBytes, littleEndian: boolean, offset: number, end: number): Uint8Array[] {
  const { bytes, view } = file;
  const fragments: Uint8Array[] = [];
  while (offset + 8 <= end) {
    const tag = tagAt(view, offset, littleEndian);
    const length = view.getUint32(offset + 4, littleEndian);
    offset += 8;
    if (tag === SEQUENCE_DELIMITER) break;
    fragments.push(bytes.subarray(offset, offset + length));
    offset += length;
  }
  return fragments;
}
