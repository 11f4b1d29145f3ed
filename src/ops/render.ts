/**
 * Server-side rendering of one slice of a stored volume: window / level on real values (stored x slope +
 * intercept), optionally a labelmap overlay in its segment colours. Rows are shown top to bottom as DICOM rows
 * (the volume's j axis runs the other way: j = rows-1-r).
 */
import { MedvoxError } from '../core/errors.ts';
import { defaultColour } from '../core/labels/index.ts';
import { encodePng } from '../io/png.ts';
import type { BlobStore, VolumeHeader, VolumeRow } from '../store/types.ts';

export interface RenderOptions {
  windowCenter?: number;
  windowWidth?: number;
  overlay?: { volume: VolumeRow; colours: Map<number, readonly [number, number, number]>; opacity?: number };
  /** Largest side of the image (thumbnails); nearest-neighbour downsampling. */
  maxSize?: number;
}

type Typed = Uint8Array | Int8Array | Uint16Array | Int16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

export function typedView(header: VolumeHeader, bytes: Uint8Array): Typed {
  const copy = bytes.byteOffset % header.bytesPerVoxel === 0 ? bytes : bytes.slice();
  const { buffer, byteOffset, byteLength } = copy;
  const n = byteLength / header.bytesPerVoxel;
  switch (header.datatype) {
    case 'uint8':
      return new Uint8Array(buffer, byteOffset, n);
    case 'int8':
      return new Int8Array(buffer, byteOffset, n);
    case 'uint16':
      return new Uint16Array(buffer, byteOffset, n);
    case 'int16':
      return new Int16Array(buffer, byteOffset, n);
    case 'int32':
      return new Int32Array(buffer, byteOffset, n);
    case 'uint32':
      return new Uint32Array(buffer, byteOffset, n);
    case 'float32':
      return new Float32Array(buffer, byteOffset, n);
    case 'float64':
      return new Float64Array(buffer, byteOffset, n);
  }
}

export async function readSlice(blobs: BlobStore, volume: VolumeRow, slice: number): Promise<Typed> {
  const [nx, ny, nz] = volume.header.dims;
  if (!Number.isInteger(slice) || slice < 0 || slice >= nz) {
    throw new MedvoxError('NOT_FOUND', `slice ${slice} is not in the volume (0..${nz - 1})`);
  }
  const bytes = nx * ny * volume.header.bytesPerVoxel * volume.header.samplesPerPixel;
  return typedView(volume.header, await blobs.read(volume.blob, slice * bytes, bytes));
}

export function defaultWindow(header: VolumeHeader): { center: number; width: number } {
  if (header.windowCenter !== undefined && header.windowWidth !== undefined && header.windowWidth > 0)
    return { center: header.windowCenter, width: header.windowWidth };
  const low = header.min * header.rescaleSlope + header.rescaleIntercept;
  const high = header.max * header.rescaleSlope + header.rescaleIntercept;
  return { center: (low + high) / 2, width: Math.max(high - low, 1) };
}

export async function renderSlice(
  blobs: BlobStore,
  volume: VolumeRow,
  slice: number,
  options: RenderOptions = {},
): Promise<Uint8Array> {
  const [nx, ny] = volume.header.dims;
  const voxels = await readSlice(blobs, volume, slice);
  const fallback = defaultWindow(volume.header);
  const center = options.windowCenter ?? fallback.center;
  const width = Math.max(options.windowWidth ?? fallback.width, 1e-6);
  const { rescaleSlope: slope, rescaleIntercept: intercept } = volume.header;
  const step = options.maxSize ? Math.max(1, Math.ceil(Math.max(nx, ny) / options.maxSize)) : 1;
  const width2 = Math.ceil(nx / step);
  const height2 = Math.ceil(ny / step);
  let labels: Typed | undefined;
  if (options.overlay) labels = await readSlice(blobs, options.overlay.volume, slice);
  const channels = labels || volume.header.samplesPerPixel === 3 ? 3 : 1;
  const out = new Uint8Array(width2 * height2 * channels);
  const low = center - width / 2;
  const opacity = options.overlay?.opacity ?? 0.5;
  for (let y = 0; y < height2; y++) {
    const j = ny - 1 - y * step;
    for (let x = 0; x < width2; x++) {
      const i = x * step;
      const index = j * nx + i;
      const o = (y * width2 + x) * channels;
      if (volume.header.samplesPerPixel === 3) {
        out[o] = Number(voxels[index * 3]);
        out[o + 1] = Number(voxels[index * 3 + 1]);
        out[o + 2] = Number(voxels[index * 3 + 2]);
        continue;
      }
      const real = Number(voxels[index]) * slope + intercept;
      const grey = Math.max(0, Math.min(255, Math.round(((real - low) / width) * 255)));
      if (channels === 1) {
        out[o] = grey;
        continue;
      }
      const label = labels ? Number(labels[index]) : 0;
      if (label === 0) {
        out[o] = grey;
        out[o + 1] = grey;
        out[o + 2] = grey;
        continue;
      }
      const colour = options.overlay?.colours.get(label) ?? defaultColour(label);
      out[o] = Math.round(grey * (1 - opacity) + colour[0] * opacity);
      out[o + 1] = Math.round(grey * (1 - opacity) + colour[1] * opacity);
      out[o + 2] = Math.round(grey * (1 - opacity) + colour[2] * opacity);
    }
  }
  return encodePng(width2, height2, channels as 1 | 3, out);
}
