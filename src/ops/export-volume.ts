/**
 * `medvox export`: one image series -> one file. NPZ as the original tool defined it: a single float32 array
 * `data`, shape [Z, Y, X], Z from head to foot, each slice in axial display orientation (patient Left on the
 * image right, Anterior at the top), real (rescaled) values, optionally normalised; or NIfTI (as medvox convert
 * writes the volume, without the sidecar).
 */
import { MedvoxError } from '../core/errors.ts';
import type { Mat4 } from '../core/geometry/affine.ts';
import { axialDisplayOrder } from '../core/geometry/display.ts';
import type { StackWarning } from '../core/geometry/stack.ts';
import { type Volume, volumeToNifti } from '../core/volume/index.ts';
import { loadVolumes, singleVolume } from '../io/load-volume.ts';
import { writeNiftiFile } from '../io/nifti-file.ts';
import { writeNpzFile } from '../io/npz-file.ts';
import { MEDVOX_VERSION } from '../version.ts';

export type Normalization =
  | { kind: 'none' }
  | { kind: 'minmax' }
  | { kind: 'zscore' }
  /** Clip to [center - width/2, center + width/2], then scale to [0, 1] (DICOM VOI window, linear). */
  | { kind: 'window'; center: number; width: number };

export interface ExportVolumeOptions {
  input: string[];
  format: 'npz' | 'nifti';
  output: string;
  /** NPZ only; default none. */
  normalize?: Normalization;
}

export interface ExportVolumeResult {
  output: string;
  /** NPZ: [Z, Y, X]; NIfTI: [X, Y, Z]. */
  shape: number[];
  /** NPZ: voxel (x, y, z) of the array -> LPS mm (slices at a constant step: see warnings for uneven stacks). */
  affineLPS: Mat4;
  warnings: StackWarning[];
  /** What normalisation did: the values mapped to 0 / 1 (minmax, window) or the mean and SD (zscore). */
  normalization: Record<string, number | string>;
}

/** Parse `none`, `minmax`, `zscore` or `window:C,W`. */
export function parseNormalization(text: string): Normalization {
  if (text === 'none' || text === 'minmax' || text === 'zscore') return { kind: text };
  const match = /^window:(-?[0-9.eE+-]+),([0-9.eE+-]+)$/.exec(text);
  if (match) {
    const center = Number(match[1]);
    const width = Number(match[2]);
    if (Number.isFinite(center) && width > 0) return { kind: 'window', center, width };
  }
  throw new MedvoxError('USAGE', `--normalize must be none, minmax, zscore or window:C,W (W > 0), not ${text}`);
}

/** Real values as float32 (stored * slope + intercept). */
function realValues(volume: Volume): Float32Array {
  const { data, rescaleSlope: slope, rescaleIntercept: intercept } = volume;
  const out = new Float32Array(data.length);
  for (let v = 0; v < data.length; v++) out[v] = Number(data[v]) * slope + intercept;
  return out;
}

function normalize(values: Float32Array, how: Normalization): Record<string, number | string> {
  if (how.kind === 'none') return { kind: 'none' };
  if (how.kind === 'window') {
    const low = how.center - how.width / 2;
    for (let v = 0; v < values.length; v++) values[v] = Math.min(1, Math.max(0, (values[v]! - low) / how.width));
    return { kind: 'window', center: how.center, width: how.width, zeroAt: low, oneAt: low + how.width };
  }
  if (how.kind === 'minmax') {
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const value of values) {
      if (value < min) min = value;
      if (value > max) max = value;
    }
    const range = max - min || 1;
    for (let v = 0; v < values.length; v++) values[v] = (values[v]! - min) / range;
    return { kind: 'minmax', zeroAt: min, oneAt: max };
  }
  let sum = 0;
  for (const value of values) sum += value;
  const mean = sum / values.length;
  let squares = 0;
  for (const value of values) squares += (value - mean) ** 2;
  const sd = Math.sqrt(squares / values.length) || 1;
  for (let v = 0; v < values.length; v++) values[v] = (values[v]! - mean) / sd;
  return { kind: 'zscore', mean, sd };
}

export async function exportVolume(options: ExportVolumeOptions): Promise<ExportVolumeResult> {
  const volume = singleVolume(await loadVolumes(options.input), options.input, '--input');
  const [nx, ny, nz, nt] = volume.dims;
  if (options.format === 'nifti') {
    await writeNiftiFile(options.output, volumeToNifti(volume, `medvox ${MEDVOX_VERSION}`));
    return {
      output: options.output,
      shape: [...volume.dims.slice(0, nt > 1 ? 4 : 3)],
      affineLPS: volume.affineLPS,
      warnings: volume.warnings,
      normalization: { kind: 'none' },
    };
  }
  if (volume.samplesPerPixel !== 1) {
    throw new MedvoxError('UNSUPPORTED_PIXEL_FORMAT', 'NPZ export holds grey values; this series is colour', {
      file: volume.first.source,
    });
  }
  if (nt > 1) {
    throw new MedvoxError('USAGE', `NPZ export holds one 3D volume; this series is 4D (${volume.dims.join('x')})`, {
      file: volume.first.source,
      hint: 'export NIfTI (--format nifti) for 4D series',
    });
  }
  const values = realValues(volume);
  const normalization = normalize(values, options.normalize ?? { kind: 'none' });
  const display = axialDisplayOrder(values, [nx, ny, nz], volume.affineLPS);
  const [x, y, z] = display.dims;
  await writeNpzFile(options.output, [
    {
      name: 'data',
      descr: '<f4',
      shape: [z, y, x],
      bytes: new Uint8Array(display.data.buffer, display.data.byteOffset, display.data.byteLength),
    },
  ]);
  return {
    output: options.output,
    shape: [z, y, x],
    affineLPS: display.affine,
    warnings: volume.warnings,
    normalization,
  };
}
