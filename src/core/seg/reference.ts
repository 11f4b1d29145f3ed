/**
 * The reference grid of a segmentation: the source image series as a stack of planes (geometry from
 * core/geometry, the same convention as the converter's volumes) plus what a SEG must reference about each slice
 * (SOP Class / Instance, frame of a multi-frame source). Built from DICOM headers only: no pixel data is decoded.
 */
import type { Dataset, DicomFile } from '../dicom/model.ts';
import { MedvoxError } from '../errors.ts';
import { dot, type Mat4, sub, type Vec3 } from '../geometry/affine.ts';
import { type StackWarning, sliceNormal, stackGeometry } from '../geometry/stack.ts';
import { type SliceRecord, sliceRecords } from '../volume/records.ts';

export interface ReferenceSlice {
  /** Empty when the source blanked it (anonymised data): writers fill or generate one and say so. */
  sopInstanceUID: string;
  sopClassUID: string;
  /** 1-based frame number in a multi-frame source; undefined for single-frame instances. */
  frameNumber: number | undefined;
  /** Image Position (Patient) of the slice, LPS mm. */
  position: Vec3;
}

export interface ReferenceGrid {
  /** [columns, rows, slices]. */
  dims: [number, number, number];
  /** Voxel (i, j = rows-1-r, k) -> LPS mm (core/geometry/stack.ts convention). */
  affineLPS: Mat4;
  rowCosines: Vec3;
  columnCosines: Vec3;
  /** [between rows, between columns] (DICOM Pixel Spacing order). */
  pixelSpacing: [number, number];
  sliceThickness: number | undefined;
  /** Distance between slice centres along the normal (first gap, as the volume affine). */
  sliceSpacing: number;
  /** slices[k], ordered along +normal. */
  slices: ReferenceSlice[];
  frameOfReferenceUID: string | undefined;
  seriesInstanceUID: string | undefined;
  studyInstanceUID: string | undefined;
  /** A source instance: Patient / Study attributes are copied from it. */
  first: DicomFile;
  warnings: StackWarning[];
}

/** Storage SOP classes that are not images to segment (they have plane positions of their own). */
const NOT_IMAGES = new Set([
  '1.2.840.10008.5.1.4.1.1.66.4', // Segmentation
  '1.2.840.10008.5.1.4.1.1.66.7', // Label Map Segmentation
  '1.2.840.10008.5.1.4.1.1.481.3', // RT Structure Set
]);

export function isSegmentationOrStructure(file: DicomFile): boolean {
  const sopClass = file.dataset.string('SOPClassUID') ?? file.meta.string('MediaStorageSOPClassUID') ?? '';
  const modality = file.dataset.string('Modality') ?? '';
  return NOT_IMAGES.has(sopClass) || modality === 'SEG' || modality === 'RTSTRUCT';
}

function sopClassOf(file: DicomFile): string {
  return file.dataset.string('SOPClassUID') ?? file.meta.string('MediaStorageSOPClassUID') ?? '';
}

function orientationKey(record: SliceRecord): string {
  return [...record.plane.rowCosines, ...record.plane.columnCosines].map((v) => v.toFixed(3)).join(',');
}

/**
 * The reference grid of the image series among `files`. Segmentations and structure sets are ignored; one series
 * with one orientation and size is required (`seriesInstanceUID` picks one when several are given). Repeated
 * positions (a 4D series) cannot be one grid.
 */
export function referenceGrid(
  files: readonly DicomFile[],
  options: { seriesInstanceUID?: string; source?: string } = {},
): ReferenceGrid {
  const groups = new Map<string, SliceRecord[]>();
  for (const file of files) {
    if (isSegmentationOrStructure(file)) continue;
    for (const record of sliceRecords(file)) {
      if (record.noGeometry || record.tile) continue;
      const key = [record.seriesInstanceUID, `${record.rows}x${record.columns}`, orientationKey(record)].join('|');
      const list = groups.get(key) ?? [];
      list.push(record);
      groups.set(key, list);
    }
  }
  let candidates = [...groups.values()];
  if (options.seriesInstanceUID && candidates.length > 1) {
    const wanted = candidates.filter(
      (list) => list[0]!.file.dataset.string('SeriesInstanceUID') === options.seriesInstanceUID,
    );
    if (wanted.length > 0) candidates = wanted;
  }
  if (candidates.length === 0) {
    throw new MedvoxError(
      'GEOMETRY_INCONSISTENT',
      'no image with a patient geometry (Image Position / Orientation) among the reference files',
      {
        file: options.source,
        hint: 'give the folder of the source image series',
      },
    );
  }
  if (candidates.length > 1) {
    const names = candidates.map(
      (list) =>
        `${list[0]!.file.dataset.string('SeriesDescription') ?? list[0]!.seriesInstanceUID} (${list.length} slices)`,
    );
    throw new MedvoxError(
      'GEOMETRY_INCONSISTENT',
      `the reference holds ${candidates.length} image stacks: ${names.join('; ')}`,
      {
        file: options.source,
        hint: 'give one series (one folder per series)',
      },
    );
  }
  const records = candidates[0]!;
  const normal = sliceNormal(records[0]!.plane);
  records.sort((a, b) => dot(normal, a.plane.position) - dot(normal, b.plane.position));
  for (let k = 1; k < records.length; k++) {
    const gap = dot(normal, records[k]!.plane.position) - dot(normal, records[k - 1]!.plane.position);
    if (gap < 1e-3) {
      throw new MedvoxError(
        'GEOMETRY_INCONSISTENT',
        'two reference slices share a position (a 4D series is not one grid)',
        {
          file: records[k]!.file.source ?? options.source,
          hint: 'give a single 3D series',
        },
      );
    }
  }
  const first = records[0]!;
  const geometry = stackGeometry(
    records.map((record) => record.plane),
    first.rows,
    first.sliceSpacing,
  );
  const ds: Dataset = first.file.dataset;
  return {
    dims: [first.columns, first.rows, records.length],
    affineLPS: geometry.affineLPS,
    rowCosines: first.plane.rowCosines,
    columnCosines: first.plane.columnCosines,
    pixelSpacing: first.plane.pixelSpacing,
    sliceThickness: sliceThicknessOf(first),
    sliceSpacing: geometry.spacing[2],
    slices: records.map((record) => ({
      sopInstanceUID: record.sopInstanceUID,
      sopClassUID: sopClassOf(record.file),
      frameNumber: (record.file.dataset.number('NumberOfFrames') ?? 1) > 1 ? record.frameIndex + 1 : undefined,
      position: record.plane.position,
    })),
    frameOfReferenceUID: ds.string('FrameOfReferenceUID'),
    seriesInstanceUID: ds.string('SeriesInstanceUID'),
    studyInstanceUID: ds.string('StudyInstanceUID'),
    first: first.file,
    warnings: geometry.warnings,
  };
}

function sliceThicknessOf(record: SliceRecord): number | undefined {
  const ds = record.file.dataset;
  const perFrame = ds.items('PerFrameFunctionalGroupsSequence')[record.frameIndex];
  const shared = ds.items('SharedFunctionalGroupsSequence')[0];
  for (const group of [perFrame, shared]) {
    const value = group?.items('PixelMeasuresSequence')[0]?.number('SliceThickness');
    if (value !== undefined && Number.isFinite(value)) return value;
  }
  const value = ds.number('SliceThickness');
  return value !== undefined && Number.isFinite(value) ? value : undefined;
}

/**
 * The reference slice index k of a plane whose first pixel is at `position` (LPS), or undefined when no slice of
 * the grid lies there: more than max(0.01 mm, 5% of the slice spacing) off along the normal, or shifted in-plane by
 * more than max(0.01 mm, 5% of the pixel spacing).
 */
export function sliceIndexAt(grid: ReferenceGrid, position: readonly number[]): number | undefined {
  const normal = sliceNormal(grid);
  const distance = dot(normal, position);
  // Slices are sorted along the normal: binary search, then the nearest of the neighbours.
  let lo = 0;
  let hi = grid.slices.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (dot(normal, grid.slices[mid]!.position) < distance) lo = mid + 1;
    else hi = mid;
  }
  let best = -1;
  let along = Number.POSITIVE_INFINITY;
  for (const k of [lo - 1, lo, lo + 1]) {
    const slice = grid.slices[k];
    if (!slice) continue;
    const error = Math.abs(dot(normal, slice.position) - distance);
    if (error < along) {
      along = error;
      best = k;
    }
  }
  const slice = grid.slices[best];
  if (!slice) return undefined;
  if (along > Math.max(0.01, 0.05 * grid.sliceSpacing)) return undefined;
  const offset = sub(position, slice.position);
  const inPlane = Math.sqrt(Math.max(0, dot(offset, offset) - along * along));
  if (inPlane > Math.max(0.01, 0.05 * Math.min(...grid.pixelSpacing))) return undefined;
  return best;
}
