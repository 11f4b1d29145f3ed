/** VRs of private elements in implicit-VR data, from the private dictionaries (keyed by Private Creator). */
import type { Dataset, VR } from './model.ts';
import { isVR } from './model.ts';
import { PRIVATE_DICTIONARY } from './private-dictionary-data.ts';

let index: Map<string, Map<string, VR>> | undefined;

function buildIndex(): Map<string, Map<string, VR>> {
  const built = new Map<string, Map<string, VR>>();
  for (const [creator, entries] of Object.entries(PRIVATE_DICTIONARY)) {
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
 * VR of private element (gggg,BBee): the creator is the value of (gggg,00BB) in the same dataset (PS3.5 7.8.1),
 * and the dictionary key is "ggggxxee".
 */
export function privateVR(tag: number, dataset: Dataset): VR | undefined {
  const group = tag >>> 16;
  const block = (tag >>> 8) & 0xff;
  const creatorTag = ((group << 16) | block) >>> 0;
  const creator = dataset.string(creatorTag);
  if (creator === undefined) return undefined;
  index ??= buildIndex();
  const entries = index.get(creator);
  if (!entries) return undefined;
  const hex = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0');
  const key = `${hex(group, 4)}xx${hex(tag & 0xff, 2)}`;
  return entries.get(key);
}
