/**
 * The studies page's search, on the server: `patient` (part of the patient's name or ID, any case), `from` / `to`
 * (study date range, inclusive, `YYYY-MM-DD` or `YYYYMMDD`), `modality` (one of the study's modalities). The same
 * rules as web/src/pages/Studies.tsx, so a download of "the current search result" holds the rows the page shows.
 */
import { MedvoxError } from '../core/errors.ts';
import type { StudyRow } from '../store/types.ts';

export interface StudySearch {
  patient?: string;
  from?: string;
  to?: string;
  modality?: string;
}

export const SEARCH_PARAMETERS = ['patient', 'from', 'to', 'modality'] as const;

/** DICOM DA (YYYYMMDD) -> YYYY-MM-DD, or '' when absent or malformed. */
function isoDate(da: string): string {
  return /^\d{8}$/.test(da) ? `${da.slice(0, 4)}-${da.slice(4, 6)}-${da.slice(6, 8)}` : '';
}

function dateParameter(name: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const match = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(value);
  if (!match) throw new MedvoxError('BAD_REQUEST', `${name} must be a date YYYY-MM-DD (got "${value.slice(0, 40)}")`);
  return `${match[1]}-${match[2]}-${match[3]}`;
}

function single(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new MedvoxError('BAD_REQUEST', `${name} may be given once`);
  return value;
}

/** The search parameters of a query string; malformed dates are refused (BAD_REQUEST). */
export function parseStudySearch(query: Record<string, unknown>): StudySearch {
  const search: StudySearch = {};
  const patient = single(query, 'patient')?.trim();
  if (patient) search.patient = patient;
  const from = dateParameter('from', single(query, 'from'));
  if (from) search.from = from;
  const to = dateParameter('to', single(query, 'to'));
  if (to) search.to = to;
  const modality = single(query, 'modality')?.trim();
  if (modality) search.modality = modality;
  return search;
}

export function hasSearch(query: Record<string, unknown>): boolean {
  return SEARCH_PARAMETERS.some((name) => query[name] !== undefined && query[name] !== '');
}

export function matchesStudy(
  study: Pick<StudyRow, 'patientName' | 'patientID' | 'studyDate' | 'modalities'>,
  search: StudySearch,
): boolean {
  const needle = search.patient?.toLowerCase();
  if (needle && !`${study.patientName} ${study.patientID}`.toLowerCase().includes(needle)) return false;
  const date = isoDate(study.studyDate);
  if (search.from && (!date || date < search.from)) return false;
  if (search.to && (!date || date > search.to)) return false;
  if (search.modality && !study.modalities.includes(search.modality)) return false;
  return true;
}
