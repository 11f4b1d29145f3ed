/**
 * RT Structure Set objects (PS3.3 A.19) as medvox reads them: the ROIs of the Structure Set module (C.8.8.5) with
 * their contours (ROI Contour module, C.8.8.6) and the images the object says it refers to (Referenced Frame of
 * Reference Sequence, C.8.8.5.1). Contour points are LPS patient coordinates in mm (PS3.3 C.8.8.6.1).
 */
import type { Dataset, DicomFile } from '../dicom/model.ts';
import { MedvoxError } from '../errors.ts';

export const RT_STRUCTURE_SET_STORAGE = '1.2.840.10008.5.1.4.1.1.481.3';

export type ContourGeometricType = 'POINT' | 'OPEN_PLANAR' | 'OPEN_NONPLANAR' | 'CLOSED_PLANAR' | string;

export interface Contour {
  geometricType: ContourGeometricType;
  /** x, y, z triplets in LPS mm. */
  points: Float64Array;
  /** Contour Image Sequence: the image(s) the contour was drawn on (optional, Type 3). */
  referencedSOPInstanceUIDs: string[];
}

export type RGB = [number, number, number];

export interface StructureSetROI {
  /** ROI Number (3006,0022): unique within the structure set. */
  number: number;
  name: string;
  /** ROI Display Color (3006,002A), when present. */
  color: RGB | undefined;
  frameOfReferenceUID: string | undefined;
  generationAlgorithm: string | undefined;
  /** RT ROI Interpreted Type (3006,00A4) from the RT ROI Observations module, when present. */
  interpretedType: string | undefined;
  contours: Contour[];
}

export interface StructureSet {
  sopInstanceUID: string | undefined;
  label: string | undefined;
  /** Frame of Reference UIDs the object refers to (Referenced Frame of Reference Sequence and the ROIs'). */
  frameOfReferenceUIDs: string[];
  /** Series Instance UIDs of RT Referenced Series Sequence. */
  referencedSeriesUIDs: string[];
  /** Every SOP Instance UID the object names: Contour Image Sequences of the series and of the contours. */
  referencedSOPInstanceUIDs: Set<string>;
  /** In Structure Set ROI Sequence order. */
  rois: StructureSetROI[];
  /** Defects tolerated while reading (ROI Contour items naming no ROI, contours with a bad point count ...). */
  warnings: string[];
}

function rgb(values: number[]): RGB | undefined {
  if (values.length < 3 || !values.slice(0, 3).every((v) => Number.isFinite(v))) return undefined;
  return [values[0]!, values[1]!, values[2]!].map((v) => Math.max(0, Math.min(255, Math.round(v)))) as RGB;
}

/**
 * Contour Data (DS, VM 3-3n) as numbers in one pass over the text: the generic value decoder costs ~10x more on
 * large structure sets. Padding (spaces, a NUL) is ignored; an empty or non-numeric value gives NaN.
 */
function contourData(item: Dataset): Float64Array {
  const bytes = item.get(CONTOUR_DATA)?.bytes;
  if (!bytes || bytes.length === 0) return new Float64Array(0);
  // DS is ASCII digits, sign, point, exponent: any single-byte decoder reads it the same way.
  const text = ASCII.decode(bytes).replace(/[\0 ]+$/, '');
  if (text === '') return new Float64Array(0);
  const values = text.split('\\');
  const out = new Float64Array(values.length);
  // Number() ignores surrounding spaces; an empty value is missing (NaN), not 0.
  for (let v = 0; v < values.length; v++) {
    const value = Number(values[v]);
    out[v] = value === 0 && values[v]!.trim() === '' ? Number.NaN : value;
  }
  return out;
}

const ASCII = new TextDecoder('latin1');

/** (3006,0050) Contour Data. */
const CONTOUR_DATA = 0x30060050;

function contourImageUIDs(item: Dataset): string[] {
  return item
    .items('ContourImageSequence')
    .map((image) => image.string('ReferencedSOPInstanceUID'))
    .filter((uid): uid is string => uid !== undefined);
}

/** Read the structure set of an RTSTRUCT file. Not an RT Structure Set: UNSUPPORTED_SOP_CLASS. */
export function readStructureSet(file: DicomFile): StructureSet {
  const ds = file.dataset;
  const sopClass = ds.string('SOPClassUID') ?? file.meta.string('MediaStorageSOPClassUID');
  if (sopClass !== RT_STRUCTURE_SET_STORAGE && ds.string('Modality') !== 'RTSTRUCT') {
    throw new MedvoxError('UNSUPPORTED_SOP_CLASS', `not an RT Structure Set (SOP Class ${sopClass ?? 'missing'})`, {
      file: file.source,
      hint: 'give the RTSTRUCT file (Modality RTSTRUCT, SOP Class 1.2.840.10008.5.1.4.1.1.481.3)',
    });
  }
  const warnings: string[] = [];
  const frameOfReferenceUIDs = new Set<string>();
  const referencedSeriesUIDs: string[] = [];
  const referencedSOPInstanceUIDs = new Set<string>();
  for (const frame of ds.items('ReferencedFrameOfReferenceSequence')) {
    const uid = frame.string('FrameOfReferenceUID');
    if (uid) frameOfReferenceUIDs.add(uid);
    for (const study of frame.items('RTReferencedStudySequence')) {
      for (const series of study.items('RTReferencedSeriesSequence')) {
        const seriesUID = series.string('SeriesInstanceUID');
        if (seriesUID) referencedSeriesUIDs.push(seriesUID);
        for (const uid of contourImageUIDs(series)) referencedSOPInstanceUIDs.add(uid);
      }
    }
  }
  const interpreted = new Map<number, string>();
  for (const observation of ds.items('RTROIObservationsSequence')) {
    const number = observation.number('ReferencedROINumber');
    const type = observation.string('RTROIInterpretedType');
    if (number !== undefined && type) interpreted.set(number, type);
  }
  const rois: StructureSetROI[] = [];
  const byNumber = new Map<number, StructureSetROI>();
  for (const item of ds.items('StructureSetROISequence')) {
    const number = item.number('ROINumber');
    if (number === undefined || !Number.isFinite(number)) {
      warnings.push('a Structure Set ROI Sequence item has no ROI Number: skipped');
      continue;
    }
    if (byNumber.has(number)) {
      warnings.push(`ROI Number ${number} is used twice in Structure Set ROI Sequence: the second is skipped`);
      continue;
    }
    const frame = item.string('ReferencedFrameOfReferenceUID');
    if (frame) frameOfReferenceUIDs.add(frame);
    const roi: StructureSetROI = {
      number,
      name: item.string('ROIName') ?? `ROI_${number}`,
      color: undefined,
      frameOfReferenceUID: frame,
      generationAlgorithm: item.string('ROIGenerationAlgorithm'),
      interpretedType: interpreted.get(number),
      contours: [],
    };
    rois.push(roi);
    byNumber.set(number, roi);
  }
  for (const item of ds.items('ROIContourSequence')) {
    const number = item.number('ReferencedROINumber');
    const roi = number === undefined ? undefined : byNumber.get(number);
    if (!roi) {
      warnings.push(
        `ROI Contour Sequence item refers to ROI Number ${number ?? '(none)'}, which is not defined: skipped`,
      );
      continue;
    }
    roi.color ??= rgb(item.numbers('ROIDisplayColor'));
    item.items('ContourSequence').forEach((contour, index) => {
      const data = contourData(contour);
      const declared = contour.number('NumberOfContourPoints');
      if (data.length % 3 !== 0 || data.length === 0 || !data.every(Number.isFinite)) {
        warnings.push(`ROI ${roi.number} "${roi.name}" contour ${index + 1}: Contour Data is not x\\y\\z triplets`);
        return;
      }
      if (declared !== undefined && declared * 3 !== data.length) {
        warnings.push(
          `ROI ${roi.number} "${roi.name}" contour ${index + 1}: Number of Contour Points says ${declared}, ` +
            `Contour Data holds ${data.length / 3} (the data is used)`,
        );
      }
      const uids = contourImageUIDs(contour);
      for (const uid of uids) referencedSOPInstanceUIDs.add(uid);
      roi.contours.push({
        geometricType: contour.string('ContourGeometricType') ?? 'CLOSED_PLANAR',
        points: data,
        referencedSOPInstanceUIDs: uids,
      });
    });
  }
  return {
    sopInstanceUID: ds.string('SOPInstanceUID') ?? file.meta.string('MediaStorageSOPInstanceUID'),
    label: ds.string('StructureSetLabel'),
    frameOfReferenceUIDs: [...frameOfReferenceUIDs],
    referencedSeriesUIDs,
    referencedSOPInstanceUIDs,
    rois,
    warnings,
  };
}
