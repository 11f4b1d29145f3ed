/**
 * A conformant single-frame CT or MR Image instance (PS3.3 A.3 / A.4) from pixels and plane geometry: the modules
 * a new series needs (Patient, General Study, General Series, Frame of Reference, General Equipment, General Image,
 * Image Plane, Image Pixel, CT / MR Image, SOP Common), with Type 2 attributes present even when empty.
 * Used by the phantom generator and by NIfTI -> DICOM without a sidecar.
 */
import { Dataset, type DicomFile, TransferSyntax } from './model.ts';
import { formatDS } from './values.ts';

export type ImageModality = 'CT' | 'MR';

export const SOP_CLASS: Record<ImageModality, string> = {
  CT: '1.2.840.10008.5.1.4.1.1.2',
  MR: '1.2.840.10008.5.1.4.1.1.4',
};

export interface PatientStudy {
  patientName?: string;
  patientId?: string;
  patientBirthDate?: string;
  patientSex?: string;
  studyDescription?: string;
  studyDate?: string;
  studyTime?: string;
  accessionNumber?: string;
  studyId?: string;
  referringPhysicianName?: string;
  institutionName?: string;
}

export interface ImageInstanceInput extends PatientStudy {
  modality: ImageModality;
  studyInstanceUID: string;
  seriesInstanceUID: string;
  sopInstanceUID: string;
  frameOfReferenceUID: string;
  seriesNumber: number;
  seriesDescription: string;
  instanceNumber: number;
  rows: number;
  columns: number;
  /** Image Position (Patient) and Orientation (row then column direction cosines), LPS. */
  position: readonly number[];
  orientation: readonly number[];
  /** [between rows, between columns] (mm). */
  pixelSpacing: readonly [number, number];
  sliceThickness: number;
  /** Stored values, row by row. */
  pixels: Int16Array | Uint16Array;
  rescaleSlope: number;
  rescaleIntercept: number;
  manufacturer?: string;
  imageType?: string[];
  /** HFS, FFS, ... when known. */
  patientPosition?: string;
  source?: string;
}

export function imageInstance(input: ImageInstanceInput): DicomFile {
  const signed = input.pixels instanceof Int16Array;
  const date = input.studyDate ?? '';
  const time = input.studyTime ?? '';
  const ds = new Dataset(['ISO_IR 192']);
  ds.setStrings('SpecificCharacterSet', 'ISO_IR 192')
    .setStrings(
      'ImageType',
      input.imageType ??
        (input.modality === 'CT' ? ['DERIVED', 'SECONDARY', 'AXIAL'] : ['DERIVED', 'SECONDARY', 'OTHER']),
    )
    .setStrings('SOPClassUID', SOP_CLASS[input.modality])
    .setStrings('SOPInstanceUID', input.sopInstanceUID)
    .setStrings('StudyDate', date)
    .setStrings('SeriesDate', date)
    .setStrings('ContentDate', date)
    .setStrings('StudyTime', time)
    .setStrings('SeriesTime', time)
    .setStrings('ContentTime', time)
    .setStrings('AccessionNumber', input.accessionNumber ?? '')
    .setStrings('Modality', input.modality)
    .setStrings('Manufacturer', input.manufacturer ?? 'medvox')
    .setStrings('ReferringPhysicianName', input.referringPhysicianName ?? '')
    .setStrings('StudyDescription', input.studyDescription ?? '')
    .setStrings('SeriesDescription', input.seriesDescription)
    .setStrings('PatientName', input.patientName ?? '')
    .setStrings('PatientID', input.patientId ?? '')
    .setStrings('PatientBirthDate', input.patientBirthDate ?? '')
    .setStrings('PatientSex', input.patientSex ?? '')
    .setStrings('SliceThickness', formatDS(input.sliceThickness))
    .setStrings('StudyInstanceUID', input.studyInstanceUID)
    .setStrings('SeriesInstanceUID', input.seriesInstanceUID)
    .setStrings('StudyID', input.studyId ?? '')
    .setStrings('SeriesNumber', String(input.seriesNumber))
    // Type 2C in General Series for CT / MR (PS3.3 C.7.3.1): present, empty when unknown.
    .setStrings('Laterality', '')
    .setStrings('PatientPosition', input.patientPosition ?? '')
    .setStrings('AcquisitionNumber', '')
    .setStrings('InstanceNumber', String(input.instanceNumber))
    .setStrings('PatientOrientation', '')
    .setNumbers('ImagePositionPatient', input.position, 'DS')
    .setNumbers('ImageOrientationPatient', input.orientation, 'DS')
    .setStrings('FrameOfReferenceUID', input.frameOfReferenceUID)
    .setStrings('PositionReferenceIndicator', '')
    .setNumbers('SamplesPerPixel', 1)
    .setStrings('PhotometricInterpretation', 'MONOCHROME2')
    .setNumbers('Rows', input.rows)
    .setNumbers('Columns', input.columns)
    .setNumbers('PixelSpacing', input.pixelSpacing, 'DS')
    .setNumbers('BitsAllocated', 16)
    .setNumbers('BitsStored', 16)
    .setNumbers('HighBit', 15)
    .setNumbers('PixelRepresentation', signed ? 1 : 0)
    .setBytes('PixelData', new Uint8Array(input.pixels.buffer, input.pixels.byteOffset, input.pixels.byteLength), 'OW');
  if (input.institutionName) ds.setStrings('InstitutionName', input.institutionName);
  if (input.modality === 'CT') {
    ds.setStrings('KVP', '')
      .setNumbers('RescaleIntercept', input.rescaleIntercept, 'DS')
      .setNumbers('RescaleSlope', input.rescaleSlope, 'DS')
      .setStrings('RescaleType', 'HU');
  } else {
    // MR Image Module (PS3.3 C.8.3.1): Type 1 / 2 attributes of an image whose acquisition is unknown.
    ds.setStrings('ScanningSequence', 'RM')
      .setStrings('SequenceVariant', 'NONE')
      .setStrings('ScanOptions', '')
      .setStrings('MRAcquisitionType', '')
      .setStrings('RepetitionTime', '')
      .setStrings('EchoTime', '')
      .setStrings('EchoTrainLength', '');
    if (input.rescaleSlope !== 1 || input.rescaleIntercept !== 0) {
      ds.setNumbers('RescaleIntercept', input.rescaleIntercept, 'DS').setNumbers(
        'RescaleSlope',
        input.rescaleSlope,
        'DS',
      );
    }
  }
  const file: DicomFile = {
    meta: new Dataset(),
    dataset: ds,
    transferSyntaxUID: TransferSyntax.ExplicitVRLittleEndian,
    hasPreamble: true,
  };
  if (input.source) file.source = input.source;
  return file;
}
