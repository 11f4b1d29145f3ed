/**
 * The part of a label table the RTSTRUCT code needs: value -> name and colour. Reads the minimal JSON form
 * `{ "labels": [{ "value": 1, "name": "liver", "color": [r, g, b] }] }` (what `medvox rtstruct to-nifti` writes)
 * and the dcmqi segmentation JSON (`segmentAttributes`: labelID, SegmentLabel, recommendedDisplayRGBValue).
 * The full label table model (coded category / type, algorithm) lives with DICOM-SEG; this module stays a small
 * reader behind `RoiLabel` so the two meet in one place later.
 */
import { MedvoxError } from '../errors.ts';
import type { RGB } from './structure-set.ts';

export interface RoiLabel {
  /** Voxel value in the labelmap (1..65535). */
  value: number;
  name: string;
  color: RGB | undefined;
}

/** Distinct default colours for labels without one (cycled). */
const PALETTE: RGB[] = [
  [230, 25, 75],
  [60, 180, 75],
  [255, 225, 25],
  [0, 130, 200],
  [245, 130, 48],
  [145, 30, 180],
  [70, 240, 240],
  [240, 50, 230],
  [210, 245, 60],
  [250, 190, 212],
  [0, 128, 128],
  [170, 110, 40],
];

export function defaultColor(value: number): RGB {
  return [...PALETTE[(value - 1 + PALETTE.length * 1000) % PALETTE.length]!] as RGB;
}

function fail(message: string, file?: string): never {
  throw new MedvoxError('BAD_LABEL_TABLE', message, {
    file,
    hint: 'expected { "labels": [{ "value": 1, "name": "liver", "color": [r, g, b] }] } (docs/segmentation.md)',
  });
}

function color(value: unknown, where: string, file?: string): RGB | undefined {
  if (value === undefined || value === null) return undefined;
  if (
    !Array.isArray(value) ||
    value.length !== 3 ||
    !value.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255)
  ) {
    fail(`${where}: color must be three integers 0-255`, file);
  }
  return [value[0], value[1], value[2]] as RGB;
}

/** Parse label table JSON text. Duplicate or invalid values, missing names: BAD_LABEL_TABLE. */
export function parseLabelTable(text: string, file?: string): RoiLabel[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    fail(`not JSON: ${(error as Error).message}`, file);
  }
  if (typeof json !== 'object' || json === null) fail('not a JSON object', file);
  const object = json as Record<string, unknown>;
  const entries: Array<{ value: unknown; name: unknown; color: unknown; where: string }> = [];
  if (Array.isArray(object.labels)) {
    object.labels.forEach((entry: unknown, index) => {
      const item = (entry ?? {}) as Record<string, unknown>;
      entries.push({ value: item.value, name: item.name, color: item.color, where: `labels[${index}]` });
    });
  } else if (Array.isArray(object.segmentAttributes)) {
    // dcmqi: segmentAttributes is a list (one per input file) of lists of segments.
    object.segmentAttributes.flat().forEach((entry: unknown, index) => {
      const item = (entry ?? {}) as Record<string, unknown>;
      entries.push({
        value: item.labelID,
        name: item.SegmentLabel,
        color: item.recommendedDisplayRGBValue,
        where: `segmentAttributes[${index}]`,
      });
    });
  } else {
    fail('no "labels" list (or dcmqi "segmentAttributes")', file);
  }
  if (entries.length === 0) fail('the label table is empty', file);
  const seen = new Set<number>();
  return entries.map(({ value, name, color: rgb, where }) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535)
      fail(`${where}: value must be an integer 1-65535, not ${JSON.stringify(value)}`, file);
    if (seen.has(value)) fail(`${where}: value ${value} is defined twice`, file);
    seen.add(value);
    if (typeof name !== 'string' || name.trim() === '') fail(`${where}: name must be a non-empty string`, file);
    return { value, name: name.trim(), color: color(rgb, where, file) };
  });
}
