/** Label tables (segment names, colours, codes) shared by DICOM-SEG, RTSTRUCT and NIfTI label maps. */
export { Category, type CodedConcept, type DefaultCodes, defaultCodesFor, GENERIC_TYPE, Laterality } from './codes.ts';
export { type DicomLab, defaultColour, dicomLabToRgb, labToRgb, type Rgb, rgbToDicomLab, rgbToLab } from './colour.ts';
export {
  ALGORITHM_TYPES,
  type AlgorithmType,
  completeEntry,
  defaultEntry,
  LABEL_TABLE_VERSION,
  type LabelEntry,
  type LabelTable,
  type LabelTableSeries,
  labelTableToJson,
  labelTableToText,
  parseLabelTable,
  parseLabelTableText,
  type ResolvedLabels,
  resolveLabels,
} from './label-table.ts';
