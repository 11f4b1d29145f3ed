/**
 * The label table: what each value of a labelmap means (segment name, colour, coded category / type, algorithm).
 * One model for DICOM-SEG segments (PS3.3 C.8.20.2 Segment Description Macro), RTSTRUCT ROIs and NIfTI label
 * maps, read from / written to JSON (docs/segmentation.md). Accepted inputs:
 * - the medvox format (`{"MedvoxLabelTable": 1, "segments": [...]}`, written by medvox);
 * - dcmqi's segmentation meta JSON (`segmentAttributes`: arrays of `{labelID, SegmentLabel, ...}`);
 * - a plain map of label value to name (`{"1": "liver", "2": "spleen"}`, as TotalSegmentator lists its classes).
 * Invalid input is a LABELS_INVALID error whose message starts with the JSON path of the offending value.
 */
import { MedvoxError } from '../errors.ts';
import { type CodedConcept, defaultCodesFor } from './codes.ts';
import { type DicomLab, defaultColour, dicomLabToRgb, type Rgb, rgbToDicomLab } from './colour.ts';

export const LABEL_TABLE_VERSION = 1;

export const ALGORITHM_TYPES = ['MANUAL', 'SEMIAUTOMATIC', 'AUTOMATIC'] as const;
export type AlgorithmType = (typeof ALGORITHM_TYPES)[number];

export interface LabelEntry {
  /** The voxel value of this segment in a labelmap (1..65535); 0 is background. */
  labelValue: number;
  /** Segment Label (0062,0005) / ROI Name. */
  name: string;
  /** Segment Description (0062,0006). */
  description?: string;
  /** Display colour, sRGB 0-255 (Recommended Display CIELab Value in DICOM-SEG, ROI Display Color in RTSTRUCT). */
  colour: Rgb;
  /** Segmented Property Category Code (CID 7150). */
  category: CodedConcept;
  /** Segmented Property Type Code (CID 7151). */
  type: CodedConcept;
  /** Segmented Property Type Modifier (e.g. laterality). */
  typeModifier?: CodedConcept;
  /** Anatomic Region Sequence and its modifier. */
  anatomicRegion?: CodedConcept;
  anatomicRegionModifier?: CodedConcept;
  /** Segment Algorithm Type (0062,0008). */
  algorithmType: AlgorithmType;
  /** Segment Algorithm Name (0062,0009): required unless MANUAL. */
  algorithmName?: string;
  /** Tracking ID (0062,0020) and Tracking UID (0062,0021). */
  trackingId?: string;
  trackingUid?: string;
}

/** Series-level attributes a segmentation object takes from its label table (all optional). */
export interface LabelTableSeries {
  seriesDescription?: string;
  seriesNumber?: number;
  instanceNumber?: number;
  contentLabel?: string;
  contentDescription?: string;
  contentCreatorName?: string;
  bodyPartExamined?: string;
  clinicalTrialSeriesId?: string;
  clinicalTrialTimePointId?: string;
  clinicalTrialCoordinatingCenterName?: string;
}

export interface LabelTable extends LabelTableSeries {
  /** Sorted by labelValue, values unique. */
  segments: LabelEntry[];
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing with JSON paths in every error.

type Json = unknown;

class JsonReader {
  constructor(readonly source: string | undefined) {}

  fail(path: string, message: string): never {
    throw new MedvoxError('LABELS_INVALID', `${path}: ${message}`, {
      file: this.source,
      hint: 'the label table format is described in docs/segmentation.md',
    });
  }
  object(value: Json, path: string): Record<string, Json> {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      this.fail(path, `expected an object, got ${describe(value)}`);
    return value as Record<string, Json>;
  }
  array(value: Json, path: string): Json[] {
    if (!Array.isArray(value)) this.fail(path, `expected an array, got ${describe(value)}`);
    return value;
  }
  string(value: Json, path: string, maxLength = 64): string {
    if (typeof value !== 'string' || value.trim() === '')
      this.fail(path, `expected a non-empty string, got ${describe(value)}`);
    if (value.length > maxLength) this.fail(path, `at most ${maxLength} characters (DICOM LO), got ${value.length}`);
    if (value.includes('\\')) this.fail(path, 'a backslash cannot be stored in a DICOM text value');
    return value;
  }
  optionalString(value: Json, path: string, maxLength = 64): string | undefined {
    return value === undefined || value === null ? undefined : this.string(value, path, maxLength);
  }
  integer(value: Json, path: string, min: number, max: number): number {
    const number = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max)
      this.fail(path, `expected an integer ${min}..${max}, got ${describe(value)}`);
    return number;
  }
  optionalInteger(value: Json, path: string, min: number, max: number): number | undefined {
    return value === undefined || value === null ? undefined : this.integer(value, path, min, max);
  }
  rgb(value: Json, path: string): Rgb {
    const list = this.array(value, path);
    if (list.length !== 3) this.fail(path, `expected [R, G, B], got ${list.length} values`);
    return list.map((component, index) => this.integer(component, `${path}[${index}]`, 0, 255)) as Rgb;
  }
  lab(value: Json, path: string): DicomLab {
    const list = this.array(value, path);
    if (list.length !== 3) this.fail(path, `expected [L, a, b] (DICOM-scaled 0-65535), got ${list.length} values`);
    return list.map((component, index) => this.integer(component, `${path}[${index}]`, 0, 0xffff)) as DicomLab;
  }
  /** A code: `{CodeValue, CodingSchemeDesignator, CodeMeaning}`, or dcmqi's one-item array of it. */
  code(value: Json, path: string): CodedConcept {
    if (Array.isArray(value)) {
      if (value.length !== 1) this.fail(path, `expected one code, got ${value.length}`);
      return this.code(value[0], `${path}[0]`);
    }
    const object = this.object(value, path);
    const code: CodedConcept = {
      CodeValue: this.string(object.CodeValue, `${path}.CodeValue`),
      CodingSchemeDesignator: this.string(object.CodingSchemeDesignator, `${path}.CodingSchemeDesignator`, 16),
      CodeMeaning: this.string(object.CodeMeaning, `${path}.CodeMeaning`),
    };
    const version = this.optionalString(object.CodingSchemeVersion, `${path}.CodingSchemeVersion`, 16);
    if (version) code.CodingSchemeVersion = version;
    return code;
  }
  optionalCode(value: Json, path: string): CodedConcept | undefined {
    return value === undefined || value === null ? undefined : this.code(value, path);
  }
  algorithmType(value: Json, path: string): AlgorithmType | undefined {
    if (value === undefined || value === null) return undefined;
    const text = typeof value === 'string' ? value.toUpperCase() : value;
    if (!ALGORITHM_TYPES.includes(text as AlgorithmType))
      this.fail(path, `expected one of ${ALGORITHM_TYPES.join(', ')}, got ${describe(value)}`);
    return text as AlgorithmType;
  }
}

function describe(value: Json): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** Fields of one segment before defaults are applied. */
interface SegmentFields {
  labelValue: number;
  name?: string;
  description?: string;
  colour?: Rgb;
  lab?: DicomLab;
  category?: CodedConcept;
  type?: CodedConcept;
  typeModifier?: CodedConcept;
  anatomicRegion?: CodedConcept;
  anatomicRegionModifier?: CodedConcept;
  algorithmType?: AlgorithmType;
  algorithmName?: string;
  trackingId?: string;
  trackingUid?: string;
}

/** A complete entry from partial fields: name, colour and codes get defaults (docs/segmentation.md). */
export function completeEntry(fields: SegmentFields, reader?: JsonReader, path = '$'): LabelEntry {
  const name = fields.name ?? fields.type?.CodeMeaning ?? `Segment ${fields.labelValue}`;
  const defaults = defaultCodesFor(name);
  const algorithmType = fields.algorithmType ?? (fields.algorithmName ? 'AUTOMATIC' : 'MANUAL');
  if (algorithmType !== 'MANUAL' && !fields.algorithmName) {
    const message = `algorithmName is required when algorithmType is ${algorithmType} (PS3.3 C.8.20.2, Type 1C)`;
    if (reader) reader.fail(path, message);
    throw new MedvoxError('LABELS_INVALID', message);
  }
  const entry: LabelEntry = {
    labelValue: fields.labelValue,
    name,
    colour: fields.colour ?? (fields.lab ? dicomLabToRgb(fields.lab) : defaultColour(fields.labelValue)),
    category: fields.category ?? defaults.category,
    type: fields.type ?? defaults.type,
    algorithmType,
  };
  // A modifier only goes with the type it was derived for.
  const typeModifier = fields.typeModifier ?? (fields.type ? undefined : defaults.typeModifier);
  if (typeModifier) entry.typeModifier = typeModifier;
  if (fields.description) entry.description = fields.description;
  if (fields.anatomicRegion) entry.anatomicRegion = fields.anatomicRegion;
  if (fields.anatomicRegionModifier) entry.anatomicRegionModifier = fields.anatomicRegionModifier;
  if (fields.algorithmName) entry.algorithmName = fields.algorithmName;
  if (fields.trackingId) entry.trackingId = fields.trackingId;
  if (fields.trackingUid) entry.trackingUid = fields.trackingUid;
  return entry;
}

/** The default entry for a label value with nothing known about it but perhaps a name. */
export function defaultEntry(labelValue: number, name?: string): LabelEntry {
  return completeEntry({ labelValue, ...(name ? { name } : {}) });
}

function medvoxSegment(reader: JsonReader, value: Json, path: string): SegmentFields {
  const object = reader.object(value, path);
  const known = new Set([
    'labelValue',
    'name',
    'description',
    'color',
    'colour',
    'cielab',
    'category',
    'type',
    'typeModifier',
    'anatomicRegion',
    'anatomicRegionModifier',
    'algorithmType',
    'algorithmName',
    'trackingId',
    'trackingUid',
  ]);
  for (const key of Object.keys(object)) {
    if (!known.has(key)) reader.fail(`${path}.${key}`, `unknown field (known: ${[...known].join(', ')})`);
  }
  const fields: SegmentFields = { labelValue: reader.integer(object.labelValue, `${path}.labelValue`, 1, 0xffff) };
  const set = <K extends keyof SegmentFields>(key: K, v: SegmentFields[K] | undefined): void => {
    if (v !== undefined) fields[key] = v;
  };
  set('name', reader.optionalString(object.name, `${path}.name`));
  set('description', reader.optionalString(object.description, `${path}.description`));
  const colourKey = object.color !== undefined ? 'color' : 'colour';
  if (object[colourKey] !== undefined) set('colour', reader.rgb(object[colourKey], `${path}.${colourKey}`));
  if (object.cielab !== undefined) set('lab', reader.lab(object.cielab, `${path}.cielab`));
  set('category', reader.optionalCode(object.category, `${path}.category`));
  set('type', reader.optionalCode(object.type, `${path}.type`));
  set('typeModifier', reader.optionalCode(object.typeModifier, `${path}.typeModifier`));
  set('anatomicRegion', reader.optionalCode(object.anatomicRegion, `${path}.anatomicRegion`));
  set('anatomicRegionModifier', reader.optionalCode(object.anatomicRegionModifier, `${path}.anatomicRegionModifier`));
  set('algorithmType', reader.algorithmType(object.algorithmType, `${path}.algorithmType`));
  set('algorithmName', reader.optionalString(object.algorithmName, `${path}.algorithmName`));
  set('trackingId', reader.optionalString(object.trackingId, `${path}.trackingId`));
  set('trackingUid', reader.optionalString(object.trackingUid, `${path}.trackingUid`));
  return fields;
}

/** One item of dcmqi's segmentAttributes (doc/schemas/segment-context-schema.json of dcmqi). */
function dcmqiSegment(reader: JsonReader, value: Json, path: string): SegmentFields {
  const object = reader.object(value, path);
  const fields: SegmentFields = { labelValue: reader.integer(object.labelID, `${path}.labelID`, 1, 0xffff) };
  const set = <K extends keyof SegmentFields>(key: K, v: SegmentFields[K] | undefined): void => {
    if (v !== undefined) fields[key] = v;
  };
  set('name', reader.optionalString(object.SegmentLabel, `${path}.SegmentLabel`));
  set('description', reader.optionalString(object.SegmentDescription, `${path}.SegmentDescription`));
  if (object.recommendedDisplayRGBValue !== undefined)
    set('colour', reader.rgb(object.recommendedDisplayRGBValue, `${path}.recommendedDisplayRGBValue`));
  if (object.RecommendedDisplayCIELabValue !== undefined)
    set('lab', reader.lab(object.RecommendedDisplayCIELabValue, `${path}.RecommendedDisplayCIELabValue`));
  const code = (key: string) => reader.optionalCode(object[key], `${path}.${key}`);
  set('category', code('SegmentedPropertyCategoryCodeSequence'));
  set('type', code('SegmentedPropertyTypeCodeSequence'));
  set('typeModifier', code('SegmentedPropertyTypeModifierCodeSequence'));
  set('anatomicRegion', code('AnatomicRegionSequence'));
  set('anatomicRegionModifier', code('AnatomicRegionModifierSequence'));
  set('algorithmType', reader.algorithmType(object.SegmentAlgorithmType, `${path}.SegmentAlgorithmType`));
  set('algorithmName', reader.optionalString(object.SegmentAlgorithmName, `${path}.SegmentAlgorithmName`));
  set('trackingId', reader.optionalString(object.TrackingIdentifier, `${path}.TrackingIdentifier`));
  set('trackingUid', reader.optionalString(object.TrackingUniqueIdentifier, `${path}.TrackingUniqueIdentifier`));
  // dcmqi requires a category and a type; a name alone is enough for medvox (defaults from the name).
  fields.name ??= fields.description;
  return fields;
}

function seriesFields(reader: JsonReader, object: Record<string, Json>, keys: Record<keyof LabelTableSeries, string>) {
  const out: LabelTableSeries = {};
  for (const [field, key] of Object.entries(keys) as Array<[keyof LabelTableSeries, string]>) {
    const value = object[key];
    if (value === undefined || value === null) continue;
    if (field === 'seriesNumber' || field === 'instanceNumber') {
      out[field] = reader.integer(value, `$.${key}`, 0, 2 ** 31 - 1);
    } else {
      out[field] = reader.string(value, `$.${key}`, field === 'contentLabel' ? 16 : 64);
    }
  }
  return out;
}

const MEDVOX_SERIES_KEYS: Record<keyof LabelTableSeries, string> = {
  seriesDescription: 'seriesDescription',
  seriesNumber: 'seriesNumber',
  instanceNumber: 'instanceNumber',
  contentLabel: 'contentLabel',
  contentDescription: 'contentDescription',
  contentCreatorName: 'contentCreatorName',
  bodyPartExamined: 'bodyPartExamined',
  clinicalTrialSeriesId: 'clinicalTrialSeriesId',
  clinicalTrialTimePointId: 'clinicalTrialTimePointId',
  clinicalTrialCoordinatingCenterName: 'clinicalTrialCoordinatingCenterName',
};

const DCMQI_SERIES_KEYS: Record<keyof LabelTableSeries, string> = {
  seriesDescription: 'SeriesDescription',
  seriesNumber: 'SeriesNumber',
  instanceNumber: 'InstanceNumber',
  contentLabel: 'ContentLabel',
  contentDescription: 'ContentDescription',
  contentCreatorName: 'ContentCreatorName',
  bodyPartExamined: 'BodyPartExamined',
  clinicalTrialSeriesId: 'ClinicalTrialSeriesID',
  clinicalTrialTimePointId: 'ClinicalTrialTimePointID',
  clinicalTrialCoordinatingCenterName: 'ClinicalTrialCoordinatingCenterName',
};

function finish(
  reader: JsonReader,
  series: LabelTableSeries,
  segments: Array<{ fields: SegmentFields; path: string }>,
) {
  const seen = new Map<number, string>();
  const entries: LabelEntry[] = [];
  for (const { fields, path } of segments) {
    const previous = seen.get(fields.labelValue);
    if (previous) reader.fail(path, `label value ${fields.labelValue} is already described at ${previous}`);
    seen.set(fields.labelValue, path);
    entries.push(completeEntry(fields, reader, path));
  }
  if (entries.length === 0) reader.fail('$', 'the label table describes no segment');
  entries.sort((a, b) => a.labelValue - b.labelValue);
  return { ...series, segments: entries };
}

/** A label table from parsed JSON (any of the accepted formats); `source` names the file in errors. */
export function parseLabelTable(json: Json, source?: string): LabelTable {
  const reader = new JsonReader(source);
  const root = reader.object(json, '$');
  if ('segmentAttributes' in root) {
    const groups = reader.array(root.segmentAttributes, '$.segmentAttributes');
    const segments: Array<{ fields: SegmentFields; path: string }> = [];
    groups.forEach((group, g) => {
      // dcmqi nests one array per input label file; medvox has one labelmap, so label IDs must be unique overall.
      const items = Array.isArray(group) ? group : [group];
      const base = Array.isArray(group) ? `$.segmentAttributes[${g}]` : '$.segmentAttributes';
      items.forEach((item, i) => {
        const path = Array.isArray(group) ? `${base}[${i}]` : `${base}[${g}]`;
        segments.push({ fields: dcmqiSegment(reader, item, path), path });
      });
    });
    return finish(reader, seriesFields(reader, root, DCMQI_SERIES_KEYS), segments);
  }
  if ('segments' in root) {
    const version = root.MedvoxLabelTable;
    if (version !== undefined && version !== LABEL_TABLE_VERSION)
      reader.fail(
        '$.MedvoxLabelTable',
        `version ${describe(version)} is not supported (expected ${LABEL_TABLE_VERSION})`,
      );
    const items = reader.array(root.segments, '$.segments');
    const segments = items.map((item, i) => {
      const path = `$.segments[${i}]`;
      return { fields: medvoxSegment(reader, item, path), path };
    });
    return finish(reader, seriesFields(reader, root, MEDVOX_SERIES_KEYS), segments);
  }
  if ('labels' in root) {
    // What `medvox rtstruct to-nifti` writes beside its masks: { "labels": [{ "value", "name", "color", ... }] }.
    // Its other fields (ROI number, voxel counts, mask files) describe the export and are not read.
    const items = reader.array(root.labels, '$.labels');
    const segments = items.map((item, i) => {
      const path = `$.labels[${i}]`;
      const object = reader.object(item, path);
      const fields: SegmentFields = { labelValue: reader.integer(object.value, `${path}.value`, 1, 0xffff) };
      const name = reader.optionalString(object.name, `${path}.name`);
      if (name !== undefined) fields.name = name;
      if (object.color !== undefined && object.color !== null)
        fields.colour = reader.rgb(object.color, `${path}.color`);
      return { fields, path };
    });
    return finish(reader, {}, segments);
  }
  // A plain map: {"1": "liver"} or {"1": {"name": "liver", "color": [...]}}.
  const segments: Array<{ fields: SegmentFields; path: string }> = [];
  for (const [key, value] of Object.entries(root)) {
    const path = `$[${JSON.stringify(key)}]`;
    if (!/^\d+$/.test(key))
      reader.fail(
        path,
        'expected "segments" (medvox), "labels" (rtstruct to-nifti), "segmentAttributes" (dcmqi) or label values as keys',
      );
    const labelValue = reader.integer(key, path, 0, 0xffff);
    if (labelValue === 0) continue; // background
    const fields =
      typeof value === 'string'
        ? { labelValue, name: reader.string(value, path) }
        : medvoxSegment(reader, { ...reader.object(value, path), labelValue }, path);
    segments.push({ fields, path });
  }
  return finish(reader, {}, segments);
}

/** Parse JSON text; a syntax error is LABELS_INVALID with the position. */
export function parseLabelTableText(text: string, source?: string): LabelTable {
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MedvoxError('LABELS_INVALID', `$: not JSON (${(error as Error).message})`, {
      file: source,
      cause: error,
    });
  }
  return parseLabelTable(json, source);
}

/** The medvox JSON form (RGB and the DICOM CIELab value both written; RGB wins when read back). */
export function labelTableToJson(table: LabelTable): Record<string, unknown> {
  const out: Record<string, unknown> = { MedvoxLabelTable: LABEL_TABLE_VERSION };
  for (const key of Object.keys(MEDVOX_SERIES_KEYS) as Array<keyof LabelTableSeries>) {
    if (table[key] !== undefined) out[key] = table[key];
  }
  out.segments = table.segments.map((entry) => {
    const segment: Record<string, unknown> = { labelValue: entry.labelValue, name: entry.name };
    if (entry.description) segment.description = entry.description;
    segment.color = entry.colour;
    segment.cielab = rgbToDicomLab(entry.colour);
    segment.category = entry.category;
    segment.type = entry.type;
    if (entry.typeModifier) segment.typeModifier = entry.typeModifier;
    if (entry.anatomicRegion) segment.anatomicRegion = entry.anatomicRegion;
    if (entry.anatomicRegionModifier) segment.anatomicRegionModifier = entry.anatomicRegionModifier;
    segment.algorithmType = entry.algorithmType;
    if (entry.algorithmName) segment.algorithmName = entry.algorithmName;
    if (entry.trackingId) segment.trackingId = entry.trackingId;
    if (entry.trackingUid) segment.trackingUid = entry.trackingUid;
    return segment;
  });
  return out;
}

export function labelTableToText(table: LabelTable): string {
  return `${JSON.stringify(labelTableToJson(table), null, 2)}\n`;
}

export interface ResolvedLabels {
  /** Entries for the label values present, sorted by label value. */
  segments: LabelEntry[];
  /** Label values that the table did not describe and that got default entries (autoLabel). */
  autoLabelled: number[];
}

/**
 * The entries for the label values present in a mask. Without a table every value gets a default entry. With a
 * table, a value it does not describe is LABEL_NOT_IN_TABLE, unless `autoLabel` (then a default entry, reported).
 * Table entries for values absent from the mask are left out.
 */
export function resolveLabels(
  table: LabelTable | undefined,
  labelValues: readonly number[],
  options: { autoLabel?: boolean; source?: string } = {},
): ResolvedLabels {
  const values = [...new Set(labelValues)].filter((value) => value !== 0).sort((a, b) => a - b);
  if (!table) return { segments: values.map((value) => defaultEntry(value)), autoLabelled: values };
  const byValue = new Map(table.segments.map((entry) => [entry.labelValue, entry]));
  const missing = values.filter((value) => !byValue.has(value));
  if (missing.length > 0 && !options.autoLabel) {
    const list =
      missing.length > 10 ? `${missing.slice(0, 10).join(', ')}, ... (${missing.length})` : missing.join(', ');
    throw new MedvoxError(
      'LABEL_NOT_IN_TABLE',
      `the mask holds label values the label table does not describe: ${list}`,
      {
        file: options.source,
        hint: 'add them to the label table, or pass --auto-label to give them default names and codes',
      },
    );
  }
  return {
    segments: values.map((value) => byValue.get(value) ?? defaultEntry(value)),
    autoLabelled: missing,
  };
}
