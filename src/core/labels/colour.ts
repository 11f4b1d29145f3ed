/**
 * Segment colours: sRGB (0-255) <-> the scaled CIELab of DICOM's Recommended Display CIELab Value (PS3.3 C.10.7.1.1:
 * L* 0..100 -> 0..0xFFFF, a* and b* -128..127 -> 0..0xFFFF). The conversion is the one dcmqi and 3D Slicer use
 * (sRGB companding, D65 reference white), so colours written by them read back as they showed them.
 */

export type Rgb = [number, number, number];
/** Scaled CIELab as stored in DICOM (three unsigned 16-bit values). */
export type DicomLab = [number, number, number];

// sRGB (linear) -> XYZ, D65 (IEC 61966-2-1), and its exact inverse so that RGB -> Lab -> RGB is stable.
const RGB_TO_XYZ = [0.4124, 0.3576, 0.1805, 0.2126, 0.7152, 0.0722, 0.0193, 0.1192, 0.9505];
const XYZ_TO_RGB = invert3(RGB_TO_XYZ);
const WHITE_D65 = [95.047, 100.0, 108.883];

function invert3(m: number[]): number[] {
  const [a, b, c, d, e, f, g, h, i] = m as [number, number, number, number, number, number, number, number, number];
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    (e * i - f * h) / det,
    (c * h - b * i) / det,
    (b * f - c * e) / det,
    (f * g - d * i) / det,
    (a * i - c * g) / det,
    (c * d - a * f) / det,
    (d * h - e * g) / det,
    (b * g - a * h) / det,
    (a * e - b * d) / det,
  ];
}

const toLinear = (value: number): number => {
  const v = value / 255;
  return (v > 0.04045 ? ((v + 0.055) / 1.055) ** 2.4 : v / 12.92) * 100;
};
const fromLinear = (value: number): number => {
  const v = value / 100;
  const companded = v > 0.0031308 ? 1.055 * v ** (1 / 2.4) - 0.055 : 12.92 * v;
  return Math.min(255, Math.max(0, Math.round(companded * 255)));
};
const f = (t: number): number => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
const fInverse = (t: number): number => (t ** 3 > 0.008856 ? t ** 3 : (t - 16 / 116) / 7.787);

/** sRGB 0-255 -> CIELab (L* 0..100, a*, b*). */
export function rgbToLab(rgb: readonly number[]): [number, number, number] {
  const linear = [toLinear(rgb[0]!), toLinear(rgb[1]!), toLinear(rgb[2]!)];
  const xyz = [0, 1, 2].map(
    (r) => RGB_TO_XYZ[r * 3]! * linear[0]! + RGB_TO_XYZ[r * 3 + 1]! * linear[1]! + RGB_TO_XYZ[r * 3 + 2]! * linear[2]!,
  );
  const [fx, fy, fz] = xyz.map((value, axis) => f(value / WHITE_D65[axis]!)) as [number, number, number];
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/** CIELab -> sRGB 0-255 (clamped, rounded). */
export function labToRgb(lab: readonly number[]): Rgb {
  const fy = (lab[0]! + 16) / 116;
  const fx = fy + lab[1]! / 500;
  const fz = fy - lab[2]! / 200;
  const xyz = [fInverse(fx) * WHITE_D65[0]!, fInverse(fy) * WHITE_D65[1]!, fInverse(fz) * WHITE_D65[2]!];
  const linear = [0, 1, 2].map(
    (r) => XYZ_TO_RGB[r * 3]! * xyz[0]! + XYZ_TO_RGB[r * 3 + 1]! * xyz[1]! + XYZ_TO_RGB[r * 3 + 2]! * xyz[2]!,
  );
  return [fromLinear(linear[0]!), fromLinear(linear[1]!), fromLinear(linear[2]!)];
}

const clamp16 = (value: number): number => Math.min(0xffff, Math.max(0, Math.round(value)));

/** sRGB 0-255 -> Recommended Display CIELab Value (PS3.3 C.10.7.1.1). */
export function rgbToDicomLab(rgb: readonly number[]): DicomLab {
  const [l, a, b] = rgbToLab(rgb);
  return [clamp16((l * 0xffff) / 100), clamp16(((a + 128) * 0xffff) / 255), clamp16(((b + 128) * 0xffff) / 255)];
}

/** Recommended Display CIELab Value -> sRGB 0-255. */
export function dicomLabToRgb(lab: readonly number[]): Rgb {
  return labToRgb([(lab[0]! * 100) / 0xffff, (lab[1]! * 255) / 0xffff - 128, (lab[2]! * 255) / 0xffff - 128]);
}

/**
 * A default colour for a label without one: hues a golden angle apart (well separated for neighbouring label
 * values), moderate saturation so that outlines stay readable over grey images. Deterministic per label value.
 */
export function defaultColour(labelValue: number): Rgb {
  const hue = (Math.abs(Math.trunc(labelValue)) * 137.508) % 360;
  const saturation = 0.6;
  const value = 0.9;
  const chroma = value * saturation;
  const x = chroma * (1 - Math.abs(((hue / 60) % 2) - 1));
  const m = value - chroma;
  const sector = Math.floor(hue / 60);
  const [r, g, b] = [
    [chroma, x, 0],
    [x, chroma, 0],
    [0, chroma, x],
    [0, x, chroma],
    [x, 0, chroma],
    [chroma, 0, x],
  ][sector]!;
  return [Math.round((r! + m) * 255), Math.round((g! + m) * 255), Math.round((b! + m) * 255)];
}
