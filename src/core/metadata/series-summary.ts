/**
 * Series_Summary: one row per series, folded from its instances as they are read (counters, first values, a
 * position along the slice normal per slice): modality, description, counts, dimensions, spacing, orientation,
 * dates, manufacturer / model, protocol.
 */
import type { ReadonlyDataset } from '../dicom/model.ts';
import { dot, type Vec3 } from '../geometry/affine.ts';
import { sliceNormal } from '../geometry/stack.ts';
import { type CellValue, parseDA, parseDT, secondsOfTM } from './cells.ts';
import { compareText } from './compare-text.ts';
import { KeptBytes, newLocation } from './kept-bytes.ts';
import { inFunctionalGroups } from './path.ts';
import { addPlane, orientationOf, type PlaneCounts } from './planes.ts';

const location = newLocation();

const IMAGE_POSITION = 0x00200032;
const IMAGE_ORIENTATION = 0x00200037;
const PIXEL_SPACING = 0x00280030;
const SLICE_THICKNESS = 0x00180050;
const PER_FRAME_GROUPS = 0x52009230;
const PLANE_POSITION_SEQUENCE = 0x00209113;
const SERIES_INSTANCE_UID = 0x0020000e;
const NUMBER_OF_FRAMES = 0x00280008;
const ROWS = 0x00280010;
const COLUMNS = 0x00280011;
const INSTANCE_NUMBER = 0x00200013;
const ACQUISITION_DATE_TIME = 0x0008002a;
/** Date and time attributes tried in order for an instance's acquisition instant. */
const DATE_TIME_PAIRS = [
  [0x00080022, 0x00080032], // AcquisitionDate, AcquisitionTime
  [0x00080023, 0x00080033], // ContentDate, ContentTime
  [0x00080021, 0x00080031], // SeriesDate, SeriesTime
] as const;

interface SeriesState {
  first: Record<string, string>;
  seriesNumber: number | undefined;
  instances: number;
  frames: number;
  /** Rows x Columns met, in order. */
  sizes: Map<string, true>;
  pixelSpacing: number[] | undefined;
  sliceThickness: number | undefined;
  normal: Vec3 | undefined;
  orientation: number[] | undefined;
  distances: number[];
  planes: PlaneCounts;
  earliest: Date | undefined;
  latest: Date | undefined;
  instanceNumbers: [number, number] | undefined;
  transferSyntaxes: Set<string>;
}

const TEXT_FIELDS = [
  'PatientID',
  'StudyInstanceUID',
  'StudyDate',
  'StudyDescription',
  'Modality',
  'SeriesDescription',
  'ProtocolName',
  'BodyPartExamined',
  'Manufacturer',
  'ManufacturerModelName',
  'SeriesDate',
  'SOPClassUID',
] as const;

export const SERIES_SUMMARY_COLUMNS = [
  'StudyInstanceUID',
  'SeriesInstanceUID',
  'PatientID',
  'StudyDate',
  'StudyDescription',
  'SeriesNumber',
  'Modality',
  'SeriesDescription',
  'ProtocolName',
  'BodyPartExamined',
  'Manufacturer',
  'ManufacturerModelName',
  'SeriesDate',
  'FirstAcquisition',
  'LastAcquisition',
  'Instances',
  'Frames',
  'Rows',
  'Columns',
  'SlicePositions',
  'PixelSpacingRow',
  'PixelSpacingColumn',
  'SliceThickness',
  'SliceSpacing',
  'Orientation',
  'ImageOrientationPatient',
  'InstanceNumberFirst',
  'InstanceNumberLast',
  'SOPClassUID',
  'TransferSyntaxUID',
] as const;

/** Acquisition instant of an instance: AcquisitionDateTime, else date + time of acquisition, else of content. */
function acquisitionInstant(dataset: ReadonlyDataset): Date | undefined {
  const dateTime = dataset.string(ACQUISITION_DATE_TIME);
  if (dateTime) {
    const parsed = parseDT(dateTime);
    if (parsed) return parsed;
  }
  for (const [dateKey, timeKey] of DATE_TIME_PAIRS) {
    const date = parseDA(dataset.string(dateKey) ?? '');
    if (!date) continue;
    const seconds = secondsOfTM(dataset.string(timeKey)) ?? 0;
    return new Date(date.getTime() + Math.round(seconds * 1000));
  }
  return undefined;
}

function numbersDeep(dataset: ReadonlyDataset, tag: number): number[] {
  const direct = dataset.numbers(tag);
  if (direct.length > 0) return direct;
  const found = inFunctionalGroups(dataset, tag);
  return found ? found.owner.numbers(found.element.tag) : [];
}

export class SeriesSummaryCollector {
  private readonly series = new Map<string, SeriesState>();
  /** The last ImageOrientationPatient read and its numbers: the slices of a series share one. */
  private readonly orientationBytes = new KeptBytes();
  private orientationKept: number[] | undefined;

  constructor(readonly orientationToleranceDegrees: number) {}

  get size(): number {
    return this.series.size;
  }

  add(dataset: ReadonlyDataset, transferSyntaxUID: string): void {
    // An instance without SeriesInstanceUID cannot be tied to any other: it is a series of its own.
    const uid = dataset.string(SERIES_INSTANCE_UID) ?? `#${this.series.size}`;
    let state = this.series.get(uid);
    if (!state) {
      const first: Record<string, string> = {};
      for (const field of TEXT_FIELDS) first[field] = dataset.string(field) ?? '';
      state = {
        first,
        seriesNumber: finite(dataset.number('SeriesNumber')),
        instances: 0,
        frames: 0,
        sizes: new Map(),
        pixelSpacing: undefined,
        sliceThickness: undefined,
        normal: undefined,
        orientation: undefined,
        distances: [],
        planes: { counts: new Map(), reasons: new Map(), missing: 0 },
        earliest: undefined,
        latest: undefined,
        instanceNumbers: undefined,
        transferSyntaxes: new Set(),
      };
      this.series.set(uid, state);
    }
    state.instances++;
    state.transferSyntaxes.add(transferSyntaxUID);
    const frames = finite(dataset.number(NUMBER_OF_FRAMES)) ?? 1;
    state.frames += frames;
    const rows = dataset.number(ROWS);
    const columns = dataset.number(COLUMNS);
    if (rows && columns) {
      const size = `${rows}x${columns}`;
      if (!state.sizes.has(size)) state.sizes.set(size, true);
    }
    state.pixelSpacing ??= validNumbers(numbersDeep(dataset, PIXEL_SPACING), 2);
    state.sliceThickness ??= finite(numbersDeep(dataset, SLICE_THICKNESS)[0]);
    const orientation = this.orientationOf(dataset);
    if (orientation && rows && columns) {
      addPlane(state.planes, orientation, this.orientationToleranceDegrees);
      state.orientation ??= orientation;
      state.normal ??= sliceNormal({
        rowCosines: orientation.slice(0, 3) as Vec3,
        columnCosines: orientation.slice(3, 6) as Vec3,
      });
      for (const position of this.positions(dataset, frames)) state.distances.push(dot(state.normal, position));
    } else if (rows && columns) state.planes.missing++;
    const instant = acquisitionInstant(dataset);
    if (instant) {
      if (!state.earliest || instant < state.earliest) state.earliest = instant;
      if (!state.latest || instant > state.latest) state.latest = instant;
    }
    const instanceNumber = finite(dataset.number(INSTANCE_NUMBER));
    if (instanceNumber !== undefined) {
      const range = state.instanceNumbers;
      state.instanceNumbers = range
        ? [Math.min(range[0], instanceNumber), Math.max(range[1], instanceNumber)]
        : [instanceNumber, instanceNumber];
    }
  }

  /** ImageOrientationPatient (6 finite numbers) of the instance, or of its functional groups. */
  private orientationOf(dataset: ReadonlyDataset): number[] | undefined {
    const located = dataset.locate(IMAGE_ORIENTATION, location);
    if (located && this.orientationBytes.matches(location)) return this.orientationKept;
    const direct = dataset.numbers(IMAGE_ORIENTATION);
    if (direct.length === 0) return validNumbers(numbersDeep(dataset, IMAGE_ORIENTATION), 6);
    // Kept only when the value itself decides (not the functional groups).
    const orientation = validNumbers(direct, 6);
    if (located) {
      this.orientationBytes.keep(location);
      this.orientationKept = orientation;
    }
    return orientation;
  }

  /** ImagePositionPatient of the instance, or of every frame of an enhanced multi-frame object. */
  private positions(dataset: ReadonlyDataset, frames: number): number[][] {
    const direct = validNumbers(dataset.numbers(IMAGE_POSITION), 3);
    if (direct) return [direct];
    const out: number[][] = [];
    const perFrame = dataset.items(PER_FRAME_GROUPS);
    for (const frame of perFrame.slice(0, frames)) {
      const position = validNumbers(frame.items(PLANE_POSITION_SEQUENCE)[0]?.numbers(IMAGE_POSITION) ?? [], 3);
      if (position) out.push(position);
    }
    if (out.length === 0) {
      const shared = validNumbers(inFunctionalGroups(dataset, IMAGE_POSITION)?.owner.numbers(IMAGE_POSITION) ?? [], 3);
      if (shared) out.push(shared);
    }
    return out;
  }

  /** Rows in study, then series number order. */
  rows(): CellValue[][] {
    const entries = [...this.series.entries()].sort(
      ([aUid, a], [bUid, b]) =>
        compareText(a.first.StudyInstanceUID!, b.first.StudyInstanceUID!) ||
        (a.seriesNumber ?? 0) - (b.seriesNumber ?? 0) ||
        compareText(aUid, bUid),
    );
    return entries.map(([uid, state]) => this.cells(uid, state));
  }

  private cells(uid: string, state: SeriesState): CellValue[] {
    const text = (key: (typeof TEXT_FIELDS)[number]): CellValue => state.first[key] || null;
    const sizes = [...state.sizes.keys()];
    const [rows, columns] = sizes.length === 1 ? sizes[0]!.split('x').map(Number) : [undefined, undefined];
    const mixed = sizes.length > 1 ? `mixed: ${sizes.join(', ')}` : null;
    const distances = [...new Set(state.distances.map((d) => Math.round(d * 1000) / 1000))].sort((a, b) => a - b);
    const gaps = distances.slice(1).map((d, i) => d - distances[i]!);
    const orientation = orientationOf(state.planes);
    return [
      text('StudyInstanceUID'),
      uid.startsWith('#') ? null : uid,
      text('PatientID'),
      parseDA(state.first.StudyDate ?? '') ?? text('StudyDate'),
      text('StudyDescription'),
      state.seriesNumber ?? null,
      text('Modality'),
      text('SeriesDescription'),
      text('ProtocolName'),
      text('BodyPartExamined'),
      text('Manufacturer'),
      text('ManufacturerModelName'),
      parseDA(state.first.SeriesDate ?? '') ?? text('SeriesDate'),
      state.earliest ?? null,
      state.latest ?? null,
      state.instances,
      state.frames,
      rows ?? mixed,
      columns ?? mixed,
      distances.length || null,
      state.pixelSpacing?.[0] ?? null,
      state.pixelSpacing?.[1] ?? null,
      state.sliceThickness ?? null,
      gaps.length ? round(median(gaps)) : null,
      orientation.plane,
      state.orientation ? state.orientation.map((v) => round(v)).join('\\') : null,
      state.instanceNumbers?.[0] ?? null,
      state.instanceNumbers?.[1] ?? null,
      text('SOPClassUID'),
      [...state.transferSyntaxes].join('\\') || null,
    ];
  }
}

function finite(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) ? value : undefined;
}

function validNumbers(values: number[], count: number): number[] | undefined {
  return values.length >= count && values.slice(0, count).every(Number.isFinite) ? values.slice(0, count) : undefined;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
