/**
 * Segment Sequence items (PS3.3 C.8.20.2 Segment Description Macro, Table C.8.20-4) <-> label table entries.
 * BINARY / FRACTIONAL Segment Numbers must run 1, 2, 3 ... (C.8.20.2.4), so a labelmap whose values are not
 * 1..n keeps each segment's label value in a private element of its item (MEDVOX (0063,xx00), US), which medvox
 * reads back; other readers see the segment numbers. LABELMAP segments are numbered by their pixel values.
 */
import { Dataset } from '../dicom/model.ts';
import type { CodedConcept } from '../labels/codes.ts';
import { dicomLabToRgb, rgbToDicomLab } from '../labels/colour.ts';
import { ALGORITHM_TYPES, type AlgorithmType, completeEntry, type LabelEntry } from '../labels/label-table.ts';

/** Private creator of medvox's elements in a Segment Sequence item (block 0x10 of group 0x0063). */
export const MEDVOX_PRIVATE_CREATOR = 'MEDVOX';
const PRIVATE_GROUP = 0x0063;
const CREATOR_TAG = ((PRIVATE_GROUP << 16) | 0x0010) >>> 0;
const LABEL_VALUE_TAG = ((PRIVATE_GROUP << 16) | 0x1000) >>> 0;

export function codeItem(code: CodedConcept, characterSet: readonly string[]): Dataset {
  const item = new Dataset(characterSet);
  // Code Value longer than 16 characters goes to Long Code Value (PS3.3 8.8).
  if (code.CodeValue.length > 16) item.setStrings('LongCodeValue', code.CodeValue);
  else item.setStrings('CodeValue', code.CodeValue);
  item.setStrings('CodingSchemeDesignator', code.CodingSchemeDesignator);
  if (code.CodingSchemeVersion) item.setStrings('CodingSchemeVersion', code.CodingSchemeVersion);
  item.setStrings('CodeMeaning', code.CodeMeaning);
  return item;
}

export function readCode(item: Dataset | undefined): CodedConcept | undefined {
  if (!item) return undefined;
  const value = item.string('CodeValue') ?? item.string('LongCodeValue') ?? item.string('URNCodeValue');
  const scheme = item.string('CodingSchemeDesignator');
  const meaning = item.string('CodeMeaning');
  if (!value || !scheme || !meaning) return undefined;
  const code: CodedConcept = { CodeValue: value, CodingSchemeDesignator: scheme, CodeMeaning: meaning };
  const version = item.string('CodingSchemeVersion');
  if (version) code.CodingSchemeVersion = version;
  return code;
}

/** One Segment Sequence item; `segmentNumber` differs from the label value for BINARY segments. */
export function segmentItem(entry: LabelEntry, segmentNumber: number, characterSet: readonly string[]): Dataset {
  const item = new Dataset(characterSet);
  item.setStrings('SegmentLabel', entry.name);
  if (entry.description) item.setStrings('SegmentDescription', entry.description);
  item.setNumbers('SegmentNumber', segmentNumber);
  item.setStrings('SegmentAlgorithmType', entry.algorithmType);
  if (entry.algorithmType !== 'MANUAL' && entry.algorithmName)
    item.setStrings('SegmentAlgorithmName', entry.algorithmName);
  item.setItems('SegmentedPropertyCategoryCodeSequence', [codeItem(entry.category, characterSet)]);
  const type = codeItem(entry.type, characterSet);
  if (entry.typeModifier)
    type.setItems('SegmentedPropertyTypeModifierCodeSequence', [codeItem(entry.typeModifier, characterSet)]);
  item.setItems('SegmentedPropertyTypeCodeSequence', [type]);
  if (entry.anatomicRegion) {
    const region = codeItem(entry.anatomicRegion, characterSet);
    if (entry.anatomicRegionModifier)
      region.setItems('AnatomicRegionModifierSequence', [codeItem(entry.anatomicRegionModifier, characterSet)]);
    item.setItems('AnatomicRegionSequence', [region]);
  }
  item.setNumbers('RecommendedDisplayCIELabValue', rgbToDicomLab(entry.colour));
  // Tracking ID and Tracking UID are required together (Type 1C).
  if (entry.trackingId && entry.trackingUid) {
    item.setStrings('TrackingID', entry.trackingId);
    item.setStrings('TrackingUID', entry.trackingUid);
  }
  if (entry.labelValue !== segmentNumber) {
    item.setStrings(CREATOR_TAG, MEDVOX_PRIVATE_CREATOR, 'LO');
    item.setNumbers(LABEL_VALUE_TAG, entry.labelValue, 'US');
  }
  return item;
}

export interface SegmentDescription {
  segmentNumber: number;
  /** The label table entry; its labelValue is medvox's private label value, else the segment number. */
  entry: LabelEntry;
}

/** The private label value of a Segment Sequence item written by medvox (block found through its creator). */
function privateLabelValue(item: Dataset): number | undefined {
  for (let block = 0x10; block <= 0xff; block++) {
    const creatorTag = ((PRIVATE_GROUP << 16) | block) >>> 0;
    if (!item.has(creatorTag)) continue;
    if (item.string(creatorTag) !== MEDVOX_PRIVATE_CREATOR) continue;
    const value = item.number(((PRIVATE_GROUP << 16) | (block << 8)) >>> 0);
    return value !== undefined && Number.isInteger(value) && value > 0 ? value : undefined;
  }
  return undefined;
}

/** A label table entry from a Segment Sequence item (missing codes / colour get medvox's defaults). */
export function readSegmentItem(item: Dataset): SegmentDescription {
  const segmentNumber = item.number('SegmentNumber') ?? 0;
  const labelValue = privateLabelValue(item) ?? segmentNumber;
  const type = item.items('SegmentedPropertyTypeCodeSequence')[0];
  const region = item.items('AnatomicRegionSequence')[0];
  const algorithm = (item.string('SegmentAlgorithmType') ?? '').toUpperCase();
  const lab = item.numbers('RecommendedDisplayCIELabValue');
  const fields: Parameters<typeof completeEntry>[0] = { labelValue: Math.max(1, labelValue) };
  const name = item.string('SegmentLabel');
  if (name) fields.name = name;
  const description = item.string('SegmentDescription');
  if (description) fields.description = description;
  if (lab.length === 3) fields.colour = dicomLabToRgb(lab);
  const category = readCode(item.items('SegmentedPropertyCategoryCodeSequence')[0]);
  if (category) fields.category = category;
  const typeCode = readCode(type);
  if (typeCode) fields.type = typeCode;
  const typeModifier = readCode(type?.items('SegmentedPropertyTypeModifierCodeSequence')[0]);
  if (typeModifier) fields.typeModifier = typeModifier;
  const anatomicRegion = readCode(region);
  if (anatomicRegion) fields.anatomicRegion = anatomicRegion;
  const regionModifier = readCode(region?.items('AnatomicRegionModifierSequence')[0]);
  if (regionModifier) fields.anatomicRegionModifier = regionModifier;
  const algorithmName = item.string('SegmentAlgorithmName');
  if (ALGORITHM_TYPES.includes(algorithm as AlgorithmType)) fields.algorithmType = algorithm as AlgorithmType;
  // A foreign SEG may lack the (Type 1C) algorithm name: keep the type, name it unknown rather than fail to read.
  if (fields.algorithmType && fields.algorithmType !== 'MANUAL') fields.algorithmName = algorithmName ?? 'unknown';
  else if (algorithmName) fields.algorithmName = algorithmName;
  const trackingId = item.string('TrackingID');
  if (trackingId) fields.trackingId = trackingId;
  const trackingUid = item.string('TrackingUID');
  if (trackingUid) fields.trackingUid = trackingUid;
  return { segmentNumber, entry: completeEntry(fields) };
}
