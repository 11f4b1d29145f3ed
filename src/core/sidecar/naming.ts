/**
 * Output file names from a pattern, as dcm2niix's `-f` does (FILENAMING.md), with medvox's default
 * `%s_%d` (series number + series description). Names are sanitised to portable characters and made unique
 * within one run by a numeric suffix (`_2`, `_3`, ...) so that no output overwrites another.
 */
import type { Dataset } from '../dicom/model.ts';

export const DEFAULT_NAME_PATTERN = '%s_%d';

/** Pattern tokens -> DICOM keyword (or a computed value). */
const TOKENS: Readonly<Record<string, string>> = {
  a: 'ReceiveCoilName',
  d: 'SeriesDescription',
  e: 'EchoNumbers',
  i: 'PatientID',
  j: 'SeriesInstanceUID',
  k: 'StudyInstanceUID',
  m: 'Modality',
  n: 'PatientName',
  p: 'ProtocolName',
  q: 'SequenceName',
  r: 'InstanceNumber',
  s: 'SeriesNumber',
  t: 'StudyDate',
  u: 'AcquisitionNumber',
  x: 'StudyID',
  z: 'SequenceName',
};

/** Replace anything outside [A-Za-z0-9._-] with '_', collapse repeats, trim separators (never empty). */
export function sanitiseName(name: string): string {
  const cleaned = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^[_.-]+|[_.-]+$/g, '');
  return cleaned.slice(0, 200) || 'medvox';
}

/** Expand a pattern for one volume's first instance. Unknown tokens are kept literally; `%%` is a percent sign. */
export function expandPattern(pattern: string, dataset: Dataset): string {
  const expanded = pattern.replace(/%(.)/g, (whole, token: string) => {
    if (token === '%') return '%';
    const keyword = TOKENS[token];
    if (!keyword) return whole;
    if (token === 't') return `${dataset.string('StudyDate') ?? ''}${(dataset.string('StudyTime') ?? '').slice(0, 6)}`;
    return dataset.strings(keyword).join('_');
  });
  return sanitiseName(expanded);
}

/** Hands out unique names within one output folder. */
export class UniqueNames {
  private readonly used = new Set<string>();

  constructor(existing: Iterable<string> = []) {
    for (const name of existing) this.used.add(name.toLowerCase());
  }

  /** `base`, or `base_2`, `base_3`, ... (case-insensitive, for case-insensitive file systems). */
  take(base: string): string {
    let name = base;
    for (let counter = 2; this.used.has(name.toLowerCase()); counter++) name = `${base}_${counter}`;
    this.used.add(name.toLowerCase());
    return name;
  }
}
