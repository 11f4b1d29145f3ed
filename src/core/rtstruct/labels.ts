/**
 * The part of a label table the RTSTRUCT code needs: value -> name and colour. The table itself is read by the
 * label table model shared with DICOM-SEG (core/labels), which also reads what `rtstruct to-nifti` writes.
 */
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
