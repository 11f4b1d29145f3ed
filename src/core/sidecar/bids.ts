/**
 * The summary fields of a NIfTI sidecar, named and scaled as dcm2niix names them in its BIDS sidecar
 * (times in seconds, ImageOrientationPatientDICOM as in the header, Manufacturer normalised), so scripts written
 * against dcm2niix's JSON keep working. Only standard DICOM attributes are used; vendor private fields that
 * dcm2niix derives (Siemens CSA, Philips scaling, ...) are kept in the full DICOM model of the sidecar instead.
 */
import { tagOf } from '../dicom/dictionary.ts';
import type { Dataset } from '../dicom/model.ts';

export type BidsValue = string | number | boolean | Array<string | number>;
export type BidsSummary = Record<string, BidsValue>;

type Kind = 'string' | 'joined' | 'strings' | 'number' | 'numbers' | 'ms2s' | 'time';

/** [BIDS / dcm2niix name, DICOM keyword, how the value is rendered]; in dcm2niix's order. */
const FIELDS: ReadonlyArray<readonly [string, string, Kind]> = [
  ['Modality', 'Modality', 'string'],
  ['MagneticFieldStrength', 'MagneticFieldStrength', 'number'],
  ['ImagingFrequency', 'ImagingFrequency', 'number'],
  ['Manufacturer', 'Manufacturer', 'string'],
  ['ManufacturersModelName', 'ManufacturerModelName', 'string'],
  ['InstitutionName', 'InstitutionName', 'string'],
  ['InstitutionalDepartmentName', 'InstitutionalDepartmentName', 'string'],
  ['InstitutionAddress', 'InstitutionAddress', 'string'],
  ['DeviceSerialNumber', 'DeviceSerialNumber', 'string'],
  ['StationName', 'StationName', 'string'],
  ['BodyPartExamined', 'BodyPartExamined', 'string'],
  ['PatientPosition', 'PatientPosition', 'string'],
  ['ProcedureStepDescription', 'PerformedProcedureStepDescription', 'string'],
  ['SoftwareVersions', 'SoftwareVersions', 'joined'],
  ['MRAcquisitionType', 'MRAcquisitionType', 'string'],
  ['StudyDescription', 'StudyDescription', 'string'],
  ['SeriesDescription', 'SeriesDescription', 'string'],
  ['ProtocolName', 'ProtocolName', 'string'],
  ['ScanningSequence', 'ScanningSequence', 'joined'],
  ['SequenceVariant', 'SequenceVariant', 'joined'],
  ['ScanOptions', 'ScanOptions', 'joined'],
  ['SequenceName', 'SequenceName', 'string'],
  ['ImageType', 'ImageType', 'strings'],
  ['SeriesNumber', 'SeriesNumber', 'number'],
  ['AcquisitionTime', 'AcquisitionTime', 'time'],
  ['AcquisitionNumber', 'AcquisitionNumber', 'number'],
  ['ImageComments', 'ImageComments', 'string'],
  ['ConvolutionKernel', 'ConvolutionKernel', 'joined'],
  ['ExposureTime', 'ExposureTime', 'ms2s'],
  ['XRayTubeCurrent', 'XRayTubeCurrent', 'number'],
  ['KVP', 'KVP', 'number'],
  ['SliceThickness', 'SliceThickness', 'number'],
  ['SpacingBetweenSlices', 'SpacingBetweenSlices', 'number'],
  ['SAR', 'SAR', 'number'],
  ['EchoNumber', 'EchoNumbers', 'number'],
  ['EchoTime', 'EchoTime', 'ms2s'],
  ['RepetitionTime', 'RepetitionTime', 'ms2s'],
  ['InversionTime', 'InversionTime', 'ms2s'],
  ['FlipAngle', 'FlipAngle', 'number'],
  ['EchoTrainLength', 'EchoTrainLength', 'number'],
  ['PercentPhaseFOV', 'PercentPhaseFieldOfView', 'number'],
  ['PercentSampling', 'PercentSampling', 'number'],
  ['PixelBandwidth', 'PixelBandwidth', 'number'],
  ['ImageOrientationPatientDICOM', 'ImageOrientationPatient', 'numbers'],
  ['InPlanePhaseEncodingDirectionDICOM', 'InPlanePhaseEncodingDirection', 'string'],
];

/** dcm2niix's short manufacturer names (nii_dicom.cpp: dcmStrManufacturer). */
const MANUFACTURERS: ReadonlyArray<readonly [string, string]> = [
  ['SI', 'Siemens'],
  ['GE', 'GE'],
  ['HI', 'Hitachi'],
  ['PH', 'Philips'],
  ['TO', 'Toshiba'],
  ['CA', 'Canon'],
  ['UI', 'UIH'],
  ['BR', 'Bruker'],
  ['ME', 'Mediso'],
  ['MR', 'MRSolutions'],
  ['HY', 'Hyperfine'],
];

export function normaliseManufacturer(value: string): string {
  const prefix = value.trim().slice(0, 2).toUpperCase();
  return MANUFACTURERS.find(([key]) => key === prefix)?.[1] ?? value.trim();
}

/** DICOM TM "HHMMSS.FFFFFF" -> "HH:MM:SS.FFFFFF" (dcm2niix prints six fractional digits). */
export function formatDicomTime(tm: string): string | undefined {
  const match = /^(\d{2})(\d{2})?(\d{2})?(?:\.(\d{1,6}))?/.exec(tm.trim());
  if (!match) return undefined;
  const [, hh, mm = '00', ss = '00', fraction = ''] = match;
  return `${hh}:${mm}:${ss}.${fraction.padEnd(6, '0')}`;
}

/** Summary fields of one instance (the first of a volume), omitting absent or unparseable values. */
export function bidsSummary(dataset: Dataset): BidsSummary {
  const summary: BidsSummary = {};
  for (const [name, keyword, kind] of FIELDS) {
    const value = renderField(dataset, keyword, kind);
    if (value !== undefined) summary[name] = keyword === 'Manufacturer' ? normaliseManufacturer(String(value)) : value;
  }
  return summary;
}

function renderField(dataset: Dataset, keyword: string, kind: Kind): BidsValue | undefined {
  const element = dataset.get(tagOf(keyword));
  if (!element) return undefined;
  switch (kind) {
    case 'string':
      return dataset.string(keyword);
    case 'joined': {
      const values = dataset.strings(keyword).filter((value) => value !== '');
      return values.length ? values.join('\\') : undefined;
    }
    case 'strings': {
      const values = dataset.strings(keyword);
      return values.length ? values : undefined;
    }
    case 'number': {
      const value = dataset.number(keyword);
      return value === undefined || Number.isNaN(value) ? undefined : value;
    }
    case 'numbers': {
      const values = dataset.numbers(keyword);
      return values.length && values.every(Number.isFinite) ? values : undefined;
    }
    case 'ms2s': {
      const value = dataset.number(keyword);
      return value === undefined || Number.isNaN(value) ? undefined : roundSignificant(value / 1000);
    }
    case 'time': {
      const value = dataset.string(keyword);
      return value === undefined ? undefined : formatDicomTime(value);
    }
  }
}

/** Six significant digits, as dcm2niix prints times (%g): 1999.99975586 ms -> 2 s, 30.001 ms -> 0.030001 s. */
function roundSignificant(value: number): number {
  return Number(value.toPrecision(6));
}
