/**
 * The few values MR normalisation needs from one instance, read once so the dataset can be dropped: a report over
 * 10,000 instances keeps these (a few hundred bytes each per series / echo), never the datasets. Enhanced MR
 * (PS3.3 C.8.13) keeps most of them in functional groups: they are looked up there when absent at the top level.
 */

import { tagOf } from '../dicom/dictionary.ts';
import type { ReadonlyDataset } from '../dicom/model.ts';
import { secondsOfTM } from './cells.ts';
import { inFunctionalGroups } from './path.ts';

export interface MrFeatures {
  /** False for objects without pixels (SR, presentation states, raw data): never classified as an image. */
  isImage: boolean;
  notImageReason?: string;
  modality: string;
  sopClassUID: string;
  seriesDescription: string;
  protocolName: string;
  manufacturer: string;
  manufacturerModelName: string;
  /** SequenceName, else PulseSequenceName (enhanced MR). */
  sequenceName: string;
  /** ImageType, else the first frame's FrameType (enhanced MR); upper case. */
  imageType: string[];
  scanningSequence: string[];
  sequenceVariant: string[];
  scanOptions: string[];
  mrAcquisitionType: string;
  acquisitionContrast: string;
  repetitionTime?: number;
  echoTime?: number;
  inversionTime?: number;
  flipAngle?: number;
  /** As recorded (Tesla, or Gauss in some old files). */
  magneticFieldStrength?: number;
  /** Largest diffusion b-value recorded for the instance (standard attribute). */
  diffusionBValue?: number;
  diffusionDirectionality: string;
  spectrallySelectedSuppression: string;
  contrastBolusAgent: string;
  echoNumber?: number;
  /** ImageOrientationPatient (top level, or Plane Orientation of the functional groups). */
  orientation: number[];
  rows?: number;
  columns?: number;
  /** Acquisition (else series) date and time, for ordering repeated acquisitions. */
  date: string;
  timeSeconds?: number;
  seriesNumber?: number;
}

const tag = (keyword: string): number => tagOf(keyword);

const upperStrings = (dataset: ReadonlyDataset, keyword: string): string[] =>
  dataset
    .strings(keyword)
    .map((value) => value.trim().toUpperCase())
    .filter((value) => value !== '');

function deepStrings(dataset: ReadonlyDataset, keyword: string): string[] {
  const direct = dataset.strings(keyword);
  if (direct.length > 0 && direct.some((value) => value !== '')) return direct;
  const found = inFunctionalGroups(dataset, tag(keyword));
  return found ? found.owner.strings(found.element.tag) : [];
}

function deepNumber(dataset: ReadonlyDataset, ...keywords: string[]): number | undefined {
  for (const keyword of keywords) {
    let value = dataset.number(keyword);
    if (value === undefined) {
      const found = inFunctionalGroups(dataset, tag(keyword));
      value = found ? found.owner.number(found.element.tag) : undefined;
    }
    if (value !== undefined && Number.isFinite(value)) return value;
  }
  return undefined;
}

const NON_IMAGE_MODALITIES = new Set(['SR', 'PR', 'KO', 'REG', 'RTSTRUCT', 'RTPLAN', 'RAW', 'DOC', 'FID']);

export function mrFeatures(dataset: ReadonlyDataset): MrFeatures {
  const modality = dataset.string('Modality')?.trim().toUpperCase() ?? '';
  const rows = dataset.number('Rows');
  const columns = dataset.number('Columns');
  let isImage = true;
  let notImageReason: string | undefined;
  if (NON_IMAGE_MODALITIES.has(modality)) {
    isImage = false;
    notImageReason = `Modality ${modality} is not an image`;
  } else if (!rows || !columns) {
    isImage = false;
    notImageReason = 'no Rows / Columns: the object holds no image (e.g. a report or raw data)';
  }
  let imageType = upperStrings(dataset, 'ImageType');
  if (imageType.length === 0) imageType = deepStrings(dataset, 'FrameType').map((value) => value.trim().toUpperCase());
  const acquisitionDate = dataset.string('AcquisitionDate') ?? dataset.string('AcquisitionDateTime')?.slice(0, 8);
  const acquisitionTime = dataset.string('AcquisitionTime') ?? dataset.string('AcquisitionDateTime')?.slice(8);
  const features: MrFeatures = {
    isImage,
    modality,
    sopClassUID: dataset.string('SOPClassUID') ?? '',
    seriesDescription: dataset.string('SeriesDescription') ?? '',
    protocolName: dataset.string('ProtocolName') ?? '',
    manufacturer: dataset.string('Manufacturer') ?? '',
    manufacturerModelName: dataset.string('ManufacturerModelName') ?? '',
    sequenceName: dataset.string('SequenceName') ?? dataset.string('PulseSequenceName') ?? '',
    imageType,
    scanningSequence: upperStrings(dataset, 'ScanningSequence'),
    sequenceVariant: upperStrings(dataset, 'SequenceVariant'),
    scanOptions: upperStrings(dataset, 'ScanOptions'),
    mrAcquisitionType: (dataset.string('MRAcquisitionType') ?? '').trim().toUpperCase(),
    acquisitionContrast: (deepStrings(dataset, 'AcquisitionContrast')[0] ?? '').trim().toUpperCase(),
    diffusionDirectionality: (deepStrings(dataset, 'DiffusionDirectionality')[0] ?? '').trim().toUpperCase(),
    spectrallySelectedSuppression: (deepStrings(dataset, 'SpectrallySelectedSuppression')[0] ?? '')
      .trim()
      .toUpperCase(),
    contrastBolusAgent: (
      dataset.string('ContrastBolusAgent') ??
      deepStrings(dataset, 'ContrastBolusAgent')[0] ??
      ''
    ).trim(),
    orientation: dataset.numbers('ImageOrientationPatient'),
    date: acquisitionDate ?? dataset.string('SeriesDate') ?? dataset.string('StudyDate') ?? '',
  };
  if (notImageReason) features.notImageReason = notImageReason;
  if (features.orientation.length < 6) {
    const found = inFunctionalGroups(dataset, tag('ImageOrientationPatient'));
    if (found) features.orientation = found.owner.numbers(found.element.tag);
  }
  const numbers: Array<[keyof MrFeatures, number | undefined]> = [
    ['repetitionTime', deepNumber(dataset, 'RepetitionTime')],
    ['echoTime', deepNumber(dataset, 'EchoTime', 'EffectiveEchoTime')],
    ['inversionTime', deepNumber(dataset, 'InversionTime', 'InversionTimes')],
    ['flipAngle', deepNumber(dataset, 'FlipAngle')],
    ['magneticFieldStrength', deepNumber(dataset, 'MagneticFieldStrength')],
    ['diffusionBValue', deepNumber(dataset, 'DiffusionBValue')],
    ['echoNumber', dataset.number('EchoNumbers')],
    ['rows', rows],
    ['columns', columns],
    ['seriesNumber', dataset.number('SeriesNumber')],
    ['timeSeconds', secondsOfTM(acquisitionTime ?? dataset.string('SeriesTime') ?? dataset.string('ContentTime'))],
  ];
  for (const [key, value] of numbers)
    if (value !== undefined && Number.isFinite(value)) Object.assign(features, { [key]: value });
  return features;
}

/** What varies between the instances of one series: echo, orientation, acquisition time, image or not. */
export interface MrInstanceBasics {
  echoKey: string;
  isImage: boolean;
  orientation: number[];
  date: string;
  timeSeconds?: number;
}

/** Tags read for every MR instance, looked up once. */
const K = {
  AcquisitionDate: tag('AcquisitionDate'),
  AcquisitionDateTime: tag('AcquisitionDateTime'),
  AcquisitionTime: tag('AcquisitionTime'),
  Columns: tag('Columns'),
  ContentTime: tag('ContentTime'),
  EchoNumbers: tag('EchoNumbers'),
  ImageOrientationPatient: tag('ImageOrientationPatient'),
  Modality: tag('Modality'),
  Rows: tag('Rows'),
  SeriesDate: tag('SeriesDate'),
  SeriesTime: tag('SeriesTime'),
  StudyDate: tag('StudyDate'),
} as const;

export function mrInstanceBasics(dataset: ReadonlyDataset): MrInstanceBasics {
  const modality = dataset.string(K.Modality)?.trim().toUpperCase() ?? '';
  const echoNumber = dataset.number(K.EchoNumbers);
  const echo =
    echoNumber !== undefined && Number.isFinite(echoNumber)
      ? echoNumber
      : deepNumber(dataset, 'EchoTime', 'EffectiveEchoTime');
  let orientation = dataset.numbers(K.ImageOrientationPatient);
  if (orientation.length < 6) {
    const found = inFunctionalGroups(dataset, K.ImageOrientationPatient);
    if (found) orientation = found.owner.numbers(found.element.tag);
  }
  const acquisitionTime = dataset.string(K.AcquisitionTime) ?? dataset.string(K.AcquisitionDateTime)?.slice(8);
  const basics: MrInstanceBasics = {
    echoKey: echo === undefined ? '' : String(echo),
    isImage:
      !NON_IMAGE_MODALITIES.has(modality) && Boolean(dataset.number(K.Rows)) && Boolean(dataset.number(K.Columns)),
    orientation,
    date:
      dataset.string(K.AcquisitionDate) ??
      dataset.string(K.AcquisitionDateTime)?.slice(0, 8) ??
      dataset.string(K.SeriesDate) ??
      dataset.string(K.StudyDate) ??
      '',
  };
  const seconds = secondsOfTM(acquisitionTime ?? dataset.string(K.SeriesTime) ?? dataset.string(K.ContentTime));
  if (seconds !== undefined) basics.timeSeconds = seconds;
  return basics;
}
