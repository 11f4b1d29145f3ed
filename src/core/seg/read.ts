/**
 * DICOM Segmentation -> masks on a reference grid. Reads BINARY, FRACTIONAL (thresholded) and LABELMAP
 * (Supplement 243) SEGs, native or encapsulated (the codecs decode 1-bit RLE / deflate / J2K frames). Every frame
 * is placed by its own Plane Position (GEOMETRY.md), never by its frame number, so frames in any order and SEGs
 * covering only some slices land where they belong.
 */
import { decodeFrame, pixelInfo } from '../codecs/index.ts';
import type { Dataset, DicomFile } from '../dicom/model.ts';
import { MedvoxError } from '../errors.ts';
import { dot, normalize, type Vec3 } from '../geometry/affine.ts';
import { sliceNormal, stackGeometry } from '../geometry/stack.ts';
import type { LabelEntry } from '../labels/label-table.ts';
import { type ReferenceGrid, type ReferenceSlice, sliceIndexAt } from './reference.ts';
import { readSegmentItem, type SegmentDescription } from './segments.ts';
import { LABEL_MAP_SEGMENTATION_SOP_CLASS, SEGMENTATION_SOP_CLASS } from './write.ts';

export type SegmentationType = 'BINARY' | 'FRACTIONAL' | 'LABELMAP';

export interface SegmentationFrame {
  /** 0-based frame index in the Pixel Data. */
  index: number;
  /** Referenced Segment Number (BINARY / FRACTIONAL); undefined for LABELMAP frames. */
  segmentNumber: number | undefined;
  position: Vec3;
  /** Source image of the frame (Derivation Image Sequence), when given. */
  sourceSOPInstanceUID: string | undefined;
  sourceFrameNumber: number | undefined;
}

export interface ParsedSegmentation {
  file: DicomFile;
  type: SegmentationType;
  rows: number;
  columns: number;
  segments: SegmentDescription[];
  frames: SegmentationFrame[];
  rowCosines: Vec3;
  columnCosines: Vec3;
  /** [between rows, between columns]. */
  pixelSpacing: [number, number];
  sliceThickness: number | undefined;
  frameOfReferenceUID: string | undefined;
  /** Referenced Series Sequence: series UID -> referenced SOP Instance UIDs. */
  referencedSeries: Map<string, Set<string>>;
  maximumFractionalValue: number;
  /** LABELMAP background value (Pixel Padding Value), when given. */
  pixelPaddingValue: number | undefined;
}

function groupItem(frame: Dataset | undefined, shared: Dataset | undefined, sequence: string): Dataset | undefined {
  return frame?.items(sequence)[0] ?? shared?.items(sequence)[0];
}

export function parseSegmentation(file: DicomFile): ParsedSegmentation {
  const ds = file.dataset;
  const fail = (code: 'MISSING_ATTRIBUTE' | 'UNSUPPORTED_SOP_CLASS' | 'BAD_VALUE', message: string): never => {
    throw new MedvoxError(code, message, { file: file.source });
  };
  const sopClass = ds.string('SOPClassUID') ?? file.meta.string('MediaStorageSOPClassUID');
  if (
    sopClass !== SEGMENTATION_SOP_CLASS &&
    sopClass !== LABEL_MAP_SEGMENTATION_SOP_CLASS &&
    ds.string('Modality') !== 'SEG'
  )
    fail('UNSUPPORTED_SOP_CLASS', `not a DICOM Segmentation (SOP Class ${sopClass ?? 'missing'})`);
  const typeText = (ds.string('SegmentationType') ?? '').toUpperCase();
  if (typeText !== 'BINARY' && typeText !== 'FRACTIONAL' && typeText !== 'LABELMAP')
    fail('BAD_VALUE', `Segmentation Type "${typeText}" is not BINARY, FRACTIONAL or LABELMAP`);
  const type = typeText as SegmentationType;
  const info = pixelInfo(ds, file.source);
  const perFrame = ds.items('PerFrameFunctionalGroupsSequence');
  const shared = ds.items('SharedFunctionalGroupsSequence')[0];
  if (perFrame.length !== info.numberOfFrames)
    fail('MISSING_ATTRIBUTE', `${perFrame.length} Per-frame Functional Groups items for ${info.numberOfFrames} frames`);
  const orientation =
    groupItem(perFrame[0], shared, 'PlaneOrientationSequence')?.numbers('ImageOrientationPatient') ?? [];
  if (orientation.length < 6 || !orientation.every(Number.isFinite))
    fail('MISSING_ATTRIBUTE', 'Plane Orientation (Image Orientation Patient) is missing');
  const measures = groupItem(perFrame[0], shared, 'PixelMeasuresSequence');
  const spacing = measures?.numbers('PixelSpacing') ?? [];
  if (spacing.length < 2) fail('MISSING_ATTRIBUTE', 'Pixel Measures (Pixel Spacing) are missing');
  const segments = ds.items('SegmentSequence').map(readSegmentItem);
  if (segments.length === 0) fail('MISSING_ATTRIBUTE', 'the Segment Sequence is empty');
  const frames = perFrame.map((frame, index): SegmentationFrame => {
    const position = groupItem(frame, shared, 'PlanePositionSequence')?.numbers('ImagePositionPatient') ?? [];
    if (position.length < 3 || !position.slice(0, 3).every(Number.isFinite))
      fail('MISSING_ATTRIBUTE', `frame ${index + 1} has no Plane Position (Image Position Patient)`);
    const segmentNumber = groupItem(frame, shared, 'SegmentIdentificationSequence')?.number('ReferencedSegmentNumber');
    if (type !== 'LABELMAP' && segmentNumber === undefined)
      fail('MISSING_ATTRIBUTE', `frame ${index + 1} has no Segment Identification (Referenced Segment Number)`);
    const source = frame.items('DerivationImageSequence')[0]?.items('SourceImageSequence')[0];
    return {
      index,
      segmentNumber: type === 'LABELMAP' ? undefined : segmentNumber,
      position: [position[0]!, position[1]!, position[2]!],
      sourceSOPInstanceUID: source?.string('ReferencedSOPInstanceUID'),
      sourceFrameNumber: source?.number('ReferencedFrameNumber'),
    };
  });
  const referencedSeries = new Map<string, Set<string>>();
  for (const series of ds.items('ReferencedSeriesSequence')) {
    const uids = new Set(
      series.items('ReferencedInstanceSequence').map((item) => item.string('ReferencedSOPInstanceUID') ?? ''),
    );
    referencedSeries.set(series.string('SeriesInstanceUID') ?? '', uids);
  }
  return {
    file,
    type,
    rows: info.rows,
    columns: info.columns,
    segments,
    frames,
    rowCosines: normalize(orientation.slice(0, 3)),
    columnCosines: normalize(orientation.slice(3, 6)),
    pixelSpacing: [spacing[0]!, spacing[1]!],
    sliceThickness: measures?.number('SliceThickness'),
    frameOfReferenceUID: ds.string('FrameOfReferenceUID'),
    referencedSeries,
    maximumFractionalValue: ds.number('MaximumFractionalValue') ?? 255,
    pixelPaddingValue: ds.number('PixelPaddingValue'),
  };
}

/**
 * A grid from the SEG's own frames, for a SEG whose source images are not at hand: the distinct frame positions
 * along the normal; gaps that are whole multiples of the smallest one are filled with empty slices, so the grid
 * is regular and spans every frame. (Slices beyond the first and last frame are unknown without the source.)
 */
export function gridFromSegmentation(seg: ParsedSegmentation): ReferenceGrid {
  const normal = sliceNormal(seg);
  const byDistance = new Map<string, Vec3>();
  for (const frame of seg.frames) byDistance.set(dot(normal, frame.position).toFixed(3), frame.position);
  const positions = [...byDistance.values()].sort((a, b) => dot(normal, a) - dot(normal, b));
  const distances = positions.map((p) => dot(normal, p));
  const gaps = distances.slice(1).map((d, i) => d - distances[i]!);
  const step = gaps.length > 0 ? Math.min(...gaps) : (seg.sliceThickness ?? 1);
  const regular = gaps.every((gap) => Math.abs(gap / step - Math.round(gap / step)) < 0.1);
  const planes: Vec3[] = [];
  positions.forEach((position, i) => {
    if (i > 0 && regular) {
      const missing = Math.round(gaps[i - 1]! / step) - 1;
      const previous = positions[i - 1]!;
      for (let m = 1; m <= missing; m++) {
        const t = m / (missing + 1);
        planes.push([
          previous[0] + (position[0] - previous[0]) * t,
          previous[1] + (position[1] - previous[1]) * t,
          previous[2] + (position[2] - previous[2]) * t,
        ]);
      }
    }
    planes.push(position);
  });
  const geometry = stackGeometry(
    planes.map((position) => ({
      position,
      rowCosines: seg.rowCosines,
      columnCosines: seg.columnCosines,
      pixelSpacing: seg.pixelSpacing,
    })),
    seg.rows,
    seg.sliceThickness ?? step,
  );
  const sourceAt = new Map(seg.frames.map((frame) => [dot(normal, frame.position).toFixed(3), frame]));
  const slices: ReferenceSlice[] = planes.map((position) => {
    const frame = sourceAt.get(dot(normal, position).toFixed(3));
    return {
      sopInstanceUID: frame?.sourceSOPInstanceUID ?? '',
      sopClassUID: '',
      frameNumber: frame?.sourceFrameNumber,
      position,
    };
  });
  return {
    dims: [seg.columns, seg.rows, planes.length],
    affineLPS: geometry.affineLPS,
    rowCosines: seg.rowCosines,
    columnCosines: seg.columnCosines,
    pixelSpacing: seg.pixelSpacing,
    sliceThickness: seg.sliceThickness,
    sliceSpacing: geometry.spacing[2],
    slices,
    frameOfReferenceUID: seg.frameOfReferenceUID,
    seriesInstanceUID: [...seg.referencedSeries.keys()][0],
    studyInstanceUID: seg.file.dataset.string('StudyInstanceUID'),
    first: seg.file,
    warnings: geometry.warnings,
  };
}

/**
 * Check that a reference grid can hold the SEG: same frame of reference, frame size and orientation, and every
 * referenced source instance among the reference slices. Returns warnings for what is tolerated.
 */
export function checkReference(seg: ParsedSegmentation, grid: ReferenceGrid, source?: string): string[] {
  const warnings: string[] = [];
  const file = seg.file.source ?? source;
  if (seg.frameOfReferenceUID && grid.frameOfReferenceUID && seg.frameOfReferenceUID !== grid.frameOfReferenceUID) {
    throw new MedvoxError(
      'REFERENCE_MISSING',
      `the SEG is on frame of reference ${seg.frameOfReferenceUID}, the reference series on ${grid.frameOfReferenceUID}`,
      { file, hint: 'give the series the segmentation was made on' },
    );
  }
  if (seg.rows !== grid.dims[1] || seg.columns !== grid.dims[0]) {
    throw new MedvoxError(
      'GRID_MISMATCH',
      `SEG frames are ${seg.columns}x${seg.rows}, the reference images ${grid.dims[0]}x${grid.dims[1]}`,
      { file, hint: 'give the series the segmentation was made on' },
    );
  }
  const parallel =
    Math.abs(dot(seg.rowCosines, grid.rowCosines)) > 0.9999 &&
    Math.abs(dot(seg.columnCosines, grid.columnCosines)) > 0.9999;
  const sameSense = dot(seg.rowCosines, grid.rowCosines) > 0 && dot(seg.columnCosines, grid.columnCosines) > 0;
  if (!parallel || !sameSense) {
    throw new MedvoxError('GRID_MISMATCH', 'the SEG frames are not in the orientation of the reference images', {
      file,
    });
  }
  const given = new Set(grid.slices.map((slice) => slice.sopInstanceUID));
  const referenced = new Set<string>();
  for (const uids of seg.referencedSeries.values()) for (const uid of uids) if (uid) referenced.add(uid);
  for (const frame of seg.frames) if (frame.sourceSOPInstanceUID) referenced.add(frame.sourceSOPInstanceUID);
  const missing = [...referenced].filter((uid) => !given.has(uid));
  if (missing.length > 0) {
    const frameSources = new Set(seg.frames.map((frame) => frame.sourceSOPInstanceUID).filter(Boolean));
    const missingFrameSources = missing.filter((uid) => frameSources.has(uid));
    if (missingFrameSources.length > 0) {
      throw new MedvoxError(
        'REFERENCE_MISSING',
        `${missingFrameSources.length} of the ${frameSources.size} source images of the SEG frames are not in the reference series (first: ${missingFrameSources[0]})`,
        {
          file,
          hint: "give the series the segmentation was made on, or leave out --reference to use the SEG's own frame positions",
        },
      );
    }
    warnings.push(`${missing.length} referenced instance(s) without frames are not in the reference series`);
  }
  return warnings;
}

export interface MaskOptions {
  /** FRACTIONAL: a pixel belongs to the segment when value / Maximum Fractional Value >= threshold (default 0.5). */
  threshold?: number;
  /** One mask per segment instead of one labelmap (overlapping segments need it). */
  split?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface SegmentMask {
  segmentNumber: number;
  entry: LabelEntry;
  /** 0 / 1 on the grid (i fastest, j = rows-1-r, k). */
  mask: Uint8Array;
  voxels: number;
}

export interface MaskResult {
  /** Label values on the grid (undefined with split). */
  labelmap: Uint8Array | Uint16Array | undefined;
  /** Per-segment masks (split only). */
  masks: SegmentMask[];
  /** Labelled voxels per segment number. */
  voxels: Map<number, number>;
  /** Pairs of overlapping segments with the voxel count (labelmap mode throws on the first one). */
  warnings: string[];
}

/** Decode every frame and place it on `grid` by its plane position. */
export async function segmentationMasks(
  seg: ParsedSegmentation,
  grid: ReferenceGrid,
  options: MaskOptions = {},
): Promise<MaskResult> {
  const [columns, rows, nz] = grid.dims;
  const sliceSize = columns * rows;
  const total = sliceSize * nz;
  const file = seg.file.source;
  const warnings: string[] = [];
  const bySegment = new Map(seg.segments.map((segment) => [segment.segmentNumber, segment]));
  const labelOf = new Map(seg.segments.map((segment) => [segment.segmentNumber, segment.entry.labelValue]));
  const maxLabel = Math.max(...labelOf.values());
  const labelmap = options.split ? undefined : maxLabel > 255 ? new Uint16Array(total) : new Uint8Array(total);
  const masks = new Map<number, Uint8Array>();
  const voxels = new Map<number, number>();
  const threshold = options.threshold ?? 0.5;
  const fractionalCut = threshold * seg.maximumFractionalValue;
  const background = new Set<number>([0]);
  if (seg.pixelPaddingValue !== undefined) background.add(seg.pixelPaddingValue);
  let unknownValues = 0;
  const maskOf = (segmentNumber: number): Uint8Array => {
    let mask = masks.get(segmentNumber);
    if (!mask) {
      mask = new Uint8Array(total);
      masks.set(segmentNumber, mask);
    }
    return mask;
  };
  const overlaps = new Map<string, number>();
  const place = (segmentNumber: number, index: number): void => {
    voxels.set(segmentNumber, (voxels.get(segmentNumber) ?? 0) + 1);
    if (!labelmap) {
      maskOf(segmentNumber)[index] = 1;
      return;
    }
    const label = labelOf.get(segmentNumber)!;
    const previous = labelmap[index]!;
    if (previous !== 0 && previous !== label) {
      const key = `${previous}|${label}`;
      overlaps.set(key, (overlaps.get(key) ?? 0) + 1);
      return;
    }
    labelmap[index] = label;
  };
  for (const [done, frame] of seg.frames.entries()) {
    const k = sliceIndexAt(grid, frame.position);
    if (k === undefined) {
      throw new MedvoxError(
        'GRID_MISMATCH',
        `frame ${frame.index + 1} at (${frame.position.map((v) => v.toFixed(2)).join(', ')}) lies on no slice of the reference grid`,
        { file, hint: 'give the series the segmentation was made on' },
      );
    }
    if (frame.segmentNumber !== undefined && !bySegment.has(frame.segmentNumber)) {
      throw new MedvoxError(
        'BAD_VALUE',
        `frame ${frame.index + 1} refers to segment ${frame.segmentNumber}, which the Segment Sequence does not describe`,
        { file },
      );
    }
    const decoded = await decodeFrame(seg.file, frame.index);
    const pixels = decoded.pixels;
    const base = k * sliceSize;
    for (let r = 0; r < rows; r++) {
      const to = base + (rows - 1 - r) * columns;
      const from = r * columns;
      for (let c = 0; c < columns; c++) {
        const value = Number(pixels[from + c]);
        if (seg.type === 'LABELMAP') {
          if (background.has(value)) continue;
          if (!bySegment.has(value)) {
            unknownValues++;
            continue;
          }
          place(value, to + c);
        } else if (seg.type === 'FRACTIONAL' ? value >= fractionalCut && value > 0 : value !== 0) {
          place(frame.segmentNumber!, to + c);
        }
      }
    }
    options.onProgress?.(done + 1, seg.frames.length);
  }
  if (overlaps.size > 0) {
    const name = (label: number) => seg.segments.find((s) => s.entry.labelValue === label)?.entry.name ?? String(label);
    const list = [...overlaps.entries()].map(([key, count]) => {
      const [a, b] = key.split('|').map(Number) as [number, number];
      return `"${name(a)}" and "${name(b)}" (${count} voxels)`;
    });
    throw new MedvoxError('SEGMENT_OVERLAP', `segments overlap, so one labelmap cannot hold them: ${list.join('; ')}`, {
      file,
      hint: 'use --split to write one mask per segment',
    });
  }
  // With split, every segment gets its mask (empty ones too), so the output names every segment.
  if (!labelmap)
    for (const segment of seg.segments)
      if (!(seg.type === 'LABELMAP' && segment.segmentNumber === 0)) maskOf(segment.segmentNumber);
  if (unknownValues > 0)
    warnings.push(`${unknownValues} LABELMAP pixels hold values no segment describes (read as background)`);
  return {
    labelmap,
    masks: [...masks.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([segmentNumber, mask]) => ({
        segmentNumber,
        entry: bySegment.get(segmentNumber)!.entry,
        mask,
        voxels: voxels.get(segmentNumber) ?? 0,
      })),
    voxels,
    warnings,
  };
}
