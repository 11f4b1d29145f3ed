/**
 * The MR normalisation rules (`mr_clean_config.json`, docs/metadata.md): thresholds by field strength, ordered
 * classification rules (names, Image Type, sequence family, TR / TE / TI), fat suppression, contrast, orientation
 * tolerance and dynamic grouping. The shipped file is the default; a user file or object overrides it section by
 * section. Every malformed value is a RULES_INVALID error naming its JSON path (`rules[3].pattern: not a string`).
 */
import { MedvoxError } from '../errors.ts';
import defaultConfigJson from './mr_clean_config.json' with { type: 'json' };

export const SEQUENCE_CLASSES = [
  'T1',
  'T2',
  'PD',
  'FLAIR',
  'DWI',
  'ADC',
  'SWI',
  'T2*',
  'BOLD',
  'ASL',
  'perfusion',
  'angiography',
  'field map',
  'localizer',
  'other',
  'unknown',
] as const;
export type SequenceClass = (typeof SEQUENCE_CLASSES)[number];

/** Text a rule's pattern can be tested on. */
export const TEXT_FIELDS = ['SeriesDescription', 'ProtocolName', 'SequenceName', 'ImageType'] as const;
export type TextField = (typeof TEXT_FIELDS)[number];

/** Numeric acquisition parameters a rule can bound (ms, ms, ms, degrees). */
export const NUMERIC_FIELDS = ['RepetitionTime', 'EchoTime', 'InversionTime', 'FlipAngle'] as const;
export type NumericField = (typeof NUMERIC_FIELDS)[number];

/** A bound: a number, or the name of a threshold of the series' field-strength band (`TE_long`). */
export type Bound = number | string;
export interface Range {
  min?: Bound;
  max?: Bound;
}

export interface ClassRule {
  id: string;
  class: SequenceClass;
  description?: string;
  pattern?: RegExp;
  notPattern?: RegExp;
  fields?: TextField[];
  imageType?: string[];
  scanningSequence?: string[];
  notScanningSequence?: string[];
  sequenceVariant?: string[];
  sequenceName?: RegExp;
  acquisitionContrast?: string[];
  mrAcquisitionType?: '2D' | '3D';
  diffusion?: boolean;
  ranges: Partial<Record<NumericField, Range>>;
}

export interface FieldStrengthBand {
  name: string;
  maxTesla: number;
  thresholds: Record<string, number>;
}

export const DYNAMIC_KEYS = [
  'protocol',
  'SequenceName',
  'sequenceClass',
  'matrix',
  'standardOrientation',
  'RepetitionTime',
  'EchoTime',
  'FlipAngle',
  'ImageType',
] as const;
export type DynamicKey = (typeof DYNAMIC_KEYS)[number];

export interface MrCleanConfig {
  version: number;
  textFields: TextField[];
  fieldStrength: { defaultTesla: number; bands: FieldStrengthBand[] };
  rules: ClassRule[];
  fatSuppression: {
    scanOptions: string[];
    suppressionValues: string[];
    pattern?: RegExp;
    negativePattern?: RegExp;
    stir: boolean;
    whenNoEvidence: boolean | null;
  };
  contrast: {
    noAgentValues: string[];
    pattern?: RegExp;
    negativePattern?: RegExp;
    whenNoEvidence: boolean | null;
  };
  orientation: { toleranceDegrees: number };
  dynamic: {
    groupBy: DynamicKey[];
    stripPattern?: RegExp;
    maxGapSeconds: number;
    minSeries: number;
    excludeClasses: SequenceClass[];
  };
  /** Where the rules came from (a file, `built-in`, or `built-in + FILE`). */
  source: string;
}

/** The shipped rules file as JSON (for `medvox metadata --write-config`). */
export const DEFAULT_MR_CONFIG_JSON: unknown = defaultConfigJson;

const SECTIONS = [
  'version',
  'textFields',
  'fieldStrength',
  'rules',
  'fatSuppression',
  'contrast',
  'orientation',
  'dynamic',
];

/**
 * The rules in force: the shipped file, with each top-level section present in `override` replacing the shipped
 * one (a user file with only `rules` keeps the shipped thresholds). `source` names the override in errors.
 */
export function loadMrConfig(override?: unknown, source = 'mr_clean_config.json'): MrCleanConfig {
  const base = defaultConfigJson as Record<string, unknown>;
  if (override === undefined) return parseMrConfig(base, 'built-in:mr_clean_config.json');
  if (typeof override !== 'object' || override === null || Array.isArray(override))
    invalid(source, '(top level)', 'the rules file is a JSON object');
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override as Record<string, unknown>)) {
    if (!SECTIONS.includes(key)) invalid(source, key, `unknown section (allowed: ${SECTIONS.join(', ')})`);
    merged[key] = value;
  }
  const config = parseMrConfig(merged, source);
  config.source = `built-in + ${source}`;
  return config;
}

function invalid(source: string, path: string, message: string): never {
  throw new MedvoxError('RULES_INVALID', `${path}: ${message}`, {
    file: source,
    hint: 'see docs/metadata.md for the rules file format',
  });
}

/** Typed access to a JSON value, failing with its JSON path. */
class Reader {
  constructor(
    readonly source: string,
    readonly value: unknown,
    readonly path: string,
  ) {}
  fail(message: string): never {
    return invalid(this.source, this.path || '(top level)', message);
  }
  at(key: string | number): Reader {
    const value =
      typeof key === 'number' ? (this.value as unknown[])[key] : (this.value as Record<string, unknown>)[key];
    const path = typeof key === 'number' ? `${this.path}[${key}]` : this.path ? `${this.path}.${key}` : key;
    return new Reader(this.source, value, path);
  }
  get present(): boolean {
    return this.value !== undefined;
  }
  /** An object whose keys are all in `allowed` (any keys when null). */
  object(allowed: readonly string[] | null): this {
    if (typeof this.value !== 'object' || this.value === null || Array.isArray(this.value)) this.fail('not an object');
    if (allowed === null) return this;
    for (const key of Object.keys(this.value as object))
      if (!allowed.includes(key)) this.at(key).fail(`unknown key (allowed: ${allowed.join(', ')})`);
    return this;
  }
  array(): Reader[] {
    if (!Array.isArray(this.value)) this.fail('not an array');
    return (this.value as unknown[]).map((_, index) => this.at(index));
  }
  string(): string {
    if (typeof this.value !== 'string') this.fail('not a string');
    return this.value as string;
  }
  number(): number {
    if (typeof this.value !== 'number' || !Number.isFinite(this.value)) this.fail('not a number');
    return this.value as number;
  }
  boolean(): boolean {
    if (typeof this.value !== 'boolean') this.fail('not true or false');
    return this.value as boolean;
  }
  booleanOrNull(): boolean | null {
    if (this.value === null) return null;
    if (typeof this.value !== 'boolean') this.fail('not true, false or null');
    return this.value as boolean;
  }
  strings(): string[] {
    return this.array().map((item) => item.string());
  }
  oneOf<T extends string>(choices: readonly T[]): T {
    const value = this.string();
    if (!choices.includes(value as T)) this.fail(`"${value}" is not one of ${choices.map((c) => `"${c}"`).join(', ')}`);
    return value as T;
  }
  regex(): RegExp {
    const text = this.string();
    try {
      return new RegExp(text, 'i');
    } catch (error) {
      return this.fail(`not a valid regular expression (${(error as Error).message})`);
    }
  }
}

const RULE_KEYS = [
  'id',
  'class',
  'description',
  'pattern',
  'notPattern',
  'fields',
  'imageType',
  'scanningSequence',
  'notScanningSequence',
  'sequenceVariant',
  'sequenceName',
  'acquisitionContrast',
  'mrAcquisitionType',
  'diffusion',
  ...NUMERIC_FIELDS,
];

/** Validate a complete rules object (every section present). */
export function parseMrConfig(json: unknown, source: string): MrCleanConfig {
  const root = new Reader(source, json, '').object(SECTIONS);
  for (const section of SECTIONS) if (!root.at(section).present) root.at(section).fail('missing');
  const version = root.at('version').number();
  if (version !== 1) root.at('version').fail(`unsupported version ${version} (this medvox reads version 1)`);

  const textFields = root
    .at('textFields')
    .array()
    .map((item) => item.oneOf(TEXT_FIELDS));

  const strength = root.at('fieldStrength').object(['defaultTesla', 'bands']);
  const bands = strength
    .at('bands')
    .array()
    .map((band) => {
      band.object(['name', 'maxTesla', 'thresholds']);
      const thresholds: Record<string, number> = {};
      const table = band.at('thresholds').object(null);
      for (const key of Object.keys(table.value as object)) thresholds[key] = table.at(key).number();
      return { name: band.at('name').string(), maxTesla: band.at('maxTesla').number(), thresholds };
    });
  if (bands.length === 0) strength.at('bands').fail('needs at least one band');
  bands.sort((a, b) => a.maxTesla - b.maxTesla);
  const thresholdNames = new Set(bands.flatMap((band) => Object.keys(band.thresholds)));
  // A named bound must exist in every band, or a series at some field strength would have no threshold.
  const everyBand = (name: string): boolean => bands.every((band) => band.thresholds[name] !== undefined);

  const rules = root
    .at('rules')
    .array()
    .map((item): ClassRule => {
      item.object(RULE_KEYS);
      const rule: ClassRule = {
        id: item.at('id').string(),
        class: item.at('class').oneOf(SEQUENCE_CLASSES),
        ranges: {},
      };
      if (item.at('description').present) rule.description = item.at('description').string();
      if (item.at('pattern').present) rule.pattern = item.at('pattern').regex();
      if (item.at('notPattern').present) rule.notPattern = item.at('notPattern').regex();
      if (item.at('fields').present)
        rule.fields = item
          .at('fields')
          .array()
          .map((f) => f.oneOf(TEXT_FIELDS));
      const upperList = (key: string): string[] | undefined =>
        item.at(key).present
          ? item
              .at(key)
              .strings()
              .map((value) => value.toUpperCase())
          : undefined;
      const imageType = upperList('imageType');
      if (imageType) rule.imageType = imageType;
      const scanning = upperList('scanningSequence');
      if (scanning) rule.scanningSequence = scanning;
      const notScanning = upperList('notScanningSequence');
      if (notScanning) rule.notScanningSequence = notScanning;
      const variant = upperList('sequenceVariant');
      if (variant) rule.sequenceVariant = variant;
      const contrast = upperList('acquisitionContrast');
      if (contrast) rule.acquisitionContrast = contrast;
      if (item.at('sequenceName').present) rule.sequenceName = item.at('sequenceName').regex();
      if (item.at('mrAcquisitionType').present)
        rule.mrAcquisitionType = item.at('mrAcquisitionType').oneOf(['2D', '3D'] as const);
      if (item.at('diffusion').present) rule.diffusion = item.at('diffusion').boolean();
      for (const field of NUMERIC_FIELDS) {
        const range = item.at(field);
        if (!range.present) continue;
        range.object(['min', 'max']);
        const parsed: Range = {};
        for (const end of ['min', 'max'] as const) {
          const bound = range.at(end);
          if (!bound.present) continue;
          if (typeof bound.value === 'string') {
            if (!thresholdNames.has(bound.value) || !everyBand(bound.value))
              bound.fail(`"${bound.value}" is not a threshold of every fieldStrength band`);
            parsed[end] = bound.value;
          } else parsed[end] = bound.number();
        }
        if (parsed.min === undefined && parsed.max === undefined) range.fail('needs "min" or "max"');
        rule.ranges[field] = parsed;
      }
      const conditions = Object.keys(item.value as object).filter(
        (key) => !['id', 'class', 'description'].includes(key),
      );
      if (conditions.length === 0) item.fail('a rule needs at least one condition (it would match everything)');
      return rule;
    });
  const ids = new Set<string>();
  rules.forEach((rule, index) => {
    if (ids.has(rule.id)) root.at('rules').at(index).at('id').fail(`duplicate rule id "${rule.id}"`);
    ids.add(rule.id);
  });

  const fat = root
    .at('fatSuppression')
    .object(['scanOptions', 'suppressionValues', 'pattern', 'negativePattern', 'stir', 'whenNoEvidence']);
  const fatSuppression: MrCleanConfig['fatSuppression'] = {
    scanOptions: fat
      .at('scanOptions')
      .strings()
      .map((value) => value.toUpperCase()),
    suppressionValues: fat
      .at('suppressionValues')
      .strings()
      .map((value) => value.toUpperCase()),
    stir: fat.at('stir').boolean(),
    whenNoEvidence: fat.at('whenNoEvidence').booleanOrNull(),
  };
  if (fat.at('pattern').present) fatSuppression.pattern = fat.at('pattern').regex();
  if (fat.at('negativePattern').present) fatSuppression.negativePattern = fat.at('negativePattern').regex();

  const contrastReader = root.at('contrast').object(['noAgentValues', 'pattern', 'negativePattern', 'whenNoEvidence']);
  const contrast: MrCleanConfig['contrast'] = {
    noAgentValues: contrastReader
      .at('noAgentValues')
      .strings()
      .map((value) => value.toUpperCase()),
    whenNoEvidence: contrastReader.at('whenNoEvidence').booleanOrNull(),
  };
  if (contrastReader.at('pattern').present) contrast.pattern = contrastReader.at('pattern').regex();
  if (contrastReader.at('negativePattern').present)
    contrast.negativePattern = contrastReader.at('negativePattern').regex();

  const orientationReader = root.at('orientation').object(['toleranceDegrees']);
  const toleranceDegrees = orientationReader.at('toleranceDegrees').number();
  if (toleranceDegrees < 0 || toleranceDegrees >= 45)
    orientationReader.at('toleranceDegrees').fail('must be at least 0 and below 45 degrees');

  const dynamicReader = root
    .at('dynamic')
    .object(['groupBy', 'stripPattern', 'maxGapSeconds', 'minSeries', 'excludeClasses']);
  const dynamic: MrCleanConfig['dynamic'] = {
    groupBy: dynamicReader
      .at('groupBy')
      .array()
      .map((key) => key.oneOf(DYNAMIC_KEYS)),
    maxGapSeconds: dynamicReader.at('maxGapSeconds').number(),
    minSeries: dynamicReader.at('minSeries').number(),
    excludeClasses: dynamicReader
      .at('excludeClasses')
      .array()
      .map((value) => value.oneOf(SEQUENCE_CLASSES)),
  };
  if (dynamicReader.at('stripPattern').present) dynamic.stripPattern = dynamicReader.at('stripPattern').regex();
  if (dynamic.minSeries < 2) dynamicReader.at('minSeries').fail('must be at least 2');

  const defaultTesla = strength.at('defaultTesla').number();
  return {
    version,
    textFields,
    fieldStrength: { defaultTesla, bands },
    rules,
    fatSuppression,
    contrast,
    orientation: { toleranceDegrees },
    dynamic,
    source,
  };
}
