/** Tag <-> keyword <-> VR lookups over the PS3.6 data dictionary (generated in dictionary-data.ts). */
import { REPEATER_DICTIONARY, STANDARD_DICTIONARY_TEXT } from './dictionary-data.ts';
import type { VR } from './model.ts';

export interface DictionaryEntry {
  tag: number;
  /** One or more VRs; several for e.g. "US|SS" or "OB|OW" (PS3.5 Table 6-1 footnotes). */
  vrs: VR[];
  vm: string;
  keyword: string;
  retired: boolean;
}

/**
 * The dictionary's lines ("ggggeeee VR VM Keyword R"), indexed by tag and keyword on first use; an entry object is
 * made when its tag is first looked up. Indexing ~5,000 lines this way takes a few ms, a tenth of building every
 * entry up front, and every command pays it at start-up.
 */
interface Index {
  lines: string[];
  /** Tag -> line. */
  byTag: Map<number, number>;
  /** Keyword -> tag. */
  byKeyword: Map<string, number>;
  entries: Map<number, DictionaryEntry>;
}
let index: Index | undefined;

function dictionaryIndex(): Index {
  if (index) return index;
  const lines = STANDARD_DICTIONARY_TEXT.split('\n');
  const byTag = new Map<number, number>();
  const byKeyword = new Map<string, number>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const tag = Number.parseInt(line.slice(0, 8), 16);
    byTag.set(tag, i);
    const vmStart = line.indexOf(' ', 9) + 1;
    const keywordStart = line.indexOf(' ', vmStart) + 1;
    // The line ends with " 0" or " 1" (retired).
    if (keywordStart < line.length - 2) byKeyword.set(line.slice(keywordStart, line.length - 2), tag);
  }
  index = { lines, byTag, byKeyword, entries: new Map() };
  return index;
}

function entryAt(at: number): DictionaryEntry {
  const { lines, entries } = dictionaryIndex();
  let entry = entries.get(at);
  if (!entry) {
    const [tag, vr, vm, keyword, retired] = lines[at]!.split(' ') as [string, string, string, string, string];
    entry = { tag: Number.parseInt(tag, 16), vrs: vr.split('|') as VR[], vm, keyword, retired: retired === '1' };
    entries.set(at, entry);
  }
  return entry;
}

/** Every keyword of the standard dictionary, in tag order. */
export function allKeywords(): string[] {
  return [...dictionaryIndex().byKeyword.keys()];
}

interface RepeaterEntry {
  mask: number;
  value: number;
  entry: Omit<DictionaryEntry, 'tag'>;
}
const repeaters: RepeaterEntry[] = REPEATER_DICTIONARY.map(([pattern, vr, vm, keyword, retired]) => {
  let mask = 0;
  let value = 0;
  for (const ch of pattern) {
    mask = mask * 16 + (ch === 'x' ? 0 : 15);
    value = value * 16 + (ch === 'x' ? 0 : Number.parseInt(ch, 16));
  }
  return { mask, value, entry: { vrs: vr.split('|') as VR[], vm, keyword, retired: retired === 1 } };
});

/** Dictionary entry of a standard (even-group) tag, including repeating groups (50xx, 60xx, ...). */
export function lookupTag(tag: number): DictionaryEntry | undefined {
  const at = dictionaryIndex().byTag.get(tag);
  if (at !== undefined) return entryAt(at);
  for (const repeater of repeaters) {
    if ((tag & repeater.mask) >>> 0 === repeater.value) return { tag, ...repeater.entry };
  }
  // Group length (gggg,0000) of any group.
  if ((tag & 0xffff) === 0) return { tag, vrs: ['UL'], vm: '1', keyword: '', retired: false };
  return undefined;
}

export function lookupKeyword(keyword: string): DictionaryEntry | undefined {
  const tag = dictionaryIndex().byKeyword.get(keyword);
  return tag === undefined ? undefined : lookupTag(tag);
}

/** The tag of a keyword; throws for an unknown keyword (a programming error, not bad input). */
export function tagOf(keyword: string): number {
  const tag = (index ?? dictionaryIndex()).byKeyword.get(keyword);
  if (tag === undefined) throw new Error(`unknown DICOM keyword ${keyword}`);
  return tag;
}

export function keywordOf(tag: number): string {
  return lookupTag(tag)?.keyword ?? '';
}

/** 'GGGGEEEE', upper-case hex, as used by the DICOM JSON model. */
export function tagToHex(tag: number): string {
  return (tag >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

/** '(gggg,eeee)' as dcmdump prints it. */
export function tagToString(tag: number): string {
  const hex = (tag >>> 0).toString(16).padStart(8, '0');
  return `(${hex.slice(0, 4)},${hex.slice(4)})`;
}

export function hexToTag(hex: string): number {
  return Number.parseInt(hex, 16) >>> 0;
}

export const isPrivateTag = (tag: number): boolean => ((tag >>> 16) & 1) === 1;
/** (gggg,0010-00FF) in an odd group: a Private Creator element (PS3.5 7.8.1). */
export const isPrivateCreator = (tag: number): boolean =>
  isPrivateTag(tag) && (tag & 0xffff) >= 0x10 && (tag & 0xffff) <= 0xff;
