/**
 * The VR of an element whose encoding does not carry one (implicit VR, PS3.5 7.1.3) or carries UN (PS3.5 6.2.2),
 * decided as pydicom 2.3 decides it: the data dictionary; for private elements the private dictionary of the block's
 * Private Creator (PS3.5 7.8.1); "US or SS" / "OB or OW" resolved from the dataset.
 */
import { isPrivateCreator, isPrivateTag, lookupTag } from './dictionary.ts';
import type { ReadonlyDataset, VR } from './model.ts';
import { isVR, LONG_LENGTH_VRS } from './model.ts';
import { PRIVATE_DICTIONARY_JSON } from './private-dictionary-data.ts';

const PIXEL_DATA = 0x7fe00010;

let index: Map<string, Map<string, VR>> | undefined;

function buildIndex(): Map<string, Map<string, VR>> {
  const built = new Map<string, Map<string, VR>>();
  const table = JSON.parse(PRIVATE_DICTIONARY_JSON) as Record<string, Array<[string, string]>>;
  for (const [creator, entries] of Object.entries(table)) {
    const byKey = new Map<string, VR>();
    for (const [mask, vr] of entries) {
      const first = vr.split('|')[0] ?? '';
      if (isVR(first)) byKey.set(mask, first);
    }
    built.set(creator, byKey);
  }
  return built;
}

/**
 * VR of private element (gggg,BBee) from the private dictionary: the creator is the value of (gggg,00BB) in the
 * same dataset (PS3.5 7.8.1); keys tried as pydicom does: "ggggBBee", "ggggxxee", "ggxxxxee".
 */
export function privateVR(tag: number, dataset: ReadonlyDataset): VR | undefined {
  const group = tag >>> 16;
  const block = (tag >>> 8) & 0xff;
  const creator = dataset.string(((group << 16) | block) >>> 0);
  if (creator === undefined) return undefined;
  index ??= buildIndex();
  const entries = index.get(creator);
  if (!entries) return undefined;
  const hex = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0');
  const groupHex = hex(group, 4);
  const elementHex = hex(tag & 0xff, 2);
  return (
    entries.get(`${groupHex}${hex(tag & 0xffff, 4)}`) ??
    entries.get(`${groupHex}xx${elementHex}`) ??
    entries.get(`${groupHex.slice(0, 2)}xxxx${elementHex}`)
  );
}

/** The VR of an implicit-VR element (dictionary, then private dictionary; private creators LO; else UN). */
export function implicitVR(tag: number, dataset: ReadonlyDataset): VR {
  if (isPrivateTag(tag)) {
    if (isPrivateCreator(tag)) return 'LO';
    // (gggg,0000-000F) are not private data elements (PS3.5 7.8.1): no creator, so UN.
    if ((tag & 0xff00) === 0) return 'UN';
    return privateVR(tag, dataset) ?? 'UN';
  }
  return standardVR(tag, dataset) ?? 'UN';
}

/**
 * The VR an element written as UN really has, or undefined to keep UN. A standard element keeps UN when its value
 * is too long for its dictionary VR's 16-bit length field (the reason PS3.5 6.2.2 allows UN for it).
 */
export function vrForUN(tag: number, dataset: ReadonlyDataset, length: number): VR | undefined {
  const known = isPrivateTag(tag) ? implicitVR(tag, dataset) : standardVR(tag, dataset);
  if (!known || known === 'UN') return undefined;
  if (!isPrivateTag(tag) && length >= 0xffff && !LONG_LENGTH_VRS.has(known)) return undefined;
  return known;
}

/** Dictionary VR of a standard tag, resolving "US or SS" / "OB or OW" as pydicom does (filewriter.py). */
export function standardVR(tag: number, dataset: ReadonlyDataset): VR | undefined {
  if (isPrivateTag(tag)) return undefined;
  const vrs = lookupTag(tag)?.vrs;
  if (!vrs || vrs.length === 0) return undefined;
  if (vrs.length === 1) return vrs[0];
  if (tag === PIXEL_DATA) return 'OW';
  // LUT Data: US when the LUT Descriptor announces a single entry (PS3.3 C.11.1.1.1), as pydicom decides.
  if (tag === 0x00283006) return inheritedNumber(dataset, 0x00283002) === 1 ? 'US' : 'OW';
  if (vrs.includes('US') && vrs.includes('SS')) {
    return inheritedNumber(dataset, 0x00280103) === 1 ? 'SS' : 'US';
  }
  return vrs.includes('OW') ? 'OW' : vrs[0];
}

/** A number from this dataset or the nearest enclosing one (e.g. Pixel Representation for an item's LUT). */
function inheritedNumber(dataset: ReadonlyDataset, tag: number): number | undefined {
  let current: ReadonlyDataset | undefined = dataset;
  while (current) {
    if (current.has(tag)) return current.number(tag);
    current = current.parent;
  }
  return undefined;
}
