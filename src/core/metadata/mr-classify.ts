/**
 * MR sequence normalisation of one series (or one echo of it): sequence class, field strength, 2D / 3D, fat
 * suppression and contrast, each with the reason a person can check. Every threshold and rule comes from the
 * rules file (mr-config.ts); when no rule is sure the class is "unknown".
 */
import type {
  ClassRule,
  FieldStrengthBand,
  MrCleanConfig,
  NumericField,
  SequenceClass,
  TextField,
} from './mr-config.ts';
import type { MrFeatures } from './mr-features.ts';

export interface MrDecisions {
  isImage: boolean;
  sequenceClass: SequenceClass;
  sequenceClassReason: string;
  /** Id of the rule that decided the class (undefined when unknown or not an image). */
  rule?: string;
  fieldStrengthTesla: number | null;
  fieldStrengthReason: string;
  acquisitionDimension: '2D' | '3D' | null;
  dimensionReason: string;
  isFatSuppressed: boolean | null;
  fatSuppressionReason: string;
  isContrastEnhanced: boolean | null;
  contrastReason: string;
}

export interface FieldStrength {
  tesla: number | null;
  band: FieldStrengthBand;
  reason: string;
}

/** The field strength in Tesla and the threshold band it falls in (the default strength when not recorded). */
export function fieldStrengthOf(features: MrFeatures, config: MrCleanConfig): FieldStrength {
  const bands = config.fieldStrength.bands;
  const bandFor = (tesla: number): FieldStrengthBand =>
    bands.find((band) => tesla <= band.maxTesla) ?? bands[bands.length - 1]!;
  const recorded = features.magneticFieldStrength;
  if (recorded === undefined || !(recorded > 0)) {
    const assumed = config.fieldStrength.defaultTesla;
    const band = bandFor(assumed);
    return {
      tesla: null,
      band,
      reason: `MagneticFieldStrength not recorded; thresholds of ${assumed} T (${band.name}) assumed`,
    };
  }
  // Some old files record Gauss (15000 for 1.5 T); no clinical magnet exceeds 100 T.
  const tesla = recorded > 100 ? recorded / 10000 : recorded;
  const band = bandFor(tesla);
  const unit = recorded > 100 ? ` (recorded as ${recorded}, read as Gauss)` : '';
  return {
    tesla: Math.round(tesla * 1000) / 1000,
    band,
    reason: `MagneticFieldStrength ${tesla} T${unit}: ${band.name} thresholds`,
  };
}

function textOf(features: MrFeatures, field: TextField): string {
  switch (field) {
    case 'SeriesDescription':
      return features.seriesDescription;
    case 'ProtocolName':
      return features.protocolName;
    case 'SequenceName':
      return features.sequenceName;
    case 'ImageType':
      return features.imageType.join('\\');
  }
}

const NUMERIC_VALUE: Record<NumericField, (features: MrFeatures) => number | undefined> = {
  RepetitionTime: (f) => f.repetitionTime,
  EchoTime: (f) => f.echoTime,
  InversionTime: (f) => f.inversionTime,
  FlipAngle: (f) => f.flipAngle,
};
const SHORT_NAME: Record<NumericField, string> = {
  RepetitionTime: 'TR',
  EchoTime: 'TE',
  InversionTime: 'TI',
  FlipAngle: 'flip',
};

/** Whether a rule matches; the evidence (for the reason) when it does. */
function matchRule(
  rule: ClassRule,
  features: MrFeatures,
  config: MrCleanConfig,
  band: FieldStrengthBand,
): string[] | undefined {
  const evidence: string[] = [];
  if (rule.pattern || rule.notPattern) {
    const fields = rule.fields ?? config.textFields;
    const texts = fields.map((field) => [field, textOf(features, field)] as const).filter(([, text]) => text !== '');
    if (rule.pattern) {
      const hit = texts.find(([, text]) => rule.pattern!.test(text));
      if (!hit) return undefined;
      const matched = rule.pattern.exec(hit[1])?.[0]?.trim() ?? '';
      evidence.push(`${hit[0]} "${hit[1]}" matches /${rule.pattern.source}/ ("${matched}")`);
    }
    if (rule.notPattern && texts.some(([, text]) => rule.notPattern!.test(text))) return undefined;
  }
  if (rule.imageType) {
    const hit = rule.imageType.find((value) => features.imageType.includes(value));
    if (!hit) return undefined;
    evidence.push(`ImageType contains ${hit}`);
  }
  if (rule.scanningSequence) {
    if (!rule.scanningSequence.every((value) => features.scanningSequence.includes(value))) return undefined;
    evidence.push(`ScanningSequence ${features.scanningSequence.join('\\')}`);
  }
  if (rule.notScanningSequence?.some((value) => features.scanningSequence.includes(value))) return undefined;
  if (rule.sequenceVariant) {
    if (!rule.sequenceVariant.every((value) => features.sequenceVariant.includes(value))) return undefined;
    evidence.push(`SequenceVariant ${features.sequenceVariant.join('\\')}`);
  }
  if (rule.sequenceName) {
    if (!rule.sequenceName.test(features.sequenceName)) return undefined;
    evidence.push(`SequenceName "${features.sequenceName}" matches /${rule.sequenceName.source}/`);
  }
  if (rule.acquisitionContrast) {
    if (!rule.acquisitionContrast.includes(features.acquisitionContrast)) return undefined;
    evidence.push(`AcquisitionContrast ${features.acquisitionContrast}`);
  }
  if (rule.mrAcquisitionType) {
    if (features.mrAcquisitionType !== rule.mrAcquisitionType) return undefined;
    evidence.push(`MRAcquisitionType ${rule.mrAcquisitionType}`);
  }
  if (rule.diffusion !== undefined) {
    const weighted = (features.diffusionBValue ?? 0) > 0 || !['', 'NONE'].includes(features.diffusionDirectionality);
    if (weighted !== rule.diffusion) return undefined;
    evidence.push(weighted ? `diffusion weighted (b = ${features.diffusionBValue ?? '?'})` : 'no diffusion weighting');
  }
  for (const [field, range] of Object.entries(rule.ranges) as Array<
    [NumericField, NonNullable<ClassRule['ranges'][NumericField]>]
  >) {
    const value = NUMERIC_VALUE[field](features);
    if (value === undefined) return undefined;
    const resolve = (bound: number | string): number => (typeof bound === 'number' ? bound : band.thresholds[bound]!);
    const parts: string[] = [];
    if (range.min !== undefined) {
      if (!(value >= resolve(range.min))) return undefined;
      parts.push(`>= ${typeof range.min === 'string' ? `${range.min} ${resolve(range.min)}` : range.min}`);
    }
    if (range.max !== undefined) {
      if (!(value <= resolve(range.max))) return undefined;
      parts.push(`<= ${typeof range.max === 'string' ? `${range.max} ${resolve(range.max)}` : range.max}`);
    }
    evidence.push(`${SHORT_NAME[field]} ${value} ${parts.join(' and ')}`);
  }
  return evidence;
}

export function classifySequence(
  features: MrFeatures,
  config: MrCleanConfig,
  band: FieldStrengthBand = fieldStrengthOf(features, config).band,
): { sequenceClass: SequenceClass; reason: string; rule?: string } {
  if (!features.isImage) {
    return { sequenceClass: 'unknown', reason: `not an image: ${features.notImageReason ?? 'no pixel data'}` };
  }
  for (const rule of config.rules) {
    const evidence = matchRule(rule, features, config, band);
    if (evidence) {
      return { sequenceClass: rule.class, reason: `rule ${rule.id}: ${evidence.join('; ')}`, rule: rule.id };
    }
  }
  const known = [
    features.seriesDescription && `SeriesDescription "${features.seriesDescription}"`,
    features.repetitionTime !== undefined && `TR ${features.repetitionTime}`,
    features.echoTime !== undefined && `TE ${features.echoTime}`,
    features.scanningSequence.length > 0 && `ScanningSequence ${features.scanningSequence.join('\\')}`,
  ].filter(Boolean);
  return {
    sequenceClass: 'unknown',
    reason: `no rule matched (${known.length ? known.join(', ') : 'no names or timing recorded'})`,
  };
}

function dimension(features: MrFeatures): Pick<MrDecisions, 'acquisitionDimension' | 'dimensionReason'> {
  if (features.mrAcquisitionType === '2D' || features.mrAcquisitionType === '3D')
    return {
      acquisitionDimension: features.mrAcquisitionType,
      dimensionReason: `MRAcquisitionType ${features.mrAcquisitionType}`,
    };
  return {
    acquisitionDimension: null,
    dimensionReason: features.mrAcquisitionType
      ? `MRAcquisitionType "${features.mrAcquisitionType}" is neither 2D nor 3D`
      : 'MRAcquisitionType not recorded',
  };
}

function fatSuppression(
  features: MrFeatures,
  config: MrCleanConfig,
  band: FieldStrengthBand,
): Pick<MrDecisions, 'isFatSuppressed' | 'fatSuppressionReason'> {
  const rules = config.fatSuppression;
  const option = features.scanOptions.find((value) => rules.scanOptions.includes(value));
  if (option) return { isFatSuppressed: true, fatSuppressionReason: `ScanOptions contains ${option}` };
  if (rules.suppressionValues.includes(features.spectrallySelectedSuppression))
    return {
      isFatSuppressed: true,
      fatSuppressionReason: `SpectrallySelectedSuppression ${features.spectrallySelectedSuppression}`,
    };
  const names = [features.seriesDescription, features.protocolName].filter((text) => text !== '');
  const negative = rules.negativePattern && names.find((text) => rules.negativePattern!.test(text));
  if (negative) return { isFatSuppressed: false, fatSuppressionReason: `name "${negative}" says no fat suppression` };
  const positive = rules.pattern && names.find((text) => rules.pattern!.test(text));
  if (positive)
    return { isFatSuppressed: true, fatSuppressionReason: `name "${positive}" matches /${rules.pattern!.source}/` };
  const stirMax = band.thresholds.TI_stir_max;
  if (
    rules.stir &&
    stirMax !== undefined &&
    features.inversionTime !== undefined &&
    features.inversionTime > 0 &&
    features.inversionTime <= stirMax &&
    !features.scanningSequence.includes('GR')
  ) {
    return {
      isFatSuppressed: true,
      fatSuppressionReason: `STIR: inversion time ${features.inversionTime} <= TI_stir_max ${stirMax}`,
    };
  }
  return {
    isFatSuppressed: rules.whenNoEvidence,
    fatSuppressionReason: 'no fat-suppression scan option, suppression attribute, name or STIR inversion',
  };
}

function contrastEnhancement(
  features: MrFeatures,
  config: MrCleanConfig,
): Pick<MrDecisions, 'isContrastEnhanced' | 'contrastReason'> {
  const rules = config.contrast;
  const agent = features.contrastBolusAgent;
  if (agent !== '' && !rules.noAgentValues.includes(agent.toUpperCase()))
    return { isContrastEnhanced: true, contrastReason: `ContrastBolusAgent "${agent}"` };
  const names = [features.seriesDescription, features.protocolName].filter((text) => text !== '');
  const negative = rules.negativePattern && names.find((text) => rules.negativePattern!.test(text));
  if (negative)
    return { isContrastEnhanced: false, contrastReason: `name "${negative}" says before / without contrast` };
  const positive = rules.pattern && names.find((text) => rules.pattern!.test(text));
  if (positive)
    return { isContrastEnhanced: true, contrastReason: `name "${positive}" matches /${rules.pattern!.source}/` };
  return {
    isContrastEnhanced: rules.whenNoEvidence,
    contrastReason:
      agent === ''
        ? 'no ContrastBolusAgent and no contrast words in the names'
        : `ContrastBolusAgent "${agent}" means none`,
  };
}

/** Every decision for one series (or echo), from its representative instance's features. */
export function classifyMr(features: MrFeatures, config: MrCleanConfig): MrDecisions {
  const strength = fieldStrengthOf(features, config);
  const sequence = classifySequence(features, config, strength.band);
  const decisions: MrDecisions = {
    isImage: features.isImage,
    sequenceClass: sequence.sequenceClass,
    sequenceClassReason: sequence.reason,
    fieldStrengthTesla: strength.tesla,
    fieldStrengthReason: strength.reason,
    ...dimension(features),
    ...fatSuppression(features, config, strength.band),
    ...contrastEnhancement(features, config),
  };
  if (sequence.rule) decisions.rule = sequence.rule;
  return decisions;
}
