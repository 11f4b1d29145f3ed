/**
 * Slice records: one per 2D image plane of a set of DICOM files, whatever the container: a classic single-frame
 * instance, a frame of an enhanced multi-frame instance (per-frame / shared functional groups, PS3.3 C.7.6.16),
 * or a tile of a Siemens mosaic. Volume assembly works on records only.
 */
import type { DicomFile, ReadonlyDataset } from '../dicom/model.ts';
import { add, cross, normalize, scale, type Vec3 } from '../geometry/affine.ts';
import type { SlicePlane } from '../geometry/stack.ts';
import { csaNumbers, parseCsa } from './csa.ts';

/**
 * What slice records read of a file: its header, as the full model (a DicomFile) or as an index over bytes that may
 * be reused for the next file (io/dicom-file.ts HeaderReader; then a record is only read while its header is).
 */
export interface HeaderFile {
  meta: ReadonlyDataset;
  dataset: ReadonlyDataset;
  source?: string;
}

export interface SliceRecord<F extends HeaderFile = DicomFile> {
  file: F;
  frameIndex: number;
  /** For mosaics: the tile index (0-based) and the tiling. */
  tile?: { index: number; perRow: number };
  rows: number;
  columns: number;
  plane: SlicePlane;
  rescaleSlope: number;
  rescaleIntercept: number;
  seriesInstanceUID: string;
  sopInstanceUID: string;
  echoNumber: number | undefined;
  echoTime: number | undefined;
  /** ImageType / FrameType values that distinguish images in one series (magnitude / phase, ...). */
  imageType: string;
  acquisitionNumber: number;
  temporalIndex: number;
  instanceNumber: number;
  acquisitionTime: string;
  /** Spacing to use when a stack has a single slice. */
  sliceSpacing: number;
  /** The image has no Image Position / Orientation (projection radiograph): placed at the origin. */
  noGeometry?: boolean;
}

function vec3(values: number[]): Vec3 | undefined {
  return values.length >= 3 && values.slice(0, 3).every(Number.isFinite)
    ? [values[0]!, values[1]!, values[2]!]
    : undefined;
}

/** The first value of `keyword` in the per-frame item, else in the shared item (functional group macros). */
function groupValue(
  frame: ReadonlyDataset | undefined,
  shared: ReadonlyDataset | undefined,
  sequence: string,
  read: (ds: ReadonlyDataset) => number[],
): number[] {
  for (const group of [frame, shared]) {
    const item = group?.items(sequence)[0];
    if (item) {
      const values = read(item);
      if (values.length > 0) return values;
    }
  }
  return [];
}

/** Image types that never share a volume: magnitude / phase / real / imaginary / field map (as dcm2niix splits). */
const IMAGE_KINDS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^(P|PHASE|PHASE MAP)$/, 'P'],
  [/^(R|REAL)$/, 'R'],
  [/^(I|IMAGINARY)$/, 'I'],
  [/^(FIELD_MAP|B0)$/, 'FIELD_MAP'],
  [/^(M|MAGNITUDE)$/, 'M'],
];

function imageTypeKey(ds: ReadonlyDataset, frameType?: string[]): string {
  const values = (frameType ?? ds.strings('ImageType')).slice(2).map((value) => value.toUpperCase());
  // Other values (AXIAL, ADD, FFE, ...) vary within one acquisition and do not split it.
  for (const [pattern, kind] of IMAGE_KINDS) if (values.some((value) => pattern.test(value))) return kind;
  return '';
}

/**
 * Philips "precise" (floating point) values, as dcm2niix writes them by default: FP = (SV * RS + RI) / (RS * SS),
 * with SS the private Scale Slope (2005,100E). Field maps in Hz keep the displayed (RS / RI) scaling, as dcm2niix.
 */
function philipsScaling(
  ds: ReadonlyDataset,
  privateItem: ReadonlyDataset | undefined,
  slope: number,
  intercept: number,
  imageType: string,
): [number, number] {
  if (!(ds.string('Manufacturer') ?? '').toUpperCase().startsWith('PHILIPS')) return [slope, intercept];
  if (/FIELD_MAP|B0/.test(imageType)) return [slope, intercept];
  const scaleSlope = (privateItem ?? ds).number(0x2005100e);
  if (!scaleSlope || !Number.isFinite(scaleSlope)) return [slope, intercept];
  return [1 / scaleSlope, intercept / (slope * scaleSlope)];
}

/**
 * Series Instance UID, or for files whose UIDs were blanked (seen in anonymised data) the attributes that still
 * tell the series apart: Frame of Reference, Series Number, description, modality.
 */
export function seriesIdentity(file: HeaderFile): string {
  const ds = file.dataset;
  const uid = ds.string('SeriesInstanceUID');
  if (uid) return uid;
  const parts = [
    ds.string('FrameOfReferenceUID'),
    ds.string('SeriesNumber'),
    ds.string('SeriesDescription'),
    ds.string('Modality'),
  ];
  return ['no-series-uid', ...parts].join('|');
}

export function sliceRecords<F extends HeaderFile>(file: F): SliceRecord<F>[] {
  const ds = file.dataset;
  const rows = ds.number('Rows');
  const columns = ds.number('Columns');
  if (!rows || !columns) return [];
  const common = {
    file,
    seriesInstanceUID: seriesIdentity(file),
    sopInstanceUID: ds.string('SOPInstanceUID') ?? file.meta.string('MediaStorageSOPInstanceUID') ?? '',
    acquisitionNumber: ds.number('AcquisitionNumber') ?? 0,
    instanceNumber: ds.number('InstanceNumber') ?? 0,
    acquisitionTime: ds.string('AcquisitionTime') ?? ds.string('ContentTime') ?? '',
  };
  const perFrame = ds.items('PerFrameFunctionalGroupsSequence');
  const shared = ds.items('SharedFunctionalGroupsSequence')[0];
  if (perFrame.length > 0) {
    return perFrame.flatMap((frame, frameIndex): SliceRecord<F>[] => {
      const position = vec3(
        groupValue(frame, shared, 'PlanePositionSequence', (item) => item.numbers('ImagePositionPatient')),
      );
      const orientation = groupValue(frame, shared, 'PlaneOrientationSequence', (item) =>
        item.numbers('ImageOrientationPatient'),
      );
      const spacing = groupValue(frame, shared, 'PixelMeasuresSequence', (item) => item.numbers('PixelSpacing'));
      if (!position || orientation.length < 6 || spacing.length < 2) return [];
      const thickness =
        groupValue(frame, shared, 'PixelMeasuresSequence', (item) => item.numbers('SpacingBetweenSlices'))[0] ??
        groupValue(frame, shared, 'PixelMeasuresSequence', (item) => item.numbers('SliceThickness'))[0] ??
        1;
      const slope =
        groupValue(frame, shared, 'PixelValueTransformationSequence', (item) => item.numbers('RescaleSlope'))[0] ??
        ds.number('RescaleSlope') ??
        1;
      const intercept =
        groupValue(frame, shared, 'PixelValueTransformationSequence', (item) => item.numbers('RescaleIntercept'))[0] ??
        ds.number('RescaleIntercept') ??
        0;
      const echoTime = groupValue(frame, shared, 'MREchoSequence', (item) => item.numbers('EffectiveEchoTime'))[0];
      const content = frame.items('FrameContentSequence')[0];
      const frameType = (
        frame.items('MRImageFrameTypeSequence')[0] ??
        frame.items('CTImageFrameTypeSequence')[0] ??
        shared?.items('MRImageFrameTypeSequence')[0]
      )?.strings('FrameType');
      const imageType = imageTypeKey(ds, frameType && frameType.length > 0 ? frameType : undefined);
      let [rescaleSlope, rescaleIntercept] = philipsScaling(
        ds,
        frame.items(0x2005140f)[0],
        slope,
        intercept,
        imageType,
      );
      // Field maps: the Real World Value Mapping (Hz) is the quantity, as dcm2niix writes it (PS3.3 C.7.6.16.2.11).
      const realWorld =
        frame.items('RealWorldValueMappingSequence')[0] ?? shared?.items('RealWorldValueMappingSequence')[0];
      const realWorldSlope = realWorld?.number('RealWorldValueSlope');
      if (/FIELD_MAP|B0/.test(imageType) && realWorldSlope !== undefined) {
        rescaleSlope = realWorldSlope;
        rescaleIntercept = realWorld?.number('RealWorldValueIntercept') ?? 0;
      }
      return [
        {
          ...common,
          frameIndex,
          rows,
          columns,
          plane: {
            position,
            rowCosines: normalize(orientation.slice(0, 3)),
            columnCosines: normalize(orientation.slice(3, 6)),
            pixelSpacing: [spacing[0]!, spacing[1]!],
          },
          rescaleSlope,
          rescaleIntercept,
          echoNumber: ds.number('EchoNumbers'),
          echoTime: echoTime ?? ds.number('EchoTime'),
          imageType,
          temporalIndex: content?.number('TemporalPositionIndex') ?? 0,
          sliceSpacing: thickness,
        },
      ];
    });
  }
  const position = vec3(ds.numbers('ImagePositionPatient'));
  const orientation = ds.numbers('ImageOrientationPatient');
  const spacing = ds.numbers('PixelSpacing');
  // Projection images (CR, DX, secondary captures) have no patient geometry: dcm2niix places them at the origin
  // with an identity orientation, and so do we (the volume says so in its warnings).
  const noGeometry = !ds.has(0x00200032) && !ds.has(0x00200037);
  if (noGeometry) return sliceRecordsWithoutGeometry(file, ds, common, rows, columns);
  if (!position || orientation.length < 6 || !orientation.every(Number.isFinite)) return [];
  const pixelSpacing: [number, number] =
    spacing.length >= 2 && spacing.every((value) => Number.isFinite(value) && value > 0)
      ? [spacing[0]!, spacing[1]!]
      : [1, 1];
  const imageType = imageTypeKey(ds);
  const [rescaleSlope, rescaleIntercept] = philipsScaling(
    ds,
    undefined,
    ds.number('RescaleSlope') ?? 1,
    ds.number('RescaleIntercept') ?? 0,
    imageType,
  );
  const base: SliceRecord<F> = {
    ...common,
    frameIndex: 0,
    rows,
    columns,
    plane: {
      position,
      rowCosines: normalize(orientation.slice(0, 3)),
      columnCosines: normalize(orientation.slice(3, 6)),
      pixelSpacing,
    },
    rescaleSlope,
    rescaleIntercept,
    echoNumber: ds.number('EchoNumbers'),
    echoTime: ds.number('EchoTime'),
    imageType,
    temporalIndex: ds.number('TemporalPositionIdentifier') ?? 0,
    sliceSpacing: ds.number('SpacingBetweenSlices') ?? ds.number('SliceThickness') ?? 1,
  };
  const mosaic = mosaicTiles(ds, base);
  if (mosaic) return mosaic;
  const frames = ds.number('NumberOfFrames') ?? 1;
  if (frames > 1) {
    // Multi-frame without functional groups (e.g. NM, US): frames share one plane; only frame 0 is placed.
    return Array.from({ length: frames }, (_, frameIndex) => ({ ...base, frameIndex, temporalIndex: frameIndex }));
  }
  return [base];
}

/**
 * Siemens mosaic: N tiles of (rows/perRow) x (columns/perRow) in one image. The header position is the corner of
 * the whole mosaic; the first tile's corner is shifted by half the unused mosaic size (as dcm2niix corrects it),
 * and tile t lies t slice steps along the CSA SliceNormalVector.
 */
function mosaicTiles<F extends HeaderFile>(ds: ReadonlyDataset, base: SliceRecord<F>): SliceRecord<F>[] | undefined {
  if (!ds.strings('ImageType').some((value) => value.toUpperCase() === 'MOSAIC')) return undefined;
  const csaBytes = ds.get(0x00291010)?.bytes;
  const csa = csaBytes ? parseCsa(csaBytes) : undefined;
  const count = csaNumbers(csa, 'NumberOfImagesInMosaic')[0] ?? ds.number(0x0019100a);
  if (!count || count < 1) return undefined;
  const perRow = Math.ceil(Math.sqrt(count));
  const rows = base.rows / perRow;
  const columns = base.columns / perRow;
  if (!Number.isInteger(rows) || !Number.isInteger(columns)) return undefined;
  const { rowCosines: X, columnCosines: Y, pixelSpacing } = base.plane;
  const [dr, dc] = pixelSpacing;
  const corner = add(
    base.plane.position,
    add(scale(X, (dc * (base.columns - columns)) / 2), scale(Y, (dr * (base.rows - rows)) / 2)),
  );
  const csaNormal = csaNumbers(csa, 'SliceNormalVector');
  const normal = csaNormal.length === 3 ? normalize(csaNormal) : normalize(cross(X, Y));
  const spacing = base.sliceSpacing;
  return Array.from({ length: count }, (_, index) => ({
    ...base,
    rows,
    columns,
    tile: { index, perRow },
    plane: { ...base.plane, position: add(corner, scale(normal, index * spacing)) },
  }));
}

function sliceRecordsWithoutGeometry<F extends HeaderFile>(
  file: F,
  ds: ReadonlyDataset,
  common: Pick<
    SliceRecord<F>,
    'file' | 'seriesInstanceUID' | 'sopInstanceUID' | 'acquisitionNumber' | 'instanceNumber' | 'acquisitionTime'
  >,
  rows: number,
  columns: number,
): SliceRecord<F>[] {
  const spacing =
    ds.numbers('PixelSpacing').length >= 2 ? ds.numbers('PixelSpacing') : ds.numbers('ImagerPixelSpacing');
  const pixelSpacing: [number, number] =
    spacing.length >= 2 && spacing.every((value) => Number.isFinite(value) && value > 0)
      ? [spacing[0]!, spacing[1]!]
      : [1, 1];
  const frames = ds.number('NumberOfFrames') ?? 1;
  return Array.from({ length: Math.max(1, frames) }, (_, frameIndex) => ({
    ...common,
    file,
    frameIndex,
    rows,
    columns,
    plane: {
      position: [0, 0, frameIndex] as Vec3,
      rowCosines: [1, 0, 0] as Vec3,
      columnCosines: [0, 1, 0] as Vec3,
      pixelSpacing,
    },
    rescaleSlope: ds.number('RescaleSlope') ?? 1,
    rescaleIntercept: ds.number('RescaleIntercept') ?? 0,
    echoNumber: undefined,
    echoTime: undefined,
    imageType: imageTypeKey(ds),
    temporalIndex: 0,
    sliceSpacing: 1,
    noGeometry: true,
  }));
}
