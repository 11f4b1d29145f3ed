/**
 * The medvox DICOM dataset model. Every element keeps its VR and its value bytes exactly as read (converted to
 * little endian), sequences keep their items, encapsulated pixel data keeps its fragments: so writing a dataset
 * reproduces every element, private tags included. Values are decoded on access (values.ts).
 */
import { lookupTag, tagOf } from './dictionary.ts';
import { decodeNumbers, decodeStrings, encodeNumbers, encodeStrings, firstNumber, firstStringAt } from './values.ts';

/** The value representations of PS3.5 Table 6.2-1. */
export const VRS = [
  'AE',
  'AS',
  'AT',
  'CS',
  'DA',
  'DS',
  'DT',
  'FD',
  'FL',
  'IS',
  'LO',
  'LT',
  'OB',
  'OD',
  'OF',
  'OL',
  'OV',
  'OW',
  'PN',
  'SH',
  'SL',
  'SQ',
  'SS',
  'ST',
  'SV',
  'TM',
  'UC',
  'UI',
  'UL',
  'UN',
  'UR',
  'US',
  'UT',
  'UV',
] as const;
export type VR = (typeof VRS)[number];
const vrSet: ReadonlySet<string> = new Set(VRS);
export const isVR = (value: string): value is VR => vrSet.has(value);

/** VRs whose value is text (decoded with the Specific Character Set where PS3.5 6.1.2.3 says so). */
export const STRING_VRS: ReadonlySet<VR> = new Set<VR>([
  'AE',
  'AS',
  'CS',
  'DA',
  'DS',
  'DT',
  'IS',
  'LO',
  'LT',
  'PN',
  'SH',
  'ST',
  'TM',
  'UC',
  'UI',
  'UR',
  'UT',
]);
/** VRs holding binary numbers. */
export const NUMBER_VRS: ReadonlySet<VR> = new Set<VR>(['FD', 'FL', 'SL', 'SS', 'SV', 'UL', 'US', 'UV']);
/** VRs whose explicit-VR encoding uses a 2-byte reserved field and a 4-byte length (PS3.5 7.1.2). */
export const LONG_LENGTH_VRS: ReadonlySet<VR> = new Set<VR>([
  'OB',
  'OD',
  'OF',
  'OL',
  'OV',
  'OW',
  'SQ',
  'SV',
  'UC',
  'UN',
  'UR',
  'UT',
  'UV',
]);

export interface DataElement {
  /** (group << 16 | element) >>> 0 */
  readonly tag: number;
  vr: VR;
  /**
   * Value bytes in little-endian order, padding included. Absent for encapsulated Pixel Data, and for SQ except a
   * sequence whose items were encoded ahead (writer.ts encodedSequence; then `items` is absent).
   */
  bytes?: Uint8Array;
  /** Items of a sequence (VR SQ). */
  items?: Dataset[];
  /** Encapsulated Pixel Data (PS3.5 A.4): [Basic Offset Table (may be empty), fragment, fragment, ...]. */
  fragments?: Uint8Array[];
  /** True when the element was encoded with undefined length (0xFFFFFFFF). */
  undefinedLength?: boolean;
  /** The VR as written in the file when medvox resolved another (e.g. UN re-parsed as SQ). */
  originalVR?: VR;
  /**
   * A value left in its file by a header-first read (native Pixel Data): `bytes` is absent until someone needs the
   * whole value (see `elementBytes`); the volume builder reads frames from it straight into place.
   */
  deferred?: DeferredValue;
}

/** A value that stays in its file until read (implemented by the I/O layer; core code only calls it). */
export interface DeferredValue {
  /** Value length in bytes. */
  readonly length: number;
  /** Fill `targets`, in order, with the value's bytes from `offset` (relative to the value's first byte). */
  readInto(offset: number, targets: readonly Uint8Array[]): void;
  /** The whole value. */
  read(): Uint8Array;
  /** Where the value lies when it is a range of a file on disk (the value's first byte at `start`). */
  readonly file?: { readonly path: string; readonly start: number };
  /**
   * For a value that is mostly zeros: the byte ranges [start, end) that may hold anything else, in ascending order of
   * start (neighbours may touch or overlap); every byte outside them is zero. A file writer may write only these
   * and leave the rest as holes.
   */
  readonly nonZeroRanges?: () => Iterable<readonly [number, number]>;
}

/** A DeferredValue from its length and its range reader; `read()` is the whole value through `readInto`. */
export function deferredValue(
  length: number,
  readInto: (offset: number, targets: readonly Uint8Array[]) => void,
  more: Pick<DeferredValue, 'file' | 'nonZeroRanges'> = {},
): DeferredValue {
  return {
    length,
    ...more,
    readInto,
    read: () => {
      const bytes = new Uint8Array(length);
      readInto(0, [bytes]);
      return bytes;
    },
  };
}

/** An element's value bytes, reading a deferred value in (once) when needed. */
export function elementBytes(element: DataElement): Uint8Array | undefined {
  if (element.bytes === undefined && element.deferred) {
    element.bytes = element.deferred.read();
    delete element.deferred;
  }
  return element.bytes;
}

/** An element's value length in bytes without reading a deferred value. */
export function elementLength(element: DataElement): number {
  return element.bytes?.length ?? element.deferred?.length ?? 0;
}

/**
 * Read access to a dataset, whatever holds it: a parsed `Dataset`, or an `IndexedDataset` (indexed-dataset.ts) that
 * only records where each element lies in the file's bytes and decodes a value when it is asked for. Code that only
 * reads a dataset (metadata reports, VR resolution) takes this, so it runs on either without a copy.
 */
export interface ReadonlyDataset {
  /** Specific Character Set terms in force (inherited by sequence items unless they override). */
  readonly characterSet: readonly string[];
  /** The dataset holding the sequence this item belongs to (undefined at the top level). */
  readonly parent: ReadonlyDataset | undefined;
  has(tag: number): boolean;
  get(tag: number): ReadonlyElement | undefined;
  /** Tags in the order they were read (a tag read twice keeps its first place and its last value). */
  keys(): Iterable<number>;
  strings(key: number | string): string[];
  string(key: number | string): string | undefined;
  numbers(key: number | string): number[];
  number(key: number | string): number | undefined;
  items(key: number | string): readonly ReadonlyDataset[];
  /**
   * Where the value of `tag` lies, written into `into` (no allocation): false when the element is absent or holds no
   * bytes (a sequence, encapsulated or deferred Pixel Data). For hot loops that decode values themselves.
   */
  locate(tag: number, into: ValueLocation): boolean;
}

/** A value's place: `bytes[start, end)` in little-endian order, and its VR. */
export interface ValueLocation {
  bytes: Uint8Array;
  start: number;
  end: number;
  vr: VR;
}

/** An element read through a ReadonlyDataset: its items are read-only datasets too. */
export type ReadonlyElement = Omit<DataElement, 'items'> & { readonly items?: readonly ReadonlyDataset[] };

export class Dataset implements ReadonlyDataset {
  readonly elements = new Map<number, DataElement>();
  /** Specific Character Set terms in force for this dataset (inherited by sequence items unless they override). */
  characterSet: readonly string[];
  /** The dataset holding the sequence this item belongs to (undefined at the top level). */
  parent: Dataset | undefined;

  constructor(characterSet: readonly string[] = []) {
    this.characterSet = characterSet;
  }

  get size(): number {
    return this.elements.size;
  }
  has(tag: number): boolean {
    return this.elements.has(tag);
  }
  get(tag: number): DataElement | undefined {
    return this.elements.get(tag);
  }
  set(element: DataElement): void {
    this.elements.set(element.tag, element);
  }
  delete(tag: number): boolean {
    return this.elements.delete(tag);
  }
  keys(): Iterable<number> {
    return this.elements.keys();
  }
  locate(tag: number, into: ValueLocation): boolean {
    const element = this.elements.get(tag);
    if (!element?.bytes) return false;
    into.bytes = element.bytes;
    into.start = 0;
    into.end = element.bytes.length;
    into.vr = element.vr;
    return true;
  }
  /** Tags in ascending order (the order PS3.5 7.1 requires when writing). */
  tags(): number[] {
    return [...this.elements.keys()].sort((a, b) => a - b);
  }
  /** Elements in ascending tag order. */
  sorted(): DataElement[] {
    return this.inTagOrder() ? [...this.elements.values()] : this.tags().map((tag) => this.elements.get(tag)!);
  }
  /** True when the elements were set in ascending tag order (datasets read from a file, most built ones). */
  inTagOrder(): boolean {
    let previous = -1;
    for (const tag of this.elements.keys()) {
      if (tag < previous) return false;
      previous = tag;
    }
    return true;
  }

  // ---- typed access (keyword or tag) ----

  /** All string values of a text element, charset-decoded, trailing padding removed; [] when absent/empty. */
  strings(key: number | string): string[] {
    const element = this.get(tagOfKey(key));
    if (!element?.bytes || element.bytes.length === 0) return [];
    return decodeStrings(element.bytes, element.vr, this.characterSet);
  }
  /** The first string value, or undefined when absent or empty. */
  string(key: number | string): string | undefined {
    const element = this.get(tagOfKey(key));
    const bytes = element?.bytes;
    if (!bytes || bytes.length === 0) return undefined;
    const value = firstStringAt(bytes, 0, bytes.length, element.vr, this.characterSet);
    return value === '' ? undefined : value;
  }
  /** Numeric values of a binary number VR, or of DS / IS text (non-numeric text gives NaN). */
  numbers(key: number | string): number[] {
    const element = this.get(tagOfKey(key));
    if (!element?.bytes || element.bytes.length === 0) return [];
    return decodeNumbers(element.bytes, element.vr);
  }
  number(key: number | string): number | undefined {
    const element = this.get(tagOfKey(key));
    const bytes = element?.bytes;
    return bytes && bytes.length > 0 ? firstNumber(bytes, element.vr) : undefined;
  }
  /** Items of a sequence ([] when absent). */
  items(key: number | string): Dataset[] {
    return this.get(tagOfKey(key))?.items ?? [];
  }

  // ---- building (phantoms, writers, derived objects) ----

  /** Set a text element; the VR defaults to the dictionary's. Values are joined with backslash and padded. */
  setStrings(key: number | string, values: readonly string[] | string, vr?: VR): this {
    const tag = tagOfKey(key);
    const resolvedVR = vr ?? dictionaryVR(tag);
    const list = typeof values === 'string' ? [values] : values;
    this.set({ tag, vr: resolvedVR, bytes: encodeStrings(list, resolvedVR, this.characterSet) });
    return this;
  }
  /** Set a binary-number element (US, SS, UL, SL, FL, FD, SV, UV) or a DS / IS element from numbers. */
  setNumbers(key: number | string, values: readonly number[] | number, vr?: VR): this {
    const tag = tagOfKey(key);
    const resolvedVR = vr ?? dictionaryVR(tag);
    const list = typeof values === 'number' ? [values] : values;
    this.set({ tag, vr: resolvedVR, bytes: encodeNumbers(list, resolvedVR) });
    return this;
  }
  setBytes(key: number | string, bytes: Uint8Array, vr?: VR): this {
    const tag = tagOfKey(key);
    this.set({ tag, vr: vr ?? dictionaryVR(tag), bytes });
    return this;
  }
  setItems(key: number | string, items: Dataset[]): this {
    this.set({ tag: tagOfKey(key), vr: 'SQ', items });
    return this;
  }
}

/** A parsed DICOM file (Part 10) or bare dataset. */
export interface DicomFile {
  /** File Meta Information (group 0002); empty when the file had none. */
  meta: Dataset;
  dataset: Dataset;
  /** Transfer syntax the dataset was encoded in (from the meta header, or detected when absent). */
  transferSyntaxUID: string;
  /** False when the file had no 128-byte preamble + DICM. */
  hasPreamble: boolean;
  /** The file name, for error messages. */
  source?: string;
  /** Defects the reader tolerated (e.g. an item running past the end of the file). */
  warnings?: string[];
}

/** A tag given as a number or a keyword. */
export function tagOfKey(key: number | string): number {
  return typeof key === 'number' ? key : tagOf(key);
}

function dictionaryVR(tag: number): VR {
  const entry = lookupTag(tag);
  const vr = entry?.vrs[0];
  if (!vr || !isVR(vr)) throw new Error(`no dictionary VR for tag ${tag.toString(16)}; pass one`);
  return vr;
}

/** Well-known transfer syntax UIDs (PS3.6 Annex A). */
export const TransferSyntax = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
  JPEGBaseline8Bit: '1.2.840.10008.1.2.4.50',
  JPEGExtended12Bit: '1.2.840.10008.1.2.4.51',
  JPEGSpectralSelection: '1.2.840.10008.1.2.4.53',
  JPEGFullProgression: '1.2.840.10008.1.2.4.55',
  JPEGLossless: '1.2.840.10008.1.2.4.57',
  JPEGLosslessSV1: '1.2.840.10008.1.2.4.70',
  JPEGLSLossless: '1.2.840.10008.1.2.4.80',
  JPEGLSNearLossless: '1.2.840.10008.1.2.4.81',
  JPEG2000Lossless: '1.2.840.10008.1.2.4.90',
  JPEG2000: '1.2.840.10008.1.2.4.91',
  HTJ2KLossless: '1.2.840.10008.1.2.4.201',
  HTJ2KLosslessRPCL: '1.2.840.10008.1.2.4.202',
  HTJ2K: '1.2.840.10008.1.2.4.203',
  RLELossless: '1.2.840.10008.1.2.5',
} as const;

/** True for transfer syntaxes whose Pixel Data is encapsulated (PS3.5 A.4). */
export function isEncapsulated(transferSyntaxUID: string): boolean {
  return ![
    TransferSyntax.ImplicitVRLittleEndian,
    TransferSyntax.ExplicitVRLittleEndian,
    TransferSyntax.DeflatedExplicitVRLittleEndian,
    TransferSyntax.ExplicitVRBigEndian,
  ].includes(transferSyntaxUID as never);
}
