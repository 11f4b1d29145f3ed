/**
 * QIDO-RS matching (PS3.18 8.3.4, PS3.4 C.2.2.2) over the archive's DICOM JSON attributes: universal (empty),
 * single value, wildcard (`*`, `?`; PN case-insensitively, as Orthanc by default), UID lists (`a,b` or `a\b`),
 * date / time ranges (`a-b`, `-b`, `a-`), multi-valued attributes matching when any value does; plus
 * `includefield`, `limit`, `offset`.
 */

import { lookupKeyword, lookupTag, tagToHex } from '../core/dicom/dictionary.ts';
import type { DicomJsonElement, DicomJsonObject } from '../core/dicom/json.ts';
import { MedvoxError } from '../core/errors.ts';

export type QidoLevel = 'study' | 'series' | 'instance';

export interface QidoFilter {
  tag: string;
  value: string;
}

export interface QidoQuery {
  filters: QidoFilter[];
  includeAll: boolean;
  include: Set<string>;
  limit: number | undefined;
  offset: number;
}

/** Attributes returned by default (PS3.18 Tables 6.7.1-2, -2a, -2b). */
export const DEFAULT_FIELDS: Record<QidoLevel, string[]> = {
  study: [
    '00080005',
    '00080020',
    '00080030',
    '00080050',
    '00080056',
    '00080061',
    '00080090',
    '00080201',
    '00081190',
    '00100010',
    '00100020',
    '00100030',
    '00100040',
    '0020000D',
    '00200010',
    '00201206',
    '00201208',
  ],
  series: [
    '00080005',
    '00080060',
    '00080201',
    '0008103E',
    '00081190',
    '0020000E',
    '00200011',
    '00201209',
    '00400244',
    '00400245',
    '00400275',
    '0020000D',
  ],
  instance: [
    '00080005',
    '00080016',
    '00080018',
    '00080056',
    '00080201',
    '00081190',
    '00200013',
    '00280010',
    '00280011',
    '00280100',
    '00280008',
    '0020000D',
    '0020000E',
  ],
};

const CONTROL = new Set(['limit', 'offset', 'includefield', 'fuzzymatching']);

/** A keyword or an 8-digit tag -> the tag as the JSON model writes it (upper-case hex). */
export function resolveTag(key: string): string {
  if (/^[0-9a-fA-F]{8}$/.test(key)) return key.toUpperCase();
  const entry = lookupKeyword(key);
  if (!entry) {
    throw new MedvoxError('BAD_REQUEST', `"${key}" is not a DICOM keyword or tag`, {
      hint: 'use a keyword (PatientID) or a tag (00100020); sequence paths are not supported',
    });
  }
  return tagToHex(entry.tag);
}

export function parseQido(query: Record<string, string | string[] | undefined>): QidoQuery {
  const parsed: QidoQuery = { filters: [], includeAll: false, include: new Set(), limit: undefined, offset: 0 };
  for (const [key, raw] of Object.entries(query)) {
    if (raw === undefined) continue;
    const values = Array.isArray(raw) ? raw : [raw];
    const lower = key.toLowerCase();
    if (lower === 'limit' || lower === 'offset') {
      const number = Number(values[0]);
      if (!Number.isInteger(number) || number < 0)
        throw new MedvoxError('BAD_REQUEST', `${key} must be a whole number (got "${values[0]}")`);
      if (lower === 'limit') parsed.limit = number;
      else parsed.offset = number;
    } else if (lower === 'includefield') {
      for (const value of values.flatMap((v) => v.split(','))) {
        if (value === 'all') parsed.includeAll = true;
        else if (value !== '') parsed.include.add(resolveTag(value));
      }
    } else if (!CONTROL.has(lower)) {
      for (const value of values) parsed.filters.push({ tag: resolveTag(key), value });
    }
  }
  return parsed;
}

/** The values of an element as strings (a person name as its Alphabetic group). */
function textValues(element: DicomJsonElement | undefined): string[] {
  if (!element?.Value) return [];
  return element.Value.map((value) => {
    if (value === null) return '';
    if (typeof value === 'object') return String((value as { Alphabetic?: string }).Alphabetic ?? '');
    return String(value);
  });
}

function vrOf(tag: string, element: DicomJsonElement | undefined): string {
  return element?.vr ?? lookupTag(Number.parseInt(tag, 16))?.vrs[0] ?? 'LO';
}

function wildcard(pattern: string, caseInsensitive: boolean): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, caseInsensitive ? 'i' : '');
}

function inRange(value: string, range: string): boolean {
  const [from = '', to = ''] = range.split('-');
  const v = value.trim();
  if (v === '') return false;
  // Compare as many leading characters as the bound has (a date bound against a date, a time bound HH..).
  if (from !== '' && v.slice(0, from.length) < from) return false;
  if (to !== '' && v.slice(0, to.length) > to) return false;
  return true;
}

export function matchesFilter(attributes: DicomJsonObject, filter: QidoFilter): boolean {
  if (filter.value === '') return true;
  const element = attributes[filter.tag];
  const vr = vrOf(filter.tag, element);
  const values = textValues(element);
  if (vr === 'UI') {
    const wanted = new Set(filter.value.split(/[,\\]/).filter((v) => v !== ''));
    return values.some((value) => wanted.has(value));
  }
  if ((vr === 'DA' || vr === 'TM' || vr === 'DT') && filter.value.includes('-')) {
    return values.some((value) => inRange(value, filter.value));
  }
  const alternatives = filter.value.split('\\');
  const caseInsensitive = vr === 'PN';
  return values.some((value) =>
    alternatives.some((alternative) =>
      /[*?]/.test(alternative)
        ? wildcard(alternative, caseInsensitive).test(value)
        : caseInsensitive
          ? value.trim().toLowerCase() === alternative.toLowerCase()
          : value.trim() === alternative,
    ),
  );
}

/** Filter, page and project records for a QIDO-RS answer. */
export function answerQido(records: DicomJsonObject[], query: QidoQuery, level: QidoLevel): DicomJsonObject[] {
  const matched = records.filter((record) => query.filters.every((filter) => matchesFilter(record, filter)));
  const page = matched.slice(query.offset, query.limit === undefined ? undefined : query.offset + query.limit);
  const fields = new Set([...DEFAULT_FIELDS[level], ...query.include, ...query.filters.map((filter) => filter.tag)]);
  return page.map((record) => {
    if (query.includeAll) return record;
    const out: DicomJsonObject = {};
    for (const tag of [...fields].sort()) if (record[tag]) out[tag] = record[tag]!;
    return out;
  });
}
