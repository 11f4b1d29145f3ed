/**
 * Attribute paths of the metadata templates: a keyword or tag, optionally nested into sequences.
 *
 *   RepetitionTime                                     keyword (PS3.6)
 *   (0019,100C)  or  0019100C                          tag, standard or private
 *   (0019,xx0C)  with a creator                        private element in the block reserved by that creator
 *   SharedFunctionalGroupsSequence[0].MRTimingAndRelatedParametersSequence[0].RepetitionTime
 *   ReferencedImageSequence[*].ReferencedSOPInstanceUID   every item ([*]); `Seq.X` means `Seq[0].X`
 *
 * A plain keyword that is absent at the top level is looked up in the functional groups of an enhanced
 * multi-frame object (shared first, then the first frame's), where PS3.3 C.7.6.16 moves most MR / CT attributes.
 */
import { allKeywords, isPrivateTag, lookupKeyword, lookupTag } from '../dicom/dictionary.ts';
import type { ReadonlyDataset, ReadonlyElement } from '../dicom/model.ts';

export interface PathSegment {
  /** Full tag, or for a private `(gggg,xxee)` segment the tag with block 0 (resolved through `creator`). */
  tag: number;
  /** True for `(gggg,xxee)`: the block is found from the Private Creator. */
  privateBlock: boolean;
  /** Item index into a sequence; '*' for every item; undefined on the last segment. */
  index?: number | '*';
  /** The text of the segment as written (for messages). */
  text: string;
}

export interface AttributePath {
  segments: PathSegment[];
  /** Private Creator (PS3.5 7.8.1) that private segments must belong to. */
  creator?: string;
  text: string;
  /** The tag when the path is one keyword or full tag without a creator: found as `dataset.get(plainTag)`. */
  plainTag?: number;
}

/** Why a path did not parse; the template layer turns it into a TEMPLATE_INVALID error naming the file. */
export class PathSyntaxError extends Error {
  constructor(
    message: string,
    readonly suggestion?: string,
  ) {
    super(message);
    this.name = 'PathSyntaxError';
  }
}

const SEGMENT =
  /^([A-Za-z][A-Za-z0-9]*|\(\s*[0-9A-Fa-f]{4}\s*,\s*[0-9A-Fa-fxX]{4}\s*\)|[0-9A-Fa-f]{8})(?:\[(\d+|\*)\])?$/;

export function parseAttributePath(text: string, creator?: string): AttributePath {
  const trimmed = text.trim();
  if (trimmed === '') throw new PathSyntaxError('empty attribute path');
  const parts = splitSegments(trimmed);
  const segments = parts.map((part, position): PathSegment => {
    const match = SEGMENT.exec(part);
    if (!match) throw new PathSyntaxError(`"${part}" is not a keyword, (gggg,eeee) or ggggeeee tag`);
    const name = match[1]!;
    const index = match[2] === undefined ? undefined : match[2] === '*' ? '*' : Number(match[2]);
    const last = position === parts.length - 1;
    const segment = resolveName(name, creator);
    if (!last) segment.index = index ?? 0;
    else if (index !== undefined) throw new PathSyntaxError(`"${part}": an index is only allowed on a sequence`);
    segment.text = part;
    return segment;
  });
  const path: AttributePath = { segments, text: trimmed };
  if (creator !== undefined) path.creator = creator;
  else if (segments.length === 1 && !segments[0]!.privateBlock) path.plainTag = segments[0]!.tag;
  return path;
}

/** Split on dots outside parentheses: `(0019,100C)` never contains one, but keep the rule explicit. */
function splitSegments(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === '.' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += ch;
  }
  parts.push(current.trim());
  if (parts.some((part) => part === '')) throw new PathSyntaxError(`"${text}" has an empty segment`);
  return parts;
}

function resolveName(name: string, creator: string | undefined): PathSegment {
  if (name.startsWith('(') || /^[0-9A-Fa-f]{8}$/.test(name)) {
    const hex = name.replace(/[()\s,]/g, '');
    const group = Number.parseInt(hex.slice(0, 4), 16);
    const elementText = hex.slice(4);
    if (/x/i.test(elementText)) {
      if (!/^xx[0-9A-Fa-f]{2}$/i.test(elementText) || group % 2 === 0)
        throw new PathSyntaxError(`"${name}": only private elements can be written (gggg,xxee), gggg odd`);
      if (creator === undefined)
        throw new PathSyntaxError(`"${name}": a (gggg,xxee) private element needs a "creator" (its Private Creator)`);
      const tag = ((group << 16) | Number.parseInt(elementText.slice(2), 16)) >>> 0;
      return { tag, privateBlock: true, text: name };
    }
    const tag = ((group << 16) | Number.parseInt(elementText, 16)) >>> 0;
    return { tag, privateBlock: false, text: name };
  }
  const entry = lookupKeyword(name);
  if (!entry) throw new PathSyntaxError(`unknown DICOM keyword "${name}"`, suggestKeyword(name));
  return { tag: entry.tag, privateBlock: false, text: name };
}

/** Values found at a path: the elements and the datasets holding them (for the character set). */
export interface Found {
  element: ReadonlyElement;
  owner: ReadonlyDataset;
}

export function findAttribute(dataset: ReadonlyDataset, path: AttributePath): Found[] {
  const out: Found[] = [];
  walk(dataset, path, 0, out);
  if (out.length === 0 && path.segments.length === 1 && !path.segments[0]!.privateBlock) {
    const tag = path.segments[0]!.tag;
    if (!isPrivateTag(tag)) {
      const found = inFunctionalGroups(dataset, tag);
      if (found) out.push(found);
    }
  }
  return out;
}

function walk(dataset: ReadonlyDataset, path: AttributePath, position: number, out: Found[]): void {
  const segment = path.segments[position]!;
  const tag = segment.privateBlock
    ? privateTag(dataset, segment.tag, path.creator!)
    : creatorChecked(dataset, segment.tag, path.creator);
  if (tag === undefined) return;
  const element = dataset.get(tag);
  if (!element) return;
  if (position === path.segments.length - 1) {
    out.push({ element, owner: dataset });
    return;
  }
  const items = element.items ?? [];
  if (segment.index === '*') for (const item of items) walk(item, path, position + 1, out);
  else {
    const item = items[segment.index ?? 0];
    if (item) walk(item, path, position + 1, out);
  }
}

/** (gggg,xxee) -> (gggg,BBee) where (gggg,00BB) holds `creator` (PS3.5 7.8.1). */
function privateTag(dataset: ReadonlyDataset, tag: number, creator: string): number | undefined {
  const group = tag >>> 16;
  for (let block = 0x10; block <= 0xff; block++) {
    const creatorTag = ((group << 16) | block) >>> 0;
    if (!dataset.has(creatorTag)) continue;
    if (dataset.string(creatorTag)?.trim() === creator) return ((group << 16) | (block << 8) | (tag & 0xff)) >>> 0;
  }
  return undefined;
}

/** A full private tag given with a creator must sit in that creator's block; standard tags pass through. */
function creatorChecked(dataset: ReadonlyDataset, tag: number, creator: string | undefined): number | undefined {
  if (creator === undefined || !isPrivateTag(tag) || (tag & 0xff00) === 0) return tag;
  return privateTag(dataset, tag & 0xffff00ff, creator);
}

const SHARED_GROUPS = 0x52009229;
const PER_FRAME_GROUPS = 0x52009230;
const FUNCTIONAL_GROUPS = [SHARED_GROUPS, PER_FRAME_GROUPS] as const;

/** An attribute inside a functional group macro: Shared Functional Groups first, then the first frame's. */
export function inFunctionalGroups(dataset: ReadonlyDataset, tag: number): Found | undefined {
  for (const groupsTag of FUNCTIONAL_GROUPS) {
    const groups = dataset.get(groupsTag)?.items?.[0];
    if (!groups) continue;
    for (const macroTag of groups.keys()) {
      for (const item of groups.get(macroTag)?.items ?? []) {
        const element = item.get(tag);
        if (element) return { element, owner: item };
      }
    }
  }
  return undefined;
}

/** A column header for a path: the last keyword, or the tag. */
export function defaultHeader(path: AttributePath): string {
  if (path.segments.length === 1) {
    const segment = path.segments[0]!;
    const keyword = segment.privateBlock ? '' : (lookupTag(segment.tag)?.keyword ?? '');
    if (keyword) return keyword;
    if (segment.privateBlock) return segment.text;
    const hex = segment.tag.toString(16).toUpperCase().padStart(8, '0');
    return `(${hex.slice(0, 4)},${hex.slice(4)})`;
  }
  return path.text;
}

let keywords: string[] | undefined;
/** The nearest dictionary keyword (edit distance <= 3), to make a typo's error message useful. */
function suggestKeyword(name: string): string | undefined {
  keywords ??= allKeywords();
  let best: string | undefined;
  let bestDistance = 4;
  const lower = name.toLowerCase();
  for (const keyword of keywords) {
    if (Math.abs(keyword.length - name.length) >= bestDistance) continue;
    const distance = editDistance(lower, keyword.toLowerCase(), bestDistance);
    if (distance < bestDistance) {
      best = keyword;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string, limit: number): number {
  const previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0]!;
    previous[0] = i;
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j]!;
      previous[j] = Math.min(above + 1, previous[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
      rowMin = Math.min(rowMin, previous[j]!);
    }
    if (rowMin >= limit) return limit;
  }
  return previous[b.length]!;
}
