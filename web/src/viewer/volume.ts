/**
 * Volumes as the server sends them (docs/api.md): a JSON header (dims, datatype, affine in LPS, rescale) and raw
 * little-endian voxels, x fastest, j = rows-1-r (docs/geometry.md). DOM-free: used by the page and by node tests.
 */
export type VoxelArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

export type Datatype = 'uint8' | 'int8' | 'uint16' | 'int16' | 'int32' | 'uint32' | 'float32' | 'float64';

export interface VolumeHeader {
  id: string;
  kind: 'image' | 'labelmap';
  seriesInstanceUID: string;
  studyInstanceUID: string;
  imageVolumeId?: string;
  segmentationUID?: string;
  /** [columns, rows, slices, volumes]. */
  dims: [number, number, number, number];
  datatype: Datatype;
  bytesPerVoxel: number;
  /** Voxel (i, j, k) -> patient LPS (mm), row-major 4x4. */
  affineLPS: number[];
  spacing: [number, number, number];
  rescaleSlope: number;
  rescaleIntercept: number;
  min: number;
  max: number;
  windowCenter?: number;
  windowWidth?: number;
  samplesPerPixel: number;
  byteLength: number;
}

const ARRAYS: Record<Datatype, new (buffer: ArrayBuffer, offset?: number, length?: number) => VoxelArray> = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  float32: Float32Array,
  float64: Float64Array,
};

export const BYTES: Record<Datatype, number> = {
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  int32: 4,
  uint32: 4,
  float32: 4,
  float64: 8,
};

/** A typed view of the voxels (no copy). */
export function voxelArray(datatype: Datatype, buffer: ArrayBuffer, offset = 0, length?: number): VoxelArray {
  const Type = ARRAYS[datatype];
  return new Type(buffer, offset, length ?? (buffer.byteLength - offset) / BYTES[datatype]);
}

export function isIntegerType(datatype: Datatype): boolean {
  return datatype !== 'float32' && datatype !== 'float64';
}

/** Voxels in one 3D volume (the first time point of a 4D series). */
export function voxelsPerVolume(header: Pick<VolumeHeader, 'dims'>): number {
  return header.dims[0] * header.dims[1] * header.dims[2];
}
