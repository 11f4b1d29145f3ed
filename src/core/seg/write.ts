/**
 * Labelmap -> DICOM Segmentation (PS3.3 A.51, C.8.20): BINARY (one segment per label, 1-bit frames packed
 * continuously across frames, first pixel in the least significant bit: PS3.5 8.1.1) or LABELMAP (Supplement 243:
 * one 8 / 16-bit frame per slice whose pixel values are the segment numbers). Frames carry their own plane position
 * and their source image (Derivation Image); empty frames are left out unless asked for, while the Referenced
 * Series Sequence lists every slice of the reference, so a reader given the source series restores the full extent.
 */
import { tagOf } from '../dicom/dictionary.ts';
import { type DataElement, Dataset, type DicomFile, TransferSyntax } from '../dicom/model.ts';
import { generateUid } from '../dicom/uid.ts';
import { encodedSequence, encodeElements } from '../dicom/writer.ts';
import { MedvoxError } from '../errors.ts';
import type { LabelEntry, LabelTableSeries } from '../labels/label-table.ts';
import { binaryPixelData, type LabelmapScan, packBinaryFrames, scanLabelmap } from './encode.ts';
import type { ReferenceGrid } from './reference.ts';
import { codeItem, segmentItem } from './segments.ts';

export const SEGMENTATION_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.66.4';
export const LABEL_MAP_SEGMENTATION_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.66.7';

export type WritableSegmentationType = 'BINARY' | 'LABELMAP';

export interface SegmentationInput {
  grid: ReferenceGrid;
  /**
   * Label values on the grid, voxel order of the grid (i fastest, j = rows-1-r, k). Not needed for a BINARY SEG
   * whose `encoded` scan has the runs (io/mask-scan.ts scans a mask file without holding it).
   */
  labelmap?: Uint8Array | Uint16Array;
  /** Entries of the label values present (sorted by label value); values without an entry are an error. */
  segments: readonly LabelEntry[];
  type?: WritableSegmentationType;
  /** Write frames without any labelled pixel too (default: skipped). */
  keepEmptyFrames?: boolean;
  series?: LabelTableSeries;
  seriesInstanceUID?: string;
  sopInstanceUID?: string;
  /** Creation time (default now). */
  now?: Date;
  softwareVersion?: string;
  /** The labelmap already scanned (encode.ts), so callers that needed its labels do not pay twice. */
  encoded?: LabelmapScan;
  /**
   * BINARY: leave the Pixel Data as a value produced on demand (DataElement.deferred) when the scan kept the
   * labelmap's runs, so that a writer packs it chunk by chunk as it writes (writeDicomParts + writeFileAtomic)
   * instead of holding it whole. Default: the bytes.
   */
  deferPixelData?: boolean;
}

export interface SegmentationOutput {
  file: DicomFile;
  frames: number;
  /** Things a person should know (UIDs that had to be made up, ...). */
  warnings: string[];
}

const CHARSET = ['ISO_IR 192'];
const PIXEL_DATA = 0x7fe00010;

function dateTime(now: Date): { date: string; time: string } {
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  return {
    date: `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}`,
    time: `${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`,
  };
}

/** Patient / study attributes copied from the source (PS3.3 C.7.1.1, C.7.2.1, C.7.2.2), when present. */
const COPIED = [
  'PatientName',
  'PatientID',
  'IssuerOfPatientID',
  'PatientBirthDate',
  'PatientSex',
  'PatientAge',
  'PatientSize',
  'PatientWeight',
  'PatientIdentityRemoved',
  'DeidentificationMethod',
  'StudyDate',
  'StudyTime',
  'AccessionNumber',
  'ReferringPhysicianName',
  'StudyID',
  'StudyDescription',
  'PositionReferenceIndicator',
];
/** Type 2 attributes of those modules: present (empty) even when the source lacks them. */
const TYPE2 = [
  'PatientName',
  'PatientID',
  'PatientBirthDate',
  'PatientSex',
  'StudyDate',
  'StudyTime',
  'AccessionNumber',
  'ReferringPhysicianName',
  'StudyID',
  'PositionReferenceIndicator',
];

/** A DICOM CS value: upper case, [A-Z0-9 _], at most 16 characters (Content Label). */
function codeString(text: string): string {
  const value = text
    .toUpperCase()
    .replace(/[^A-Z0-9 _]/g, '_')
    .slice(0, 16)
    .trim();
  return value === '' ? 'SEGMENTATION' : value;
}

export function buildSegmentation(input: SegmentationInput): SegmentationOutput {
  const { grid } = input;
  const type = input.type ?? 'BINARY';
  const [columns, rows, nz] = grid.dims;
  const sliceSize = rows * columns;
  const labelmap = (): Uint8Array | Uint16Array => {
    if (!input.labelmap) throw new MedvoxError('INTERNAL', `a ${type} SEG without runs needs the labelmap`);
    return input.labelmap;
  };
  if (input.labelmap && input.labelmap.length !== sliceSize * nz) {
    throw new MedvoxError(
      'GRID_MISMATCH',
      `labelmap has ${input.labelmap.length} voxels, the grid ${columns}x${rows}x${nz}`,
    );
  }
  const warnings: string[] = [];
  const segments = [...input.segments].sort((a, b) => a.labelValue - b.labelValue);
  const encoded = input.encoded ?? scanLabelmap(labelmap(), grid.dims);
  const described = new Set(segments.map((entry) => entry.labelValue));
  const unknown = encoded.labelValues.filter((value) => !described.has(value));
  if (unknown.length > 0)
    throw new MedvoxError('LABEL_NOT_IN_TABLE', `label values without a segment: ${unknown.join(', ')}`);
  const frames: Array<{ segment: number; k: number }> = [];
  if (type === 'BINARY') {
    segments.forEach((entry, s) => {
      const flags = encoded.slices.get(entry.labelValue);
      for (let k = 0; k < nz; k++) if (input.keepEmptyFrames || flags?.[k]) frames.push({ segment: s, k });
    });
  } else {
    for (let k = 0; k < nz; k++) {
      const any = encoded.labelValues.some((value) => encoded.slices.get(value)![k] === 1);
      if (any || input.keepEmptyFrames) frames.push({ segment: -1, k });
    }
  }
  if (frames.length === 0) throw new MedvoxError('EMPTY_MASK', 'the mask has no labelled voxel');

  const now = input.now ?? new Date();
  const { date, time } = dateTime(now);
  const source = grid.first.dataset;
  const ds = new Dataset(CHARSET);
  ds.setStrings('SpecificCharacterSet', CHARSET);
  for (const keyword of COPIED) {
    const element = source.get(tagOf(keyword));
    if (element?.bytes) ds.setStrings(keyword, source.strings(keyword));
  }
  for (const keyword of TYPE2) if (!ds.has(tagOf(keyword))) ds.setStrings(keyword, '');

  const uid = (value: string | undefined, keyword: string, fallback: () => string): string => {
    if (value) return value;
    const made = fallback();
    warnings.push(`${keyword} is empty in the source: ${made} written (the SEG cannot name the original)`);
    return made;
  };
  const studyUid = uid(grid.studyInstanceUID, 'StudyInstanceUID', () => generateUid());
  const frameOfReferenceUid = uid(grid.frameOfReferenceUID, 'FrameOfReferenceUID', () => generateUid());
  const referencedSeriesUid = uid(grid.seriesInstanceUID, 'SeriesInstanceUID', () => generateUid());
  const sopClassFallback = grid.first.meta.string('MediaStorageSOPClassUID') ?? '1.2.840.10008.5.1.4.1.1.7';
  const sourceSop = grid.slices.map((slice, k) => ({
    sopClassUID: slice.sopClassUID || sopClassFallback,
    sopInstanceUID: slice.sopInstanceUID || generateUid(`${referencedSeriesUid}/${k}`),
    frameNumber: slice.frameNumber,
  }));
  if (grid.slices.some((slice) => !slice.sopInstanceUID))
    warnings.push('some source SOP Instance UIDs are empty: generated UIDs are referenced instead');

  const series = input.series ?? {};
  const sopInstanceUid = input.sopInstanceUID ?? generateUid();
  ds.setStrings('ImageType', ['DERIVED', 'PRIMARY'])
    .setStrings('InstanceCreationDate', date)
    .setStrings('InstanceCreationTime', time)
    .setStrings('SOPClassUID', type === 'LABELMAP' ? LABEL_MAP_SEGMENTATION_SOP_CLASS : SEGMENTATION_SOP_CLASS)
    .setStrings('SOPInstanceUID', sopInstanceUid)
    .setStrings('SeriesDate', date)
    .setStrings('SeriesTime', time)
    .setStrings('ContentDate', date)
    .setStrings('ContentTime', time)
    .setStrings('Modality', 'SEG')
    .setStrings('Manufacturer', 'medvox')
    .setStrings('SeriesDescription', series.seriesDescription ?? 'Segmentation')
    .setStrings('ManufacturerModelName', 'medvox')
    .setStrings('DeviceSerialNumber', '1')
    .setStrings('SoftwareVersions', input.softwareVersion ?? '0.1.0')
    .setStrings('StudyInstanceUID', studyUid)
    .setStrings('SeriesInstanceUID', input.seriesInstanceUID ?? generateUid())
    .setStrings('SeriesNumber', String(series.seriesNumber ?? 300))
    .setStrings('InstanceNumber', String(series.instanceNumber ?? 1))
    .setStrings('FrameOfReferenceUID', frameOfReferenceUid)
    .setStrings('ContentLabel', codeString(series.contentLabel ?? 'SEGMENTATION'))
    .setStrings('ContentDescription', series.contentDescription ?? '')
    .setStrings('ContentCreatorName', series.contentCreatorName ?? '')
    .setNumbers('SamplesPerPixel', 1)
    .setStrings('PhotometricInterpretation', 'MONOCHROME2')
    .setNumbers('NumberOfFrames', frames.length, 'IS')
    .setNumbers('Rows', rows)
    .setNumbers('Columns', columns)
    .setNumbers('PixelRepresentation', 0)
    .setStrings('LossyImageCompression', '00')
    .setStrings('SegmentationType', type);
  const bodyPart = series.bodyPartExamined ?? source.string('BodyPartExamined');
  if (bodyPart) ds.setStrings('BodyPartExamined', bodyPart.toUpperCase().slice(0, 16));
  if (series.clinicalTrialSeriesId) ds.setStrings('ClinicalTrialSeriesID', series.clinicalTrialSeriesId);
  if (series.clinicalTrialTimePointId) ds.setStrings('ClinicalTrialTimePointID', series.clinicalTrialTimePointId);
  if (series.clinicalTrialCoordinatingCenterName)
    ds.setStrings('ClinicalTrialCoordinatingCenterName', series.clinicalTrialCoordinatingCenterName);

  // Segments: BINARY numbers run 1..n (C.8.20.2.4); LABELMAP numbers are the pixel values.
  ds.setItems(
    'SegmentSequence',
    segments.map((entry, index) => segmentItem(entry, type === 'BINARY' ? index + 1 : entry.labelValue, CHARSET)),
  );

  // Common Instance Reference (C.12.2): every slice of the reference, so that the full extent is known.
  const instances = new Map<string, Dataset>();
  for (const sop of sourceSop) {
    if (instances.has(sop.sopInstanceUID)) continue;
    const item = new Dataset(CHARSET);
    item
      .setStrings('ReferencedSOPClassUID', sop.sopClassUID)
      .setStrings('ReferencedSOPInstanceUID', sop.sopInstanceUID);
    instances.set(sop.sopInstanceUID, item);
  }
  const referencedSeries = new Dataset(CHARSET);
  referencedSeries.setItems('ReferencedInstanceSequence', [...instances.values()]);
  referencedSeries.setStrings('SeriesInstanceUID', referencedSeriesUid);
  ds.setItems('ReferencedSeriesSequence', [referencedSeries]);

  // Multi-frame Dimension Module (C.7.6.17): segment (BINARY) then position.
  const organisation = generateUid();
  const dimension = (pointer: number, group: number, label: string): Dataset => {
    const item = new Dataset(CHARSET);
    item.setStrings('DimensionOrganizationUID', organisation);
    item.setNumbers('DimensionIndexPointer', pointer, 'AT');
    item.setNumbers('FunctionalGroupPointer', group, 'AT');
    item.setStrings('DimensionDescriptionLabel', label);
    return item;
  };
  const organisationItem = new Dataset(CHARSET);
  organisationItem.setStrings('DimensionOrganizationUID', organisation);
  ds.setItems('DimensionOrganizationSequence', [organisationItem]);
  ds.setItems('DimensionIndexSequence', [
    ...(type === 'BINARY' ? [dimension(0x0062000b, 0x0062000a, 'ReferencedSegmentNumber')] : []),
    dimension(0x00200032, 0x00209113, 'ImagePositionPatient'),
  ]);

  // Shared functional groups: orientation and pixel measures of the reference.
  const shared = new Dataset(CHARSET);
  const measures = new Dataset(CHARSET);
  measures.setNumbers('PixelSpacing', grid.pixelSpacing, 'DS');
  measures.setNumbers('SliceThickness', grid.sliceThickness ?? grid.sliceSpacing, 'DS');
  const uneven = grid.warnings.some((w) => w.kind === 'UNEVEN_SPACING' || w.kind === 'MISSING_SLICES');
  if (!uneven && nz > 1) measures.setNumbers('SpacingBetweenSlices', grid.sliceSpacing, 'DS');
  shared.setItems('PixelMeasuresSequence', [measures]);
  const orientation = new Dataset(CHARSET);
  orientation.setNumbers('ImageOrientationPatient', [...grid.rowCosines, ...grid.columnCosines], 'DS');
  shared.setItems('PlaneOrientationSequence', [orientation]);
  ds.setItems('SharedFunctionalGroupsSequence', [shared]);

  // Per-frame functional groups.
  const derivationCode = codeItem(
    { CodeValue: '113076', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Segmentation' },
    CHARSET,
  );
  const purposeCode = codeItem(
    { CodeValue: '121322', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Source image for image processing operation' },
    CHARSET,
  );
  // The sequences a frame's item repeats from its slice and its segment (perFrameGroups encodes each once).
  const sequence = (keyword: string, item: Dataset): DataElement => ({ tag: tagOf(keyword), vr: 'SQ', items: [item] });
  const sliceSequences = (k: number): { derivation: DataElement; position: DataElement } => {
    const sop = sourceSop[k]!;
    const sourceImage = new Dataset(CHARSET);
    sourceImage
      .setStrings('ReferencedSOPClassUID', sop.sopClassUID)
      .setStrings('ReferencedSOPInstanceUID', sop.sopInstanceUID);
    if (sop.frameNumber !== undefined) sourceImage.setNumbers('ReferencedFrameNumber', sop.frameNumber, 'IS');
    sourceImage.setItems('PurposeOfReferenceCodeSequence', [purposeCode]);
    const derivation = new Dataset(CHARSET);
    derivation.setItems('DerivationCodeSequence', [derivationCode]);
    derivation.setItems('SourceImageSequence', [sourceImage]);
    const position = new Dataset(CHARSET);
    position.setNumbers('ImagePositionPatient', grid.slices[k]!.position, 'DS');
    return {
      derivation: sequence('DerivationImageSequence', derivation),
      position: sequence('PlanePositionSequence', position),
    };
  };
  const segmentIdentification = (segment: number): DataElement =>
    sequence('SegmentIdentificationSequence', new Dataset(CHARSET).setNumbers('ReferencedSegmentNumber', segment + 1));
  ds.set(perFrameGroups(frames, type, sliceSequences, segmentIdentification));

  if (type === 'BINARY') {
    ds.setNumbers('BitsAllocated', 1).setNumbers('BitsStored', 1).setNumbers('HighBit', 0);
    if (encoded.runs) {
      const pixels = binaryPixelData(
        encoded,
        grid.dims,
        frames.map(({ segment, k }) => ({ label: segments[segment]!.labelValue, k })),
      );
      if (input.deferPixelData) ds.set({ tag: PIXEL_DATA, vr: 'OB', deferred: pixels });
      else ds.setBytes('PixelData', pixels.read(), 'OB');
    } else {
      const frameIndex = new Map<number, Int32Array>();
      frames.forEach(({ segment, k }, f) => {
        const label = segments[segment]!.labelValue;
        let list = frameIndex.get(label);
        if (!list) {
          list = new Int32Array(nz).fill(-1);
          frameIndex.set(label, list);
        }
        list[k] = f;
      });
      const pixels = packBinaryFrames(labelmap(), grid.dims, frames.length, (label, k) => frameIndex.get(label)![k]!);
      ds.setBytes('PixelData', pixels, 'OB');
    }
  } else {
    const max = segments.reduce((m, entry) => Math.max(m, entry.labelValue), 0);
    const bits = max > 255 ? 16 : 8;
    ds.setNumbers('BitsAllocated', bits)
      .setNumbers('BitsStored', bits)
      .setNumbers('HighBit', bits - 1);
    // Supplement 243: the background is the Pixel Padding Value.
    ds.setNumbers('PixelPaddingValue', 0, 'US');
    ds.setBytes('PixelData', labelmapFrames(labelmap(), frames, grid, bits), bits === 16 ? 'OW' : 'OB');
  }
  const meta = new Dataset();
  return {
    file: { meta, dataset: ds, transferSyntaxUID: TransferSyntax.ExplicitVRLittleEndian, hasPreamble: true },
    frames: frames.length,
    warnings,
  };
}

/**
 * The Per-frame Functional Groups Sequence of `frames`, its items assembled from encoded pieces (writer.ts
 * encodedSequence): a frame's item is its slice's Derivation Image and Plane Position sequences and its segment's
 * Segment Identification sequence, each encoded once, and a Frame Content sequence holding its Dimension Index
 * Values (a copy of one encoded sequence, its values set). The bytes are those the writer gives for the same items
 * as datasets; building and encoding 1,380 item datasets instead took ~30 ms of a 20-label `seg create`.
 */
function perFrameGroups(
  frames: ReadonlyArray<{ segment: number; k: number }>,
  type: WritableSegmentationType,
  sliceSequences: (k: number) => { derivation: DataElement; position: DataElement },
  segmentIdentification: (segment: number) => DataElement,
): DataElement {
  // The slices and segments the frames show, their sequences encoded in one go.
  const slices = [...new Set(frames.map(({ k }) => k))];
  const segments = type === 'BINARY' ? [...new Set(frames.map(({ segment }) => segment))] : [];
  const indexValues = type === 'BINARY' ? 2 : 1;
  const content = new Dataset(CHARSET).setNumbers('DimensionIndexValues', new Array(indexValues).fill(0), 'UL');
  const encoded = encodeElements([
    { tag: tagOf('FrameContentSequence'), vr: 'SQ', items: [content] },
    ...slices.flatMap((k) => {
      const { derivation, position } = sliceSequences(k);
      return [derivation, position];
    }),
    ...segments.map(segmentIdentification),
  ]);
  const contentTemplate = encoded[0]!;
  const perSlice = new Map(slices.map((k, n) => [k, [encoded[1 + 2 * n]!, encoded[2 + 2 * n]!] as const]));
  const perSegment = new Map(segments.map((segment, n) => [segment, encoded[1 + 2 * slices.length + n]!]));
  // The UL value comes right before the Frame Content item's and sequence's 8-byte delimiters. Every frame's copy
  // lies in one buffer (not a small buffer each).
  const size = contentTemplate.length;
  const valuesAt = size - 16 - 4 * indexValues;
  const contents = new Uint8Array(size * frames.length);
  const values = new DataView(contents.buffer);
  const items = frames.map(({ segment, k }, f) => {
    const [derivation, position] = perSlice.get(k)!;
    const frameContent = contents.subarray(f * size, (f + 1) * size);
    frameContent.set(contentTemplate);
    if (type === 'BINARY') values.setUint32(f * size + valuesAt, segment + 1, true);
    values.setUint32(f * size + valuesAt + 4 * (indexValues - 1), k + 1, true);
    return type === 'BINARY'
      ? [derivation, frameContent, position, perSegment.get(segment)!]
      : [derivation, frameContent, position];
  });
  return encodedSequence(tagOf('PerFrameFunctionalGroupsSequence'), items);
}

/** LABELMAP Pixel Data: each frame is slice k with rows back in DICOM order, values = segment numbers. */
function labelmapFrames(
  labelmap: Uint8Array | Uint16Array,
  frames: ReadonlyArray<{ k: number }>,
  grid: ReferenceGrid,
  bits: 8 | 16,
): Uint8Array {
  const [columns, rows] = grid.dims;
  const sliceSize = rows * columns;
  const target = bits === 8 ? new Uint8Array(sliceSize * frames.length) : new Uint16Array(sliceSize * frames.length);
  frames.forEach(({ k }, f) => {
    for (let r = 0; r < rows; r++) {
      const from = k * sliceSize + (rows - 1 - r) * columns;
      target.set(labelmap.subarray(from, from + columns), f * sliceSize + r * columns);
    }
  });
  const bytes = new Uint8Array(target.buffer, target.byteOffset, target.byteLength);
  return bytes.length % 2 === 0 ? bytes : padEven(bytes);
}

function padEven(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}
