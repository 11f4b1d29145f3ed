/**
 * The number of bytes the writer (writer.ts) encodes for an element or a dataset, without encoding it: a file can
 * then be written by position (its Pixel Data while its header is still being encoded). Mirrors the writer's rules:
 * values padded to even length, short-length VRs over 64 KiB written as UN (long header), sequences and items of
 * undefined length with delimiters (PS3.5 7.1.2, 7.1.3, 7.5).
 */
import { type DataElement, type Dataset, elementLength, LONG_LENGTH_VRS } from './model.ts';

const MAX_SHORT_LENGTH = 0xfffe;

/** Lengths of items already measured (an item used in several places is measured once). */
export type ItemLengths = Map<Dataset, number>;

export function encodedDatasetLength(dataset: Dataset, implicit: boolean, items: ItemLengths = new Map()): number {
  let total = 0;
  for (const element of dataset.elements.values()) {
    if (element.tag >>> 16 === 0x0002) continue; // meta elements are not written in a dataset
    total += encodedElementLength(element, implicit, items);
  }
  return total;
}

export function encodedElementLength(element: DataElement, implicit: boolean, items: ItemLengths = new Map()): number {
  if (element.vr === 'SQ' || element.items) {
    // header, items, sequence delimitation item
    let total = (implicit ? 8 : 12) + 8;
    for (const item of element.items ?? []) {
      let length = items.get(item);
      if (length === undefined) {
        length = 16 + encodedDatasetLength(item, implicit, items); // item header and delimitation item
        items.set(item, length);
      }
      total += length;
    }
    return total;
  }
  if (element.fragments && !implicit) {
    let total = 12 + 8;
    element.fragments.forEach((fragment, index) => {
      total += 8 + fragment.length + (index > 0 ? fragment.length % 2 : 0);
    });
    return total;
  }
  const length = elementLength(element);
  const padded = length + (length % 2);
  if (implicit) return 8 + padded;
  const longHeader = LONG_LENGTH_VRS.has(element.vr) || padded > MAX_SHORT_LENGTH;
  return (longHeader ? 12 : 8) + padded;
}
