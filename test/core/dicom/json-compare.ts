/** Element-by-element comparison of two DICOM JSON models, with the documented exceptions for pydicom. */
import { readFileSync } from 'node:fs';

const NOT_DICOM = /\.(nii|gz|json|tsv|png|jpg|nrrd|bval|bvec|md|txt)$/i;

/** Corpus files that may be DICOM (by content: a DICM magic, or any file without a known non-DICOM suffix). */
export function dicomCorpusFiles(files: string[]): string[] {
  return files.filter((file) => !NOT_DICOM.test(file) || readFileSync(file).subarray(128, 132).toString() === 'DICM');
}

/** Pixel data is never part of the comparison (bulk data on both sides; ours always leaves it out). */
const SKIPPED = new Set(['7FE00010', '7FE00008', '7FE00009']);

/** VRs whose leading and trailing spaces are not significant (PS3.5 6.2). */
const PADDED_VRS = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'PN', 'SH', 'TM', 'UC', 'UI']);

/**
 * Documented departures of pydicom 2.3 from PS3.18 that the comparison allows:
 * 1. Empty values inside a multi-valued string: PS3.18 F.2.5 gives null, pydicom gives "".
 * 2. Padding inside multi-valued strings: pydicom's MultiString strips one trailing pad character of the whole
 *    value only, so "DERIVED \PRIMARY" keeps "DERIVED "; PS3.5 6.2 makes those spaces insignificant and we drop them.
 */
function sameString(vr: string | undefined, expected: unknown, actual: unknown): boolean {
  if (expected === '' && actual === null) return true;
  if (typeof expected === 'string' && typeof actual === 'string' && vr && PADDED_VRS.has(vr)) {
    return expected.trim() === actual.trim();
  }
  return false;
}

export function compareJson(expected: unknown, actual: unknown, path = '', vr?: string): string[] {
  if (isObject(expected) && isObject(actual)) {
    if (typeof expected.vr === 'string') vr = expected.vr;
    const out: string[] = [];
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    for (const key of [...keys].sort()) {
      if (path === '' && SKIPPED.has(key)) continue;
      if (!(key in actual)) out.push(`${path}/${key}: missing in ours (pydicom: ${short(expected[key])})`);
      else if (!(key in expected)) out.push(`${path}/${key}: extra in ours (${short(actual[key])})`);
      else out.push(...compareJson(expected[key], actual[key], `${path}/${key}`, vr));
    }
    return out;
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length) {
      return [`${path}: ${expected.length} values vs ${actual.length}: ${short(expected)} vs ${short(actual)}`];
    }
    return expected.flatMap((value, index) => compareJson(value, actual[index], `${path}[${index}]`, vr));
  }
  if (typeof expected === 'number' && typeof actual === 'number') {
    return Object.is(expected, actual) || expected === actual ? [] : [`${path}: ${expected} vs ${actual}`];
  }
  return expected === actual || sameString(vr, expected, actual)
    ? []
    : [`${path}: ${short(expected)} vs ${short(actual)}`];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 120)}...` : text;
}
