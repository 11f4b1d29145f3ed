/**
 * DICOM Part 10 writer over the dataset model (PS3.10 7.1, PS3.5 7.1.2). The dataset is written in explicit VR
 * little endian, or kept in its encapsulated transfer syntax when its Pixel Data is encapsulated, or in implicit
 * VR little endian when asked (values over 64 KiB in VRs with a 2-byte explicit length, e.g. long RTSTRUCT
 * Contour Data, need it: PS3.5 7.1.3). Every element of
 * the model is written with its VR and value bytes (padded to even length), so read -> write -> read is lossless.
 */
import { MedvoxError } from '../errors.ts';
import { ByteSink } from './byte-sink.ts';
import { ITEM, ITEM_DELIMITER, SEQUENCE_DELIMITER, UNDEFINED } from './element-walk.ts';
import {
  type DataElement,
  Dataset,
  type DeferredValue,
  type DicomFile,
  elementBytes,
  elementLength,
  isEncapsulated,
  LONG_LENGTH_VRS,
  TransferSyntax,
} from './model.ts';
import { readDicom } from './reader.ts';
import { MEDVOX_IMPLEMENTATION_CLASS_UID, MEDVOX_IMPLEMENTATION_VERSION } from './uid.ts';
import { encodeStrings } from './values.ts';

export interface WriteOptions {
  /** Transfer syntax to declare; defaults to the source's when encapsulated, else explicit VR little endian. */
  transferSyntaxUID?: string;
  /** Write the 128-byte preamble and DICM prefix (default true). */
  preamble?: boolean;
}

const MAX_SHORT_LENGTH = 0xfffe;
const PAD_WITH_NUL = new Set(['UI', 'OB', 'UN']);

export function writeDicom(file: DicomFile, options: WriteOptions = {}): Uint8Array {
  return encodeDicom(file, options).result();
}

/**
 * The file's bytes in pieces, for writers that pass them to the file system as they are (writeFileAtomic): large
 * values such as Pixel Data are not copied into one buffer, and a deferred value (DataElement.deferred) stays a
 * DeferredValue part, produced a chunk at a time as it is written.
 */
export function writeDicomParts(file: DicomFile, options: WriteOptions = {}): Array<Uint8Array | DeferredValue> {
  return encodeDicom(file, options, true).parts();
}

function transferSyntaxOf(file: DicomFile, options: WriteOptions): string {
  const pixelData = file.dataset.get(0x7fe00010);
  const sourceEncapsulated = Boolean(pixelData?.fragments);
  const transferSyntaxUID =
    options.transferSyntaxUID ?? (sourceEncapsulated ? file.transferSyntaxUID : TransferSyntax.ExplicitVRLittleEndian);
  if (sourceEncapsulated !== isEncapsulated(transferSyntaxUID)) {
    throw new MedvoxError(
      'UNSUPPORTED_TRANSFER_SYNTAX',
      `cannot write ${sourceEncapsulated ? 'encapsulated' : 'native'} Pixel Data as ${transferSyntaxUID} (no transcoding)`,
      { file: file.source },
    );
  }
  return transferSyntaxUID;
}

function encodeDicom(file: DicomFile, options: WriteOptions, keepDeferred = false): ByteSink {
  const transferSyntaxUID = transferSyntaxOf(file, options);
  const sopClass = file.dataset.string(0x00080016) ?? file.meta.string(0x00020002);
  if (sopClass === '1.2.840.10008.1.3.10') {
    throw new MedvoxError('UNSUPPORTED_SOP_CLASS', 'medvox does not write DICOMDIR files (Media Storage Directory)', {
      file: file.source,
      hint: 'DICOMDIR records hold byte offsets; build a new DICOMDIR with dcmmkdir after writing the files',
    });
  }
  const sink = new ByteSink(keepDeferred);
  sink.shared = sharedItems(file.dataset);
  if (options.preamble !== false) {
    sink.bytes(new Uint8Array(128));
    sink.ascii('DICM');
  }
  writeMeta(sink, file, transferSyntaxUID);
  writeDataset(sink, file.dataset, transferSyntaxUID === TransferSyntax.ImplicitVRLittleEndian);
  return sink;
}

/** File Meta Information (PS3.10 7.1): group length recomputed, identity of the writer and the syntax updated. */
function writeMeta(sink: ByteSink, file: DicomFile, transferSyntaxUID: string): void {
  const meta = new Map<number, DataElement>();
  for (const element of file.meta.sorted()) meta.set(element.tag, element);
  const set = (tag: number, vr: 'UI' | 'SH' | 'OB', value: string | Uint8Array): void => {
    const bytes = typeof value === 'string' ? encodeStrings([value], vr, []) : value;
    meta.set(tag, { tag, vr, bytes });
  };
  set(0x00020001, 'OB', new Uint8Array([0, 1]));
  const sopClass = file.dataset.string(0x00080016) ?? file.meta.string(0x00020002);
  const sopInstance = file.dataset.string(0x00080018) ?? file.meta.string(0x00020003);
  if (sopClass) set(0x00020002, 'UI', sopClass);
  if (sopInstance) set(0x00020003, 'UI', sopInstance);
  set(0x00020010, 'UI', transferSyntaxUID);
  set(0x00020012, 'UI', MEDVOX_IMPLEMENTATION_CLASS_UID);
  set(0x00020013, 'SH', MEDVOX_IMPLEMENTATION_VERSION);
  meta.delete(0x00020000);
  const body = new ByteSink();
  for (const tag of [...meta.keys()].sort((a, b) => a - b)) writeElement(body, meta.get(tag)!);
  const encoded = body.result();
  writeElement(sink, { tag: 0x00020000, vr: 'UL', bytes: new Uint8Array(new Uint32Array([encoded.length]).buffer) });
  sink.bytes(encoded);
}

/**
 * Items (Dataset objects) that occur more than once below `dataset`: each is encoded once and its bytes repeated.
 * A SEG's per-slice source image items share their code items.
 */
function sharedItems(dataset: Dataset): Set<Dataset> {
  const seen = new Set<Dataset>();
  const shared = new Set<Dataset>();
  const visit = (current: Dataset): void => {
    for (const element of current.elements.values()) {
      if (!element.items) continue;
      for (const item of element.items) {
        if (seen.has(item)) {
          shared.add(item);
          continue;
        }
        seen.add(item);
        visit(item);
      }
    }
  };
  visit(dataset);
  return shared;
}

/** An item with its delimiters (PS3.5 7.5, undefined length); a shared item's bytes come from the cache. */
function writeItem(sink: ByteSink, item: Dataset, implicit: boolean): void {
  const cached = sink.encodedItems.get(item);
  if (cached) {
    sink.bytes(cached);
    return;
  }
  if (sink.shared.has(item)) {
    const child = sink.child();
    writeItemBody(child, item, implicit);
    const bytes = child.result();
    sink.encodedItems.set(item, bytes);
    sink.bytes(bytes);
    return;
  }
  writeItemBody(sink, item, implicit);
}

function writeItemBody(sink: ByteSink, item: Dataset, implicit: boolean): void {
  itemStart(sink);
  writeDataset(sink, item, implicit);
  itemEnd(sink);
}

/** An item's header, undefined length (PS3.5 7.5.2): its elements follow, then itemEnd. */
function itemStart(sink: ByteSink): void {
  writeTag(sink, ITEM);
  sink.uint32(UNDEFINED);
}

function itemEnd(sink: ByteSink): void {
  writeTag(sink, ITEM_DELIMITER);
  sink.uint32(0);
}

function writeDataset(sink: ByteSink, dataset: Dataset, implicit = false): void {
  // Most datasets hold their elements in tag order already: written as they are, without sorting a copy.
  for (const element of dataset.inTagOrder() ? dataset.elements.values() : dataset.sorted()) {
    if (element.tag >>> 16 === 0x0002) continue; // meta elements never belong in the dataset
    if (implicit) writeImplicitElement(sink, element);
    else writeElement(sink, element);
  }
}

/** PS3.5 7.1.3: tag, 4-byte length, value; sequences and items with undefined length. */
function writeImplicitElement(sink: ByteSink, element: DataElement): void {
  if (element.vr === 'SQ' || element.items) {
    writeSequence(sink, element, true);
    return;
  }
  writeTag(sink, element.tag);
  let value = elementBytes(element) ?? new Uint8Array();
  if (value.length % 2 === 1) value = pad(value, PAD_WITH_NUL.has(element.vr) ? 0 : 0x20);
  sink.uint32(value.length);
  sink.bytes(value);
}

/** True when some value (at any depth) is too long for its VR's 2-byte explicit length field. */
export function needsImplicitVR(dataset: Dataset): boolean {
  for (const element of dataset.elements.values()) {
    if (element.items?.some(needsImplicitVR)) return true;
    if (element.bytes && !LONG_LENGTH_VRS.has(element.vr) && element.bytes.length > MAX_SHORT_LENGTH) return true;
  }
  return false;
}

/**
 * Data elements encoded on their own in explicit VR little endian, as this writer writes them in a dataset: for
 * callers that assemble many similar items from encoded pieces (`encodedSequence`).
 */
export function encodeElements(elements: readonly DataElement[]): Uint8Array[] {
  const sink = new ByteSink(false, 4096);
  return elements.map((element) => {
    sink.reset();
    writeElement(sink, element);
    return sink.result();
  });
}

/**
 * A sequence element whose items are already encoded (each item given as its elements encoded in explicit VR little
 * endian, in tag order: encodeElements), framed here as writeItem frames an item (undefined length, delimiter) and
 * kept as the element's bytes: the SEG writer assembles its thousands of per-frame items this way
 * (core/seg/write.ts). The element has `bytes` and no `items`; written in implicit VR, the items are read back and
 * encoded again.
 */
export function encodedSequence(tag: number, items: ReadonlyArray<readonly Uint8Array[]>): DataElement {
  const sink = new ByteSink();
  for (const elements of items) {
    itemStart(sink);
    for (const element of elements) sink.bytes(element);
    itemEnd(sink);
  }
  return { tag, vr: 'SQ', bytes: sink.result() };
}

/** The items of an encoded sequence (encodedSequence), read back. */
function itemsOf(element: DataElement): Dataset[] {
  const dataset = new Dataset();
  dataset.set(element);
  const file = { meta: new Dataset(), dataset, transferSyntaxUID: TransferSyntax.ExplicitVRLittleEndian };
  return readDicom(writeDicom({ ...file, hasPreamble: true })).dataset.get(element.tag)?.items ?? [];
}

/** A sequence element, undefined length. */
function writeSequence(sink: ByteSink, element: DataElement, implicit: boolean): void {
  if (!element.items && element.bytes) {
    // Items encoded ahead (encodedSequence).
    if (implicit) {
      writeSequence(sink, { tag: element.tag, vr: 'SQ', items: itemsOf(element) }, true);
      return;
    }
    sequenceStart(sink, element.tag, false);
    sink.bytes(element.bytes);
    sequenceEnd(sink);
    return;
  }
  sequenceStart(sink, element.tag, implicit);
  for (const item of element.items ?? []) writeItem(sink, item, implicit);
  sequenceEnd(sink);
}

/** A sequence's header, undefined length (PS3.5 7.5.2): its items follow, then sequenceEnd. */
function sequenceStart(sink: ByteSink, tag: number, implicit: boolean): void {
  writeTag(sink, tag);
  if (!implicit) {
    sink.ascii('SQ');
    sink.uint16(0);
  }
  sink.uint32(UNDEFINED);
}

function sequenceEnd(sink: ByteSink): void {
  writeTag(sink, SEQUENCE_DELIMITER);
  sink.uint32(0);
}

function writeTag(sink: ByteSink, tag: number): void {
  sink.uint16(tag >>> 16);
  sink.uint16(tag & 0xffff);
}

function writeElement(sink: ByteSink, element: DataElement): void {
  const { tag } = element;
  if (element.vr === 'SQ' || element.items) {
    writeSequence(sink, element, false);
    return;
  }
  if (element.fragments) {
    writeTag(sink, tag);
    sink.ascii('OB');
    sink.uint16(0);
    sink.uint32(UNDEFINED);
    element.fragments.forEach((fragment, index) => {
      writeTag(sink, ITEM);
      const padded = index > 0 && fragment.length % 2 === 1 ? pad(fragment, 0) : fragment;
      sink.uint32(padded.length);
      sink.bytes(padded);
    });
    writeTag(sink, SEQUENCE_DELIMITER);
    sink.uint32(0);
    return;
  }
  if (element.deferred && element.bytes === undefined && sink.keepDeferred && keepsDeferred(element)) {
    const length = elementLength(element);
    writeTag(sink, tag);
    sink.ascii(element.vr);
    sink.uint16(0);
    sink.uint32(length + (length % 2));
    sink.deferred(element.deferred);
    if (length % 2 === 1) sink.bytes(new Uint8Array(1));
    return;
  }
  let value = elementBytes(element) ?? new Uint8Array();
  if (value.length % 2 === 1) value = pad(value, PAD_WITH_NUL.has(element.vr) ? 0 : 0x20);
  // A short-length VR cannot hold more than 64 KiB in explicit VR: such (malformed) values are written as UN.
  const vr = !LONG_LENGTH_VRS.has(element.vr) && value.length > MAX_SHORT_LENGTH ? 'UN' : element.vr;
  writeTag(sink, tag);
  sink.ascii(vr);
  if (LONG_LENGTH_VRS.has(vr)) {
    sink.uint16(0);
    sink.uint32(value.length);
  } else {
    sink.uint16(value.length);
  }
  sink.bytes(value);
}

/** A deferred value written as a part: long-length VRs only, and an odd length only where the pad byte is NUL. */
function keepsDeferred(element: DataElement): boolean {
  return LONG_LENGTH_VRS.has(element.vr) && (elementLength(element) % 2 === 0 || PAD_WITH_NUL.has(element.vr));
}

function pad(value: Uint8Array, byte: number): Uint8Array {
  const out = new Uint8Array(value.length + 1);
  out.set(value);
  out[value.length] = byte;
  return out;
}
