/**
 * MR_Cleaned: one row per MR series (one per echo when the echoes of a series are different contrasts, such as a
 * PD + T2 dual-echo TSE), with the normalised sequence class, orientation, fat suppression, contrast, dynamic
 * grouping, field strength and 2D / 3D, each with its reason. Instances are folded in as they are read; only
 * a representative instance's features and a few counters are kept per series and echo.
 */
import type { ReadonlyDataset } from '../dicom/model.ts';
import type { StandardPlane } from '../geometry/orientation.ts';
import type { CellValue } from './cells.ts';
import { compareText } from './compare-text.ts';
import { assignDynamicGroups, type DynamicAssignment } from './dynamic.ts';
import { classifyMr, type MrDecisions } from './mr-classify.ts';
import type { MrCleanConfig } from './mr-config.ts';
import { type MrFeatures, mrFeatures, mrInstanceBasics } from './mr-features.ts';
import { addPlane, orientationOf, type PlaneCounts } from './planes.ts';

interface EchoGroup {
  echo: number | undefined;
  features: MrFeatures;
  instances: number;
}

interface MrSeriesState {
  studyInstanceUID: string;
  seriesInstanceUID: string;
  echoes: Map<string, EchoGroup>;
  planes: PlaneCounts;
  instances: number;
  earliestSeconds?: number;
  date: string;
}

export interface MrCleanedRow {
  studyInstanceUID: string;
  seriesInstanceUID: string;
  seriesNumber: number | undefined;
  echoes: string;
  features: MrFeatures;
  instances: number;
  decisions: MrDecisions;
  standardOrientation: StandardPlane | 'MIXED' | null;
  orientationReason: string;
  dynamic: DynamicAssignment;
  /** Acquisition date and seconds of day of the earliest instance (for dynamic ordering). */
  date: string;
  timeSeconds: number | undefined;
}

export class MrSeriesCollector {
  private readonly series = new Map<string, MrSeriesState>();

  constructor(readonly config: MrCleanConfig) {}

  get size(): number {
    return this.series.size;
  }

  add(dataset: ReadonlyDataset): void {
    // Per instance only what varies within a series; the full features once per series and echo.
    const basics = mrInstanceBasics(dataset);
    const seriesInstanceUID = dataset.string('SeriesInstanceUID') ?? '';
    // An instance without SeriesInstanceUID cannot be tied to any other: it is a series of its own.
    const key = seriesInstanceUID || `#${this.series.size}`;
    let state = this.series.get(key);
    if (!state) {
      state = {
        studyInstanceUID: dataset.string('StudyInstanceUID') ?? '',
        seriesInstanceUID,
        echoes: new Map(),
        planes: { counts: new Map(), reasons: new Map(), missing: 0 },
        instances: 0,
        date: basics.date,
      };
      this.series.set(key, state);
    }
    state.instances++;
    if (basics.isImage) addPlane(state.planes, basics.orientation, this.config.orientation.toleranceDegrees);
    if (
      basics.timeSeconds !== undefined &&
      (state.earliestSeconds === undefined || basics.timeSeconds < state.earliestSeconds)
    ) {
      state.earliestSeconds = basics.timeSeconds;
      if (basics.date) state.date = basics.date;
    }
    // Echoes split the series only when they are different images: by echo number (or echo time).
    const group = state.echoes.get(basics.echoKey);
    if (group) group.instances++;
    else {
      const features = mrFeatures(dataset);
      state.echoes.set(basics.echoKey, { echo: features.echoNumber, features, instances: 1 });
    }
  }

  /** Classify every series (and echo), then group repeated acquisitions into dynamics. */
  rows(): MrCleanedRow[] {
    const rows: MrCleanedRow[] = [];
    for (const state of this.series.values()) {
      const orientation = orientationOf(state.planes);
      const echoes = [...state.echoes.values()].sort((a, b) => (a.echo ?? 0) - (b.echo ?? 0));
      // Echoes with the same class are one row (multi-echo BOLD); different classes (PD / T2) one row each.
      const byClass = new Map<string, { groups: EchoGroup[]; decisions: MrDecisions }>();
      for (const group of echoes) {
        const decisions = classifyMr(group.features, this.config);
        const entry = byClass.get(decisions.sequenceClass);
        if (entry) entry.groups.push(group);
        else byClass.set(decisions.sequenceClass, { groups: [group], decisions });
      }
      for (const { groups, decisions } of byClass.values()) {
        const numbers = groups.map((g) => g.echo).filter((n): n is number => n !== undefined);
        rows.push({
          studyInstanceUID: state.studyInstanceUID,
          seriesInstanceUID: state.seriesInstanceUID,
          seriesNumber: groups[0]!.features.seriesNumber,
          echoes:
            numbers.length === 0
              ? ''
              : numbers.length === 1
                ? String(numbers[0])
                : `${numbers[0]}-${numbers[numbers.length - 1]}`,
          features: groups[0]!.features,
          instances: groups.reduce((sum, g) => sum + g.instances, 0),
          decisions,
          standardOrientation: orientation.plane,
          orientationReason: orientation.reason,
          dynamic: { group: null, phase: null, reason: '' },
          date: state.date,
          timeSeconds: state.earliestSeconds,
        });
      }
    }
    rows.sort(
      (a, b) =>
        compareText(a.studyInstanceUID, b.studyInstanceUID) ||
        (a.seriesNumber ?? 0) - (b.seriesNumber ?? 0) ||
        compareText(a.seriesInstanceUID, b.seriesInstanceUID) ||
        compareText(a.echoes, b.echoes),
    );
    assignDynamicGroups(rows, this.config);
    return rows;
  }
}

export const MR_CLEANED_COLUMNS = [
  'StudyInstanceUID',
  'SeriesInstanceUID',
  'SeriesNumber',
  'EchoNumbers',
  'SeriesDescription',
  'ProtocolName',
  'SequenceName',
  'Manufacturer',
  'ManufacturerModelName',
  'Instances',
  'sequenceClass',
  'sequenceClassReason',
  'sequenceClassRule',
  'standardOrientation',
  'orientationReason',
  'acquisitionDimension',
  'dimensionReason',
  'fieldStrengthT',
  'fieldStrengthReason',
  'isFatSuppressed',
  'fatSuppressionReason',
  'isContrastEnhanced',
  'contrastReason',
  'dynamicGroup',
  'dynamicPhase',
  'dynamicReason',
  'RepetitionTime',
  'EchoTime',
  'InversionTime',
  'FlipAngle',
  'ScanningSequence',
  'SequenceVariant',
  'ScanOptions',
  'ImageType',
] as const;

export function mrCleanedCells(row: MrCleanedRow): CellValue[] {
  const f = row.features;
  const d = row.decisions;
  const text = (value: string): CellValue => (value === '' ? null : value);
  const list = (values: string[]): CellValue => (values.length ? values.join('\\') : null);
  return [
    text(row.studyInstanceUID),
    text(row.seriesInstanceUID),
    row.seriesNumber ?? null,
    text(row.echoes),
    text(f.seriesDescription),
    text(f.protocolName),
    text(f.sequenceName),
    text(f.manufacturer),
    text(f.manufacturerModelName),
    row.instances,
    d.isImage ? d.sequenceClass : 'unknown',
    d.sequenceClassReason,
    d.rule ?? null,
    row.standardOrientation,
    row.orientationReason,
    d.acquisitionDimension,
    d.dimensionReason,
    d.fieldStrengthTesla,
    d.fieldStrengthReason,
    d.isFatSuppressed,
    d.fatSuppressionReason,
    d.isContrastEnhanced,
    d.contrastReason,
    row.dynamic.group,
    row.dynamic.phase,
    text(row.dynamic.reason),
    f.repetitionTime ?? null,
    f.echoTime ?? null,
    f.inversionTime ?? null,
    f.flipAngle ?? null,
    list(f.scanningSequence),
    list(f.sequenceVariant),
    list(f.scanOptions),
    list(f.imageType),
  ];
}
