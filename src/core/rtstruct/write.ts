/**
 * A new RT Structure Set (PS3.3 A.19) for an image series: Patient and General Study copied from the images,
 * RT Series, General Equipment, Frame of Reference, Structure Set (with the Referenced Frame of Reference / RT Referenced Study /
 * RT Referenced Series / Contour Image Sequences naming every slice), ROI Contour, RT ROI Observations, SOP Common.
 * Contours are CLOSED_PLANAR, in LPS mm, each referencing the image it lies on.
 */
import { Dataset, type DicomFile, TransferSyntax } from '../dicom/model.ts';
import { type RGB, RT_STRUCTURE_SET_STORAGE } from './structure-set.ts';

/** PS3.3 C.8.8.5: the study is referenced as a Detached Study Management SOP Instance (retired, still required). */
const STUDY_REFERENCE_SOP_CLASS = '1.2.840.10008.3.1.2.3.1';

export interface ReferencedImage {
  sopClassUID: string;
  sopInstanceUID: string;
}

export interface RoiToWrite {
  number: number;
  name: string;
  color: RGB;
  /** RT ROI Interpreted Type (e.g. ORGAN); empty when unknown. */
  interpretedType?: string;
  /** One item per closed contour: the slice image it lies on and its points (x, y, z LPS mm). */
  contours: Array<{ image: ReferencedImage; points: number[] }>;
}

export interface StructureSetInput {
  /** An instance of the image series (patient and study attributes are copied from it). */
  image: DicomFile;
  studyInstanceUID: string;
  seriesInstanceUID: string;
  frameOfReferenceUID: string;
  /** Every image of the series, in slice order. */
  images: ReferencedImage[];
  rois: RoiToWrite[];
  sopInstanceUID: string;
  rtSeriesInstanceUID: string;
  seriesNumber?: number;
  seriesDescription?: string;
  structureSetLabel?: string;
  /** DA / TM of creation. */
  date: string;
  time: string;
  manufacturer?: string;
  softwareVersion?: string;
}

/** A DS value for a coordinate: 4 decimals (0.1 micrometre), trailing zeros dropped; at most 16 characters. */
export function formatCoordinate(value: number): string {
  const text = value.toFixed(4).replace(/\.?0+$/, '');
  return text === '-0' ? '0' : text;
}

function imageReference(image: ReferencedImage): Dataset {
  const item = new Dataset(['ISO_IR 192']);
  item
    .setStrings('ReferencedSOPClassUID', image.sopClassUID)
    .setStrings('ReferencedSOPInstanceUID', image.sopInstanceUID);
  return item;
}

export function buildStructureSet(input: StructureSetInput): DicomFile {
  const source = input.image.dataset;
  const charset = ['ISO_IR 192'];
  const ds = new Dataset(charset);
  const copy = (keyword: string) => ds.setStrings(keyword, source.string(keyword) ?? '');
  ds.setStrings('SpecificCharacterSet', 'ISO_IR 192')
    .setStrings('InstanceCreationDate', input.date)
    .setStrings('InstanceCreationTime', input.time)
    .setStrings('SOPClassUID', RT_STRUCTURE_SET_STORAGE)
    .setStrings('SOPInstanceUID', input.sopInstanceUID)
    .setStrings('StudyInstanceUID', input.studyInstanceUID)
    .setStrings('SeriesInstanceUID', input.rtSeriesInstanceUID)
    .setStrings('Modality', 'RTSTRUCT')
    .setStrings('SeriesNumber', String(input.seriesNumber ?? 900))
    .setStrings('SeriesDescription', input.seriesDescription ?? 'medvox RTSTRUCT')
    .setStrings('SeriesDate', input.date)
    .setStrings('SeriesTime', input.time)
    .setStrings('OperatorsName', '')
    .setStrings('Manufacturer', input.manufacturer ?? 'medvox')
    .setStrings('SoftwareVersions', input.softwareVersion ?? '')
    .setStrings('StructureSetLabel', (input.structureSetLabel ?? 'medvox').slice(0, 16))
    .setStrings('StructureSetDate', input.date)
    .setStrings('StructureSetTime', input.time)
    .setStrings('InstanceNumber', '1')
    // Frame of Reference module (C.7.4.1), part of the RT Structure Set IOD since 2019.
    .setStrings('FrameOfReferenceUID', input.frameOfReferenceUID);
  copy('PositionReferenceIndicator');
  // Patient (C.7.1.1) and General Study (C.7.2.1): Type 2 attributes present, copied from the images.
  for (const keyword of [
    'PatientName',
    'PatientID',
    'PatientBirthDate',
    'PatientSex',
    'StudyDate',
    'StudyTime',
    'ReferringPhysicianName',
    'StudyID',
    'AccessionNumber',
    'StudyDescription',
  ]) {
    copy(keyword);
  }

  // Structure Set module (C.8.8.5): the frame of reference, the study, the series and every image of it.
  const series = new Dataset(charset);
  series
    .setStrings('SeriesInstanceUID', input.seriesInstanceUID)
    .setItems('ContourImageSequence', input.images.map(imageReference));
  const study = new Dataset(charset);
  study
    .setStrings('ReferencedSOPClassUID', STUDY_REFERENCE_SOP_CLASS)
    .setStrings('ReferencedSOPInstanceUID', input.studyInstanceUID)
    .setItems('RTReferencedSeriesSequence', [series]);
  const frame = new Dataset(charset);
  frame.setStrings('FrameOfReferenceUID', input.frameOfReferenceUID).setItems('RTReferencedStudySequence', [study]);
  ds.setItems('ReferencedFrameOfReferenceSequence', [frame]);

  ds.setItems(
    'StructureSetROISequence',
    input.rois.map((roi) => {
      const item = new Dataset(charset);
      item
        .setNumbers('ROINumber', roi.number, 'IS')
        .setStrings('ReferencedFrameOfReferenceUID', input.frameOfReferenceUID)
        .setStrings('ROIName', roi.name)
        .setStrings('ROIGenerationAlgorithm', '');
      return item;
    }),
  );

  // ROI Contour module (C.8.8.6).
  ds.setItems(
    'ROIContourSequence',
    input.rois.map((roi) => {
      const item = new Dataset(charset);
      item.setNumbers('ROIDisplayColor', roi.color, 'IS').setNumbers('ReferencedROINumber', roi.number, 'IS');
      if (roi.contours.length > 0) {
        item.setItems(
          'ContourSequence',
          roi.contours.map((contour, index) => {
            const c = new Dataset(charset);
            c.setItems('ContourImageSequence', [imageReference(contour.image)])
              .setStrings('ContourGeometricType', 'CLOSED_PLANAR')
              .setNumbers('NumberOfContourPoints', contour.points.length / 3, 'IS')
              .setNumbers('ContourNumber', index + 1, 'IS')
              .setStrings('ContourData', contour.points.map(formatCoordinate), 'DS');
            return c;
          }),
        );
      }
      return item;
    }),
  );

  // RT ROI Observations module (C.8.8.8).
  ds.setItems(
    'RTROIObservationsSequence',
    input.rois.map((roi, index) => {
      const item = new Dataset(charset);
      item
        .setNumbers('ObservationNumber', index + 1, 'IS')
        .setNumbers('ReferencedROINumber', roi.number, 'IS')
        .setStrings('RTROIInterpretedType', roi.interpretedType ?? '')
        .setStrings('ROIInterpreter', '');
      return item;
    }),
  );

  return {
    meta: new Dataset(),
    dataset: ds,
    transferSyntaxUID: TransferSyntax.ExplicitVRLittleEndian,
    hasPreamble: true,
  };
}
