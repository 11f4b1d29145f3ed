/**
 * Dynamic groups: the same protocol acquired several times in one study (pre / post contrast phases of a DCE
 * exam, repeated perfusion blocks) with the same sequence, matrix and orientation. Series are grouped by the
 * rules file's `dynamic.groupBy` keys, ordered by acquisition time, and split where the gap between two
 * acquisitions exceeds `maxGapSeconds`; groups of at least `minSeries` get a name (DYN1, DYN2, ...) and phases 1..n.
 */
import type { StandardPlane } from '../geometry/orientation.ts';
import type { MrDecisions } from './mr-classify.ts';
import type { DynamicKey, MrCleanConfig } from './mr-config.ts';
import type { MrFeatures } from './mr-features.ts';

export interface DynamicAssignment {
  group: string | null;
  phase: number | null;
  reason: string;
}

/** What grouping needs of an MR_Cleaned row. */
export interface DynamicCandidate {
  studyInstanceUID: string;
  seriesNumber: number | undefined;
  features: MrFeatures;
  decisions: MrDecisions;
  standardOrientation: StandardPlane | 'MIXED' | null;
  date: string;
  timeSeconds: number | undefined;
  dynamic: DynamicAssignment;
}

function keyValue(row: DynamicCandidate, key: DynamicKey, config: MrCleanConfig): string {
  const f = row.features;
  switch (key) {
    case 'protocol': {
      const name = (f.protocolName || f.seriesDescription).trim().toLowerCase();
      return config.dynamic.stripPattern ? name.replace(config.dynamic.stripPattern, '') : name;
    }
    case 'SequenceName':
      return f.sequenceName;
    case 'sequenceClass':
      return row.decisions.sequenceClass;
    case 'matrix':
      return `${f.rows ?? '?'}x${f.columns ?? '?'}`;
    case 'standardOrientation':
      return row.standardOrientation ?? '';
    case 'RepetitionTime':
      return f.repetitionTime === undefined ? '' : f.repetitionTime.toFixed(1);
    case 'EchoTime':
      return f.echoTime === undefined ? '' : f.echoTime.toFixed(1);
    case 'FlipAngle':
      return f.flipAngle === undefined ? '' : f.flipAngle.toFixed(0);
    case 'ImageType':
      return f.imageType.join('\\');
  }
}

/** Days since 1970 of a DA text, for acquisitions crossing midnight. */
function dayNumber(date: string): number {
  const match = /^(\d{4})(\d{2})(\d{2})/.exec(date);
  return match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) / 86400000 : 0;
}

function timeOf(row: DynamicCandidate): number | undefined {
  return row.timeSeconds === undefined ? undefined : dayNumber(row.date) * 86400 + row.timeSeconds;
}

function clock(seconds: number): string {
  const s = Math.round(seconds) % 86400;
  return [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60].map((n) => String(n).padStart(2, '0')).join(':');
}

export function assignDynamicGroups(rows: DynamicCandidate[], config: MrCleanConfig): void {
  const rules = config.dynamic;
  const candidates = new Map<string, DynamicCandidate[]>();
  for (const row of rows) {
    if (!row.decisions.isImage) {
      row.dynamic = { group: null, phase: null, reason: 'not an image' };
      continue;
    }
    if (rules.excludeClasses.includes(row.decisions.sequenceClass)) {
      row.dynamic = { group: null, phase: null, reason: `${row.decisions.sequenceClass} series are not grouped` };
      continue;
    }
    const key = [row.studyInstanceUID, ...rules.groupBy.map((k) => keyValue(row, k, config))].join('\u0000');
    const list = candidates.get(key);
    if (list) list.push(row);
    else candidates.set(key, [row]);
  }
  let next = 1;
  for (const list of candidates.values()) {
    if (list.length < rules.minSeries) {
      for (const row of list)
        row.dynamic = { group: null, phase: null, reason: 'no repeated acquisition of this protocol' };
      continue;
    }
    const timed = list.every((row) => timeOf(row) !== undefined);
    list.sort((a, b) => (timed ? timeOf(a)! - timeOf(b)! : (a.seriesNumber ?? 0) - (b.seriesNumber ?? 0)));
    // Split into runs where consecutive acquisitions are at most maxGapSeconds apart.
    const runs: DynamicCandidate[][] = [[list[0]!]];
    for (let i = 1; i < list.length; i++) {
      const gap = timed ? timeOf(list[i]!)! - timeOf(list[i - 1]!)! : 0;
      if (gap > rules.maxGapSeconds) runs.push([list[i]!]);
      else runs[runs.length - 1]!.push(list[i]!);
    }
    const keys = rules.groupBy.join(', ');
    for (const run of runs) {
      if (run.length < rules.minSeries) {
        for (const row of run)
          row.dynamic = {
            group: null,
            phase: null,
            reason: `repeats of this protocol are more than ${rules.maxGapSeconds} s apart`,
          };
        continue;
      }
      const name = `DYN${next++}`;
      const span = timed
        ? ` acquired ${clock(run[0]!.timeSeconds!)}-${clock(run[run.length - 1]!.timeSeconds!)}`
        : ' (no acquisition times: ordered by SeriesNumber)';
      run.forEach((row, index) => {
        row.dynamic = {
          group: name,
          phase: index + 1,
          reason: `phase ${index + 1} of ${run.length} series with the same ${keys}${span}`,
        };
      });
    }
  }
}
