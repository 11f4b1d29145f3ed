/** Tag <-> keyword <-> VR lookups over the PS3.6 data dictionary (generated in dictionary-data.ts). */
import { REPEATER_DICTIONARY, STANDARD_DICTIONARY } from './dictionary-data.ts';
import type { VR } from './model.ts';

export interface DictionaryEntry {
  tag: number;
  /** One or more VRs; several for e.g. "US|SS" or "OB|OW" (PS3.5 Table 6-1 footnotes). */
  vrs: VR[];
  vm: string;
  keyword: string;
  retired: boolean;
}

const byTag = new Map<number, DictionaryEntry>();
const byKeyword = new Map<string, DictionaryEntry>();
for (const [tag, vr, vm, keyword, retired] of STANDARD_DICTIONARY) {
  const entry: DictionaryEntry = { tag, vrs: vr.split('|') as VR[], vm, keyword, retired: retired === 1 };
  byTag.set(tag, entry);
  if (keyword) byKeyword.set(keyword, entry);
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
  const direct = byTag.get(tag);
  if (direct) return direct;
  for (const repeater of repeaters) {
    if ((tag & repeater.mask) >>> 0 === repeater.value) return { tag, ...repeater.entry };
  }
  // Group length (gggg,0000) of any group.
  if ((tag & 0xffff) === 0) return { tag, vrs: ['UL'], vm: '1', keyword: '', retired: false };
  return undefined;
}

export function lookupKeyword(keyword: string): DictionaryEntry | undefined {
  return byKeyword.get(keyword);
}

/** The tag of a keyword; throws for an unknown keyword (a programming error, not bad input). */
export function tagOf(keyword: string): number {
  const entry = byKeyword.get(keyword);
  if (!entry) throw new Error(`unknown DICOM keyword ${keyword}`);
  return entry.tag;
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
