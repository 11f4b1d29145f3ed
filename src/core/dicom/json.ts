/**
 * The DICOM JSON Model (PS3.18 Annex F.2) for any dataset: encode and decode.
 *
 * Text values keep their exact string form in the model's bytes; in JSON, IS / DS become numbers (F.2.3) and
 * binary values InlineBinary (base64). Decoding writes DS numbers back in the shortest form that round-trips
 * (`formatDS`), so an original "1.0" returns as "1": the value is the same, the bytes may differ. The NIfTI sidecar
 * needs the exact bytes and therefore stores DS/IS as strings (see `exactNumbers`).
 */
import { tagToHex } from './dictionary.ts';
import { type DataElement, Dataset, isVR, STRING_VRS, type VR } from './model.ts';
import { decodeNumbers, decodeStrings, encodeNumbers, encodeStrings } from './values.ts';

export interface PersonNameJson {
  Alphabetic?: string;
  Ideographic?: string;
  Phonetic?: string;
}
export type JsonValue = string | number | null | PersonNameJson | DicomJsonObject;
export interface DicomJsonElement {
  vr: VR;
  Value?: JsonValue[];
  InlineBinary?: string;
  BulkDataURI?: string;
}
export type DicomJsonObject = Record<string, DicomJsonElement>;

export interface ToJsonOptions {
  /**
   * Binary values (OB, OW, OD, OF, OL, OV, UN) longer than this many base64 characters are bulk data
   * (default 1024, pydicom's threshold). Pixel Data is always bulk data.
   */
  bulkDataThreshold?: number;
  /** URI of a bulk data element (path of tags from the top). Without it, bulk data is left out entirely. */
  bulkDataURI?: (tagPath: number[]) => string;
  /** Keep IS / DS as their exact strings instead of numbers (lossless sidecar; not PS3.18-conformant JSON). */
  exactNumbers?: boolean;
}

const BINARY_VRS: ReadonlySet<VR> = new Set<VR>(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
const PIXEL_DATA_TAGS = new Set([0x7fe00010, 0x7fe00008, 0x7fe00009]);

export function datasetToJson(dataset: Dataset, options: ToJsonOptions = {}, path: number[] = []): DicomJsonObject {
  return selectedToJson(dataset, () => true, options, path);
}

/** The JSON of one top-level element of `dataset` (as datasetToJson gives it), or undefined when absent. */
export function elementJson(dataset: Dataset, tag: number, options: ToJsonOptions = {}): DicomJsonElement | undefined {
  const element = dataset.get(tag);
  return element ? elementToJson(element, dataset, options, [tag]) : undefined;
}

/** datasetToJson of the top-level elements whose tag `include` accepts. */
export function selectedToJson(
  dataset: Dataset,
  include: (tag: number) => boolean,
  options: ToJsonOptions = {},
  path: number[] = [],
): DicomJsonObject {
  const out: DicomJsonObject = {};
  for (const element of dataset.sorted()) {
    if (!include(element.tag)) continue;
    const encoded = elementToJson(element, dataset, options, [...path, element.tag]);
    if (encoded) out[tagToHex(element.tag)] = encoded;
  }
  return out;
}

function elementToJson(
  element: DataElement,
  dataset: Dataset,
  options: ToJsonOptions,
  path: number[],
): DicomJsonElement | undefined {
  const { vr } = element;
  if (vr === 'SQ') {
    return { vr, Value: (element.items ?? []).map((item) => datasetToJson(item, options, path)) };
  }
  if (BINARY_VRS.has(vr) || element.fragments) {
    const isPixelData = PIXEL_DATA_TAGS.has(element.tag) && path.length === 1;
    const bytes = element.bytes;
    if (!element.fragments && (!bytes || bytes.length === 0)) return { vr };
    const base64Length = Math.ceil((bytes?.length ?? 0) / 3) * 4;
    if (isPixelData || element.fragments || base64Length > (options.bulkDataThreshold ?? 1024)) {
      if (!options.bulkDataURI) return isPixelData || element.fragments ? undefined : { vr };
      return { vr, BulkDataURI: options.bulkDataURI(path) };
    }
    return { vr, InlineBinary: toBase64(bytes!) };
  }
  const bytes = element.bytes;
  if (!bytes || bytes.length === 0) return { vr };
  if (vr === 'PN') {
    const values = decodeStrings(bytes, vr, dataset.characterSet);
    if (values.length === 1 && values[0] === '') return { vr };
    return { vr, Value: values.map(personNameToJson) };
  }
  if (vr === 'AT') return { vr, Value: decodeNumbers(bytes, vr).map((tag) => tagToHex(tag)) };
  if ((vr === 'IS' || vr === 'DS') && !options.exactNumbers) {
    const values = decodeStrings(bytes, vr, dataset.characterSet);
    if (values.length === 1 && values[0] === '') return { vr };
    // A value that is not a number (vendor misuse, e.g. GE CoilIDData) stays text rather than becoming null.
    return {
      vr,
      Value: values.map((value) => (value === '' ? null : Number.isNaN(Number(value)) ? value : Number(value))),
    };
  }
  if (STRING_VRS.has(vr)) {
    const values = decodeStrings(bytes, vr, dataset.characterSet);
    if (values.length === 1 && values[0] === '') return { vr };
    return { vr, Value: values.map((value) => (value === '' ? null : value)) };
  }
  const numbers = decodeNumbers(bytes, vr);
  // JSON numbers cannot hold -0, NaN or infinities: the lossless (sidecar) form keeps such values as bytes.
  if (options.exactNumbers && numbers.some((n) => Object.is(n, -0) || !Number.isFinite(n))) {
    return { vr, InlineBinary: toBase64(bytes) };
  }
  return { vr, Value: numbers };
}

function personNameToJson(value: string): PersonNameJson {
  if (value === '') return {};
  const [alphabetic = '', ideographic, phonetic] = value.split('=');
  const name: PersonNameJson = { Alphabetic: alphabetic };
  if (ideographic !== undefined) name.Ideographic = ideographic;
  if (phonetic !== undefined) name.Phonetic = phonetic;
  return name;
}

/** Rebuild a dataset from the JSON model. BulkDataURI values are resolved by `bulkData` or left empty. */
export function datasetFromJson(
  json: DicomJsonObject,
  options: { characterSet?: readonly string[]; bulkData?: (uri: string) => Uint8Array | undefined } = {},
): Dataset {
  const specific = json['00080005'];
  const characterSet = specific?.Value
    ? specific.Value.map((term) => (typeof term === 'string' ? term : ''))
    : (options.characterSet ?? []);
  const dataset = new Dataset(characterSet);
  for (const [key, element] of Object.entries(json)) {
    const tag = Number.parseInt(key, 16) >>> 0;
    if (!isVR(element.vr)) throw new Error(`invalid VR ${element.vr} for ${key}`);
    dataset.set(elementFromJson(tag, element, characterSet, options));
  }
  return dataset;
}

function elementFromJson(
  tag: number,
  element: DicomJsonElement,
  characterSet: readonly string[],
  options: { bulkData?: (uri: string) => Uint8Array | undefined },
): DataElement {
  const { vr } = element;
  if (vr === 'SQ') {
    const items = (element.Value ?? []).map((item) =>
      datasetFromJson(item as DicomJsonObject, { ...options, characterSet }),
    );
    return { tag, vr, items };
  }
  if (element.InlineBinary !== undefined) return { tag, vr, bytes: fromBase64(element.InlineBinary) };
  if (element.BulkDataURI !== undefined)
    return { tag, vr, bytes: options.bulkData?.(element.BulkDataURI) ?? new Uint8Array() };
  const values = element.Value ?? [];
  if (values.length === 0) return { tag, vr, bytes: new Uint8Array() };
  if (vr === 'PN') {
    const names = values.map((value) => {
      const name = (value ?? {}) as PersonNameJson;
      const parts = [name.Alphabetic ?? '', name.Ideographic, name.Phonetic];
      while (parts.length > 1 && parts[parts.length - 1] === undefined) parts.pop();
      return parts.map((part) => part ?? '').join('=');
    });
    return { tag, vr, bytes: encodeStrings(names, vr, characterSet) };
  }
  if (vr === 'AT')
    return {
      tag,
      vr,
      bytes: encodeNumbers(
        values.map((v) => Number.parseInt(String(v), 16)),
        vr,
      ),
    };
  if (vr === 'IS' || vr === 'DS') {
    const texts = values.map((v) => (v === null ? '' : typeof v === 'number' ? numberText(v, vr) : String(v)));
    return { tag, vr, bytes: encodeStrings(texts, vr, characterSet) };
  }
  if (STRING_VRS.has(vr)) {
    return {
      tag,
      vr,
      bytes: encodeStrings(
        values.map((v) => (v === null ? '' : String(v))),
        vr,
        characterSet,
      ),
    };
  }
  return { tag, vr, bytes: encodeNumbers(values as number[], vr) };
}

function numberText(value: number, vr: 'IS' | 'DS'): string {
  return vr === 'IS' ? String(Math.trunc(value)) : (encodeNumbersText(value) ?? String(value));
}

function encodeNumbersText(value: number): string | undefined {
  const bytes = encodeNumbers([value], 'DS');
  return decodeStrings(bytes, 'DS', [])[0];
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export function toBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    chunk += BASE64[n >> 18]! + BASE64[(n >> 12) & 63]! + BASE64[(n >> 6) & 63]! + BASE64[n & 63]!;
    if (chunk.length >= 8192) {
      parts.push(chunk);
      chunk = '';
    }
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    chunk += `${BASE64[n >> 18]!}${BASE64[(n >> 12) & 63]!}==`;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    chunk += `${BASE64[n >> 18]!}${BASE64[(n >> 12) & 63]!}${BASE64[(n >> 6) & 63]!}=`;
  }
  parts.push(chunk);
  return parts.join('');
}

export function fromBase64(text: string): Uint8Array {
  const clean = text.replace(/[^A-Za-z0-9+/]/g, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let buffer = 0;
  let bits = 0;
  let o = 0;
  for (const ch of clean) {
    buffer = (buffer << 6) | BASE64.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (buffer >> bits) & 0xff;
    }
  }
  return out.subarray(0, o);
}
