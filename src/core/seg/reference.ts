/**
 * The reference grid of a segmentation: the source image series as a stack of planes (geometry from
 * core/geometry, the same convention as the converter's volumes) plus what a SEG must reference about each slice
 * (SOP Class / Instance, frame of a multi-frame source). Built from DICOM headers only: no pixel data is decoded.
 */
import type { DicomFile } from '../dicom/model.ts';
import { MedvoxError } from '../errors.ts';
import { dot, type Mat4, sub, type Vec3 } from '../geometry/affine.ts';
import { distancesAlong, type SlicePlane, type StackWarning, sliceNormal, stackGeometry } from '../geometry/stack.ts';
import { type HeaderFile, type SliceRecord, sliceRecords } from '../volume/records.ts';

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

export function isSegmentationOrStructure(file: HeaderFile): boolean {
  return notAnImage(file, sopClassOf(file));
}

function notAnImage(file: HeaderFile, sopClass: string): boolean {
  const modality = file.dataset.string('Modality') ?? '';
  return NOT_IMAGES.has(sopClass) || modality === 'SEG' || modality === 'RTSTRUCT';
}

function sopClassOf(file: HeaderFile): string {
  return file.dataset.string('SOPClassUID') ?? file.meta.string('MediaStorageSOPClassUID') ?? '';
}

function orientationKey(record: SliceRecord<HeaderFile>): string {
  return [...record.plane.rowCosines, ...record.plane.columnCosines].map((v) => v.toFixed(3)).join(',');
}

/** One image plane of the reference, as much of it as the grid needs: read while its file's header is at hand. */
interface ReferencePlane {
  /** Index of the file it came from, in the order files were added. */
  file: number;
  source: string | undefined;
  seriesInstanceUID: string | undefined;
  /** What the series is called in messages. */
  seriesName: string;
  rows: number;
  columns: number;
  plane: SlicePlane;
  sliceSpacing: number;
  sliceThickness: number | undefined;
  slice: ReferenceSlice;
  frameOfReferenceUID: string | undefined;
  studyInstanceUID: string | undefined;
}

/** A reference grid without the source instance its Patient / Study attributes come from. */
export type PlaneGrid = Omit<ReferenceGrid, 'first'> & {
  /** Index (in the order files were added) of the file whose attributes a SEG copies: the first slice's. */
  firstFile: number;
};

/**
 * The planes of a reference, collected a file at a time: each file's header is read once when it is added (it may
 * be an index over a buffer that the next read reuses), so that a series of headers need not be held as datasets.
 */
export class ReferencePlanes {
  private readonly groups = new Map<string, ReferencePlane[]>();
  private files = 0;

  /** The image planes of `file` (segmentations and structure sets are ignored). */
  add(file: HeaderFile): void {
    const index = this.files++;
    const sopClassUID = sopClassOf(file);
    if (notAnImage(file, sopClassUID)) return;
    const records = sliceRecords(file).filter((record) => !record.noGeometry && !record.tile);
    if (records.length === 0) return;
    const ds = file.dataset;
    const multiFrame = (ds.number('NumberOfFrames') ?? 1) > 1;
    const fileValues = {
      file: index,
      source: file.source,
      seriesInstanceUID: ds.string('SeriesInstanceUID'),
      seriesName: ds.string('SeriesDescription') ?? records[0]!.seriesInstanceUID,
      frameOfReferenceUID: ds.string('FrameOfReferenceUID'),
      studyInstanceUID: ds.string('StudyInstanceUID'),
    };
    for (const record of records) {
      const key = [record.seriesInstanceUID, `${record.rows}x${record.columns}`, orientationKey(record)].join('|');
      let list = this.groups.get(key);
      if (!list) {
        list = [];
        this.groups.set(key, list);
      }
      list.push({
        ...fileValues,
        rows: record.rows,
        columns: record.columns,
        plane: record.plane,
        sliceSpacing: record.sliceSpacing,
        sliceThickness: sliceThicknessOf(record),
        slice: {
          sopInstanceUID: record.sopInstanceUID,
          sopClassUID,
          frameNumber: multiFrame ? record.frameIndex + 1 : undefined,
          position: record.plane.position,
        },
      });
    }
  }

  /**
   * The grid of the one image series among the planes (`seriesInstanceUID` picks one when several are given).
   * Repeated positions (a 4D series) cannot be one grid.
   */
  grid(options: { seriesInstanceUID?: string; source?: string } = {}): PlaneGrid {
    let candidates = [...this.groups.values()];
    if (options.seriesInstanceUID && candidates.length > 1) {
      const wanted = candidates.filter((list) => list[0]!.seriesInstanceUID === options.seriesInstanceUID);
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
      const names = candidates.map((list) => `${list[0]!.seriesName} (${list.length} slices)`);
      throw new MedvoxError(
        'GEOMETRY_INCONSISTENT',
        `the reference holds ${candidates.length} image stacks: ${names.join('; ')}`,
        {
          file: options.source,
          hint: 'give one series (one folder per series)',
        },
      );
    }
    // Ordered along the slice normal (core/geometry: each distance computed once, the gaps from stackGeometry).
    const found = candidates[0]!;
    const along = distancesAlong(
      sliceNormal(found[0]!.plane),
      found.map((entry) => entry.plane.position),
    );
    const planes = found
      .map((_, n) => n)
      .sort((a, b) => along[a]! - along[b]!)
      .map((n) => found[n]!);
    const first = planes[0]!;
    const geometry = stackGeometry(
      planes.map((entry) => entry.plane),
      first.rows,
      first.sliceSpacing,
    );
    const repeated = geometry.gaps.findIndex((gap) => gap < 1e-3);
    if (repeated >= 0) {
      throw new MedvoxError(
        'GEOMETRY_INCONSISTENT',
        'two reference slices share a position (a 4D series is not one grid)',
        {
          file: planes[repeated + 1]!.source ?? options.source,
          hint: 'give a single 3D series',
        },
      );
    }
    return {
      dims: [first.columns, first.rows, planes.length],
      affineLPS: geometry.affineLPS,
      rowCosines: first.plane.rowCosines,
      columnCosines: first.plane.columnCosines,
      pixelSpacing: first.plane.pixelSpacing,
      sliceThickness: first.sliceThickness,
      sliceSpacing: geometry.spacing[2],
      slices: planes.map((entry) => entry.slice),
      frameOfReferenceUID: first.frameOfReferenceUID,
      seriesInstanceUID: first.seriesInstanceUID,
      studyInstanceUID: first.studyInstanceUID,
      firstFile: first.file,
      warnings: geometry.warnings,
    };
  }
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
  const planes = new ReferencePlanes();
  for (const file of files) planes.add(file);
  const { firstFile, ...grid } = planes.grid(options);
  return { ...grid, first: files[firstFile]! };
}

function sliceThicknessOf(record: SliceRecord<HeaderFile>): number | undefined {
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
