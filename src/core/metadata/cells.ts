/**
 * Element values as report cells: numbers stay numbers, DA / DT become dates, everything else text. A missing or
 * empty value is `null` (an empty cell), and a value that does not parse for its VR is kept as its text: a
 * report shows what the file says, it never throws over it.
 */
import { tagToString } from '../dicom/dictionary.ts';
import { NUMBER_VRS, type ReadonlyDataset, type ReadonlyElement, STRING_VRS, type VR } from '../dicom/model.ts';
import { decodeNumbers, firstValue, isMultiValued, splitValues, textAt } from '../dicom/values.ts';

/** A report cell. Dates are UTC instants holding the wall-clock value the file gave (no time zone applied). */
export type CellValue = string | number | boolean | Date | null;

/** Excel refuses longer cell texts. */
export const MAX_CELL_TEXT = 32767;

export function elementCell(element: ReadonlyElement | undefined, owner: ReadonlyDataset): CellValue {
  if (!element) return null;
  if (element.items) return element.items.length === 0 ? null : `${element.items.length} item(s)`;
  if (element.fragments) return `encapsulated (${element.fragments.length - 1} fragment(s))`;
  const bytes = element.bytes;
  if (!bytes) return null;
  return valueCell(bytes, 0, bytes.length, element.vr, owner.characterSet);
}

/** The cell of the value at bytes[start, end) (see ReadonlyDataset.locate). */
export function valueCell(
  bytes: Uint8Array,
  start: number,
  end: number,
  vr: VR,
  characterSet: readonly string[],
): CellValue {
  if (end <= start) return null;
  if (STRING_VRS.has(vr)) {
    const text = textAt(bytes, start, end, vr, characterSet);
    if (isMultiValued(text, vr)) {
      const values = splitValues(text, vr);
      if (values.every((value) => value === '')) return null;
      return clip(values.join('\\'));
    }
    const value = firstValue(text, vr);
    if (value === '') return null;
    if (vr === 'DS' || vr === 'IS') return numberOrText(value);
    if (vr === 'DA') return parseDA(value) ?? value;
    if (vr === 'DT') return parseDT(value) ?? value;
    if (vr === 'TM') return formatTM(value);
    return clip(value);
  }
  const value = bytes.subarray(start, end);
  if (vr === 'AT') return decodeNumbers(value, vr).map(tagToString).join('\\');
  if (NUMBER_VRS.has(vr)) {
    const values = decodeNumbers(value, vr);
    if (values.length === 1) return Number.isFinite(values[0]!) ? values[0]! : String(values[0]);
    return clip(values.join('\\'));
  }
  // OB / OW / OF / UN ...: a private text value sent as UN is shown as text; other bytes by their size.
  if (isPrintable(value)) return clip(latin1(value).replace(/[\0 ]+$/, ''));
  return `<${value.length} bytes>`;
}

function numberOrText(value: string): CellValue {
  const number = Number(value);
  return value.trim() !== '' && Number.isFinite(number) ? number : value;
}

/** DA (PS3.5 6.2): YYYYMMDD; the ACR-NEMA form YYYY.MM.DD is accepted too. */
export function parseDA(value: string): Date | undefined {
  if (value.length === 8 && digitsAt(value, 0, 8)) {
    return validDate(digits(value, 0, 4), digits(value, 4, 2), digits(value, 6, 2), 0, 0, 0, 0);
  }
  const match = /^(\d{4})\.?(\d{2})\.?(\d{2})$/.exec(value.trim());
  if (!match) return undefined;
  return validDate(Number(match[1]), Number(match[2]), Number(match[3]), 0, 0, 0, 0);
}

/** DT (PS3.5 6.2): YYYY[MM[DD[HH[MM[SS[.F{1-6}]]]]]][&ZZXX]; the offset is not applied (wall clock kept). */
export function parseDT(value: string): Date | undefined {
  const match = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\.\d{1,6})?([+-]\d{4})?$/.exec(value.trim());
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, f] = match;
  const ms = f ? Math.round(Number(f) * 1000) : 0;
  return validDate(Number(y), Number(mo ?? 1), Number(d ?? 1), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0), ms);
}

function validDate(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): Date | undefined {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, Math.min(s, 59), ms));
  // Reject 20230231 and the like instead of rolling over into the next month.
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return undefined;
  return date;
}

/** TM (PS3.5 6.2) HHMMSS.FFFFFF (or the ACR-NEMA HH:MM:SS) as HH:MM:SS[.F]; anything else unchanged. */
export function formatTM(value: string): string {
  if (value.length === 6 && digitsAt(value, 0, 6))
    return `${value.slice(0, 2)}:${value.slice(2, 4)}:${value.slice(4, 6)}`;
  const match = /^(\d{2}):?(\d{2})?:?(\d{2})?(\.\d{1,6})?$/.exec(value.trim());
  if (!match) return value;
  const [, h, m, s, f] = match;
  return `${h}:${m ?? '00'}:${s ?? '00'}${f ?? ''}`;
}

/** Seconds since midnight of a TM value (for ordering acquisitions), or undefined. */
export function secondsOfTM(value: string | undefined): number | undefined {
  if (!value) return undefined;
  if (value.length === 6 && digitsAt(value, 0, 6))
    return digits(value, 0, 2) * 3600 + digits(value, 2, 2) * 60 + digits(value, 4, 2);
  const match = /^(\d{2}):?(\d{2})?:?(\d{2})?(\.\d{1,6})?$/.exec(value.trim());
  if (!match) return undefined;
  return Number(match[1]) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0) + Number(match[4] ?? 0);
}

/** True when value[start, start + count) are ASCII digits (the common DA / TM forms, parsed without a RegExp). */
function digitsAt(value: string, start: number, count: number): boolean {
  for (let i = start; i < start + count; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}

function digits(value: string, start: number, count: number): number {
  let number = 0;
  for (let i = start; i < start + count; i++) number = number * 10 + value.charCodeAt(i) - 0x30;
  return number;
}

function isPrintable(bytes: Uint8Array): boolean {
  if (bytes.length > 4096) return false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    const trailingPad = byte === 0 && i === bytes.length - 1;
    if ((byte < 0x20 || byte > 0x7e) && !trailingPad && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return false;
  }
  return true;
}

function latin1(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return text;
}

function clip(text: string): string {
  return text.length > MAX_CELL_TEXT ? `${text.slice(0, MAX_CELL_TEXT - 3)}...` : text;
}
