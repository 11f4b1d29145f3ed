/**
 * A dataset indexed in its file's bytes instead of parsed into the model: one walk over the elements records each
 * one's tag, VR and where its value lies (no object, no view, no decoding per element); a value is decoded when it
 * is asked for, straight from the bytes. For reading a few values of many files (metadata reports), where building
 * the lossless model of every element cost more than everything else.
 *
 * The walk follows `readDicom` rule for rule (reader.ts): the same VR resolution (implicit VR, UN, private
 * dictionaries), the same handling of delimiters, padding and undefined lengths, the same errors. Sequences:
 *   - explicit VR: the walk only checks their structure (skipping values); their items are indexed when someone asks
 *     for them (`items()`), so nested data nobody reads is never indexed;
 *   - implicit VR (including UN sequences, PS3.5 6.2.2): an element's VR may depend on what precedes it in its item
 *     (private creators, Pixel Representation), so items are indexed during the walk, as the reader does.
 * Constructs whose reading depends on trying and backing off (a UN value that may or may not be a sequence, an item
 * running past its sequence) throw `FullParseNeeded`: the caller reads that file with `readDicom`.
 */
import { tagToString } from './dictionary.ts';
import {
  checkValueEnd,
  FullParseNeeded,
  fail,
  fragmentsOf,
  type IndexedBytes,
  ITEM,
  ITEM_DELIMITER,
  PIXEL_DATA,
  readElementHeader,
  SEQUENCE_DELIMITER,
  skipFragments,
  skipItems,
  tagAt,
  UNDEFINED,
  zeroesFrom,
} from './element-walk.ts';
import { implicitVR, vrForUN } from './implicit-vr.ts';
import { type ReadonlyDataset, type ReadonlyElement, tagOfKey, type ValueLocation, type VR } from './model.ts';
import { decodeCharacterSetTerms, type Syntax } from './reader.ts';
import { decodeNumbersAt, decodeStringsAt, firstNumberAt, firstStringAt, swapToLittleEndian } from './values.ts';

const SPECIFIC_CHARACTER_SET = 0x00080005;
const IMPLICIT_LITTLE_ENDIAN: Syntax = { explicit: false, littleEndian: true };

/** Element flags. */
const UNDEFINED_LENGTH = 1;
/** Encapsulated Pixel Data (PS3.5 A.4): the range holds items up to and including the sequence delimiter. */
const FRAGMENTS = 2;

/** What few elements carry beyond tag, VR and range. */
interface SlotExtra {
  /** Sequence items, once indexed. */
  items?: IndexedDataset[];
  /** Character set in force where the sequence was read (its items inherit it, as in the reader). */
  characterSet?: readonly string[];
  /** VR written in the file when another was resolved (UN with a dictionary VR, UN as a sequence). */
  originalVR?: VR;
}

export class IndexedDataset implements ReadonlyDataset {
  characterSet: readonly string[] = [];
  parent: ReadonlyDataset | undefined;
  /** Number of elements indexed. */
  size = 0;
  private tags = new Uint32Array(64);
  private starts = new Int32Array(64);
  private ends = new Int32Array(64);
  private flags = new Uint8Array(64);
  private vrs: VR[] = [];
  /** Tags strictly ascending (PS3.5 7.1): lookups are a binary search; otherwise a scan from the end (last wins). */
  private ordered = true;
  private extras: Map<number, SlotExtra> | undefined;
  private elementCache: Array<ReadonlyElement | undefined> = [];

  constructor(
    public file: IndexedBytes,
    public syntax: Syntax,
  ) {}

  /** Empty the index for another file (the arrays are kept: no allocation per file). */
  reset(file: IndexedBytes, syntax: Syntax): void {
    this.file = file;
    this.syntax = syntax;
    this.characterSet = [];
    this.parent = undefined;
    this.size = 0;
    this.ordered = true;
    this.extras = undefined;
    this.elementCache.length = 0;
  }

  /** Record an element; returns its slot. */
  add(tag: number, vr: VR, start: number, end: number, flags: number): number {
    const slot = this.size;
    if (slot === this.tags.length) this.grow();
    if (slot > 0 && this.tags[slot - 1]! >= tag) this.ordered = false;
    this.tags[slot] = tag;
    this.vrs[slot] = vr;
    this.starts[slot] = start;
    this.ends[slot] = end;
    this.flags[slot] = flags;
    this.size = slot + 1;
    return slot;
  }

  private grow(): void {
    const length = this.tags.length * 2;
    const tags = new Uint32Array(length);
    tags.set(this.tags);
    this.tags = tags;
    const starts = new Int32Array(length);
    starts.set(this.starts);
    this.starts = starts;
    const ends = new Int32Array(length);
    ends.set(this.ends);
    this.ends = ends;
    const flags = new Uint8Array(length);
    flags.set(this.flags);
    this.flags = flags;
  }

  extra(slot: number): SlotExtra {
    this.extras ??= new Map();
    let extra = this.extras.get(slot);
    if (!extra) {
      extra = {};
      this.extras.set(slot, extra);
    }
    return extra;
  }

  setEnd(slot: number, end: number): void {
    this.ends[slot] = end;
  }

  /** The slot of `tag`, or -1. */
  slotOf(tag: number): number {
    const tags = this.tags;
    if (this.ordered) {
      let low = 0;
      let high = this.size - 1;
      while (low <= high) {
        const middle = (low + high) >>> 1;
        const found = tags[middle]!;
        if (found < tag) low = middle + 1;
        else if (found > tag) high = middle - 1;
        else return middle;
      }
      return -1;
    }
    for (let slot = this.size - 1; slot >= 0; slot--) if (tags[slot] === tag) return slot;
    return -1;
  }

  vrAt(slot: number): VR {
    return this.vrs[slot]!;
  }

  /** True when the slot holds a value (not a sequence, not encapsulated fragments, not empty). */
  private hasValue(slot: number): boolean {
    return this.vrs[slot] !== 'SQ' && (this.flags[slot]! & FRAGMENTS) === 0 && this.ends[slot]! > this.starts[slot]!;
  }

  has(tag: number): boolean {
    return this.slotOf(tag) >= 0;
  }

  get(tag: number): ReadonlyElement | undefined {
    const slot = this.slotOf(tag);
    return slot < 0 ? undefined : this.element(slot);
  }

  locate(tag: number, into: ValueLocation): boolean {
    const slot = this.slotOf(tag);
    if (slot < 0 || this.vrs[slot] === 'SQ' || this.flags[slot]! & FRAGMENTS) return false;
    into.bytes = this.file.bytes;
    into.start = this.starts[slot]!;
    into.end = this.ends[slot]!;
    into.vr = this.vrs[slot]!;
    return true;
  }

  keys(): Iterable<number> {
    const tags: number[] = [];
    for (let slot = 0; slot < this.size; slot++) {
      const tag = this.tags[slot]!;
      // A tag read twice keeps its first place (as a Map does).
      if (this.ordered || !tags.includes(tag)) tags.push(tag);
    }
    return tags;
  }

  strings(key: number | string): string[] {
    const slot = this.slotOf(tagOfKey(key));
    if (slot < 0 || !this.hasValue(slot)) return [];
    return decodeStringsAt(this.file.bytes, this.starts[slot]!, this.ends[slot]!, this.vrs[slot]!, this.characterSet);
  }

  string(key: number | string): string | undefined {
    const slot = this.slotOf(tagOfKey(key));
    if (slot < 0 || !this.hasValue(slot)) return undefined;
    const value = firstStringAt(
      this.file.bytes,
      this.starts[slot]!,
      this.ends[slot]!,
      this.vrs[slot]!,
      this.characterSet,
    );
    return value === '' ? undefined : value;
  }

  numbers(key: number | string): number[] {
    const slot = this.slotOf(tagOfKey(key));
    if (slot < 0 || !this.hasValue(slot)) return [];
    return decodeNumbersAt(this.file.view, this.file.bytes, this.starts[slot]!, this.ends[slot]!, this.vrs[slot]!);
  }

  number(key: number | string): number | undefined {
    const slot = this.slotOf(tagOfKey(key));
    if (slot < 0 || !this.hasValue(slot)) return undefined;
    return firstNumberAt(this.file.view, this.file.bytes, this.starts[slot]!, this.ends[slot]!, this.vrs[slot]!);
  }

  items(key: number | string): IndexedDataset[] {
    const slot = this.slotOf(tagOfKey(key));
    return slot < 0 || this.vrs[slot] !== 'SQ' ? [] : this.itemsAt(slot);
  }

  /** The items of the sequence in `slot`, indexed now if the walk only checked them. */
  itemsAt(slot: number): IndexedDataset[] {
    const extra = this.extra(slot);
    if (!extra.items) {
      const undefinedLength = (this.flags[slot]! & UNDEFINED_LENGTH) !== 0;
      extra.items = indexItems(this, this.starts[slot]!, this.ends[slot]!, this.syntax, extra.characterSet ?? [], {
        undefinedLength,
      }).items;
    }
    return extra.items;
  }

  /** The element in `slot` in the dataset model's form (its value a view into the file's bytes). */
  element(slot: number): ReadonlyElement {
    const cached = this.elementCache[slot];
    if (cached) return cached;
    const tag = this.tags[slot]!;
    const vr = this.vrs[slot]!;
    const flags = this.flags[slot]!;
    let element: ReadonlyElement;
    if (vr === 'SQ') element = { tag, vr, items: this.itemsAt(slot) };
    else if (flags & FRAGMENTS)
      element = {
        tag,
        vr,
        fragments: fragmentsOf(this.file, this.syntax.littleEndian, this.starts[slot]!, this.ends[slot]!),
      };
    else element = { tag, vr, bytes: this.file.bytes.subarray(this.starts[slot]!, this.ends[slot]!) };
    if (flags & UNDEFINED_LENGTH) element.undefinedLength = true;
    const originalVR = this.extras?.get(slot)?.originalVR;
    if (originalVR !== undefined) element.originalVR = originalVR;
    this.elementCache[slot] = element;
    return element;
  }
}

/**
 * Index the elements of [offset, end) into `dataset` (reader.ts parseElements); returns the offset after the last one,
 * after an item delimiter (in an item), or of the first top-level element whose tag is >= `untilTag`.
 */
export function indexElements(
  dataset: IndexedDataset,
  offset: number,
  end: number,
  inItem: boolean,
  untilTag?: number,
): number {
  const { bytes, view } = dataset.file;
  const littleEndian = dataset.syntax.littleEndian;
  while (offset < end) {
    if (offset + 4 <= end && untilTag !== undefined && !inItem && tagAt(view, offset, littleEndian) >= untilTag)
      return offset;
    if (offset + 8 > end) {
      // Trailing padding of a few zero bytes is common; anything else is a truncated element header.
      if (zeroesFrom(bytes, offset, end)) return end;
      fail(dataset.file, 'TRUNCATED', `the file ends inside an element header at byte ${offset}`);
    }
    if (inItem && tagAt(view, offset, littleEndian) === ITEM_DELIMITER) return offset + 8;
    offset = indexElement(dataset, offset, end, inItem);
  }
  return offset;
}

/** Index one element at `offset`; returns the offset of the next (reader.ts readElement). */
export function indexElement(dataset: IndexedDataset, offset: number, end: number, inItem: boolean): number {
  const { file, syntax } = dataset;
  const { tag, vr: writtenVR, length, valueOffset } = readElementHeader(file, syntax, offset, end);
  // A stray delimiter outside its context: skipped (dcmtk and pydicom do).
  if (tag >>> 16 === 0xfffe) return valueOffset + (length === UNDEFINED ? 0 : length);
  const vr = writtenVR ?? implicitVR(tag, dataset);
  if (length === UNDEFINED) {
    if (tag === PIXEL_DATA && vr !== 'SQ') {
      const next = skipFragments(file, syntax, valueOffset, end);
      dataset.add(tag, vr === 'OW' && !syntax.explicit ? 'OB' : vr, valueOffset, next, UNDEFINED_LENGTH | FRAGMENTS);
      return next;
    }
    // SQ, or UN / unknown with undefined length: a sequence in implicit VR little endian (PS3.5 6.2.2 note).
    const slot = dataset.add(tag, 'SQ', valueOffset, end, UNDEFINED_LENGTH);
    if (vr !== 'SQ') dataset.extra(slot).originalVR = vr;
    const next = indexSequence(dataset, slot, valueOffset, end, vr === 'SQ' ? syntax : IMPLICIT_LITTLE_ENDIAN, true);
    dataset.setEnd(slot, next);
    return next;
  }
  const valueEnd = checkValueEnd(file, tag, vr, valueOffset, length, end, inItem);
  if (vr === 'SQ') {
    const slot = dataset.add(tag, 'SQ', valueOffset, valueEnd, 0);
    indexSequence(dataset, slot, valueOffset, valueEnd, syntax, false);
    return valueEnd;
  }
  const knownVR = vr === 'UN' ? vrForUN(tag, dataset, length) : undefined;
  // The reader tries such a value as a sequence and keeps it as UN when it is not one.
  if (knownVR === 'SQ') throw new FullParseNeeded(`${tagToString(tag)} is UN and may hold a sequence`);
  if (!syntax.littleEndian) {
    const value = file.bytes.subarray(valueOffset, valueEnd);
    file.bytes.set(swapToLittleEndian(value, vr), valueOffset);
  }
  const slot = dataset.add(tag, knownVR ?? vr, valueOffset, valueEnd, 0);
  // pydicom's replace_un_with_known_vr: an element sent as UN gets its (private) dictionary VR back.
  if (knownVR !== undefined) dataset.extra(slot).originalVR = 'UN';
  if (tag === SPECIFIC_CHARACTER_SET)
    dataset.characterSet = decodeCharacterSetTerms(file.bytes.subarray(valueOffset, valueEnd));
  return valueEnd;
}

/**
 * The items of a sequence starting at `offset`: indexed now in implicit VR (VRs depend on what precedes them), only
 * checked in explicit VR (indexed when asked for). Returns the offset after the sequence.
 */
function indexSequence(
  dataset: IndexedDataset,
  slot: number,
  offset: number,
  end: number,
  syntax: Syntax,
  undefinedLength: boolean,
): number {
  if (syntax.explicit && syntax === dataset.syntax) {
    dataset.extra(slot).characterSet = dataset.characterSet;
    return skipItems(dataset.file, syntax, offset, end, undefinedLength);
  }
  const { items, next } = indexItems(dataset, offset, end, syntax, dataset.characterSet, { undefinedLength });
  dataset.extra(slot).items = items;
  return next;
}

/** Index the items of a sequence (reader.ts readItems). */
function indexItems(
  parent: IndexedDataset,
  offset: number,
  end: number,
  syntax: Syntax,
  characterSet: readonly string[],
  options: { undefinedLength: boolean },
): { items: IndexedDataset[]; next: number } {
  const file = parent.file;
  const view = file.view;
  const littleEndian = syntax.littleEndian;
  const items: IndexedDataset[] = [];
  while (offset < end) {
    if (offset + 8 > end) fail(file, 'TRUNCATED', `the file ends inside a sequence at byte ${offset}`);
    const tag = tagAt(view, offset, littleEndian);
    const length = view.getUint32(offset + 4, littleEndian);
    offset += 8;
    if (tag === SEQUENCE_DELIMITER) return { items, next: offset };
    if (tag !== ITEM)
      fail(file, 'BAD_LENGTH', `expected a sequence item at byte ${offset - 8}, found ${tagToString(tag)}`);
    const item = new IndexedDataset(file, syntax);
    item.characterSet = characterSet;
    item.parent = parent;
    if (length === UNDEFINED) offset = indexElements(item, offset, end, true);
    else {
      const itemEnd = offset + length;
      if (itemEnd > end) throw new FullParseNeeded(`sequence item at byte ${offset - 8} runs past its sequence`);
      indexElements(item, offset, itemEnd, true);
      offset = itemEnd;
    }
    items.push(item);
  }
  if (options.undefinedLength) fail(file, 'TRUNCATED', 'the file ends inside a sequence (no sequence delimiter)');
  return { items, next: offset };
}
