/**
 * Voxel scaling (nifti1.h "DATA SCALING"): if scl_slope is nonzero, true value = scl_slope * stored + scl_inter;
 * ignored for RGB. For complex values nifti1.h says the scaling "is applied to both the real and imaginary parts";
 * like nibabel, medvox reads that as complex arithmetic: the slope scales both parts, the (real) intercept is added
 * to the real part. Like nibabel, a non-finite slope also means no scaling; a non-finite intercept (which nibabel
 * refuses) counts as 0.
 */
import { datatypeInfo } from './datatype.ts';
import type { NiftiHeader } from './header.ts';
import type { NiftiImage } from './image.ts';

export interface Scaling {
  slope: number;
  inter: number;
}

/** The scaling to apply, or undefined when stored values are the true values (slope 0 / 1 with inter 0, RGB). */
export function scalingOf(header: NiftiHeader): Scaling | undefined {
  const slope = header.sclSlope;
  if (slope === 0 || !Number.isFinite(slope)) return undefined;
  if (!datatypeInfo(header.datatype).scalable) return undefined;
  const inter = Number.isFinite(header.sclInter) ? header.sclInter : 0;
  if (slope === 1 && inter === 0) return undefined;
  return { slope, inter };
}

/**
 * The true value of one stored value (int64 / uint64 beyond 2^53 lose precision, as float64 in nibabel). For a
 * complex datatype this is the real part; an imaginary part is only multiplied by the slope.
 */
export function scaledValue(header: NiftiHeader, stored: number | bigint): number {
  const value = Number(stored);
  const scaling = scalingOf(header);
  return scaling ? value * scaling.slope + scaling.inter : value;
}

export interface ApplyScalingOptions {
  /** Output precision; default float64 (nibabel's get_fdata). float32 halves the memory of a large volume. */
  precision?: 'float32' | 'float64';
}

/**
 * All voxel samples as true values in a new float array (same length and order as `image.data`; complex stays
 * interleaved real, imaginary; RGB samples are returned unscaled).
 */
export function applyScaling(image: NiftiImage, options: ApplyScalingOptions = {}): Float32Array | Float64Array {
  const { data, header } = image;
  const out = options.precision === 'float32' ? new Float32Array(data.length) : new Float64Array(data.length);
  const scaling = scalingOf(header);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < data.length; i++) out[i] = Number(data[i]!);
  } else {
    out.set(data);
  }
  if (scaling) {
    const { slope, inter } = scaling;
    // Complex: real parts at even indices get slope and intercept, imaginary parts the slope only.
    const step = datatypeInfo(header.datatype).samples === 2 ? 2 : 1;
    for (let i = 0; i < out.length; i += step) out[i] = out[i]! * slope + inter;
    for (let i = 1; step === 2 && i < out.length; i += 2) out[i] = out[i]! * slope;
  }
  return out;
}
