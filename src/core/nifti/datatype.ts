/**
 * NIfTI datatype codes (nifti1.h "TYPE OF DATA") and the typed array each one is read into. Multi-sample types
 * (RGB24, RGBA32, COMPLEX64, COMPLEX128) are interleaved per voxel: R,G,B[,A] bytes or real,imaginary floats.
 */
import { MedvoxError } from '../errors.ts';

export const DataType = {
  BINARY: 1,
  UINT8: 2,
  INT16: 4,
  INT32: 8,
  FLOAT32: 16,
  COMPLEX64: 32,
  FLOAT64: 64,
  RGB24: 128,
  INT8: 256,
  UINT16: 512,
  UINT32: 768,
  INT64: 1024,
  UINT64: 1280,
  FLOAT128: 1536,
  COMPLEX128: 1792,
  COMPLEX256: 2048,
  RGBA32: 2304,
} as const;

export type NiftiVoxels =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

type VoxelArrayConstructor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NiftiVoxels;
  new (length: number): NiftiVoxels;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
};

export interface DatatypeInfo {
  code: number;
  name: string;
  /** bitpix as nifti1.h requires it for this datatype. */
  bitpix: number;
  /** Array elements per voxel: 3 for RGB24, 4 for RGBA32, 2 for complex, else 1. */
  samples: number;
  /** The typed array holding the samples. */
  array: VoxelArrayConstructor;
  /** scl_slope / scl_inter apply (nifti1.h DATA SCALING: "ignored if datatype is DT_RGB24"). */
  scalable: boolean;
}

const info = (
  code: number,
  name: string,
  array: VoxelArrayConstructor,
  samples = 1,
  scalable = true,
): DatatypeInfo => ({ code, name, bitpix: array.BYTES_PER_ELEMENT * 8 * samples, samples, array, scalable });

const SUPPORTED: ReadonlyMap<number, DatatypeInfo> = new Map(
  [
    info(DataType.UINT8, 'uint8', Uint8Array),
    info(DataType.INT16, 'int16', Int16Array),
    info(DataType.INT32, 'int32', Int32Array),
    info(DataType.FLOAT32, 'float32', Float32Array),
    info(DataType.COMPLEX64, 'complex64', Float32Array, 2),
    info(DataType.FLOAT64, 'float64', Float64Array),
    info(DataType.RGB24, 'RGB24', Uint8Array, 3, false),
    info(DataType.INT8, 'int8', Int8Array),
    info(DataType.UINT16, 'uint16', Uint16Array),
    info(DataType.UINT32, 'uint32', Uint32Array),
    info(DataType.INT64, 'int64', BigInt64Array),
    info(DataType.UINT64, 'uint64', BigUint64Array),
    info(DataType.COMPLEX128, 'complex128', Float64Array, 2),
    info(DataType.RGBA32, 'RGBA32', Uint8Array, 4, false),
  ].map((entry) => [entry.code, entry]),
);

const UNSUPPORTED_REASON: Readonly<Record<number, string>> = {
  [DataType.BINARY]: '1-bit binary',
  [DataType.FLOAT128]: '128-bit float (no JavaScript type holds it)',
  [DataType.COMPLEX256]: '256-bit complex (no JavaScript type holds it)',
};

/** The description of a datatype code; throws NIFTI_UNSUPPORTED_DATATYPE for codes medvox cannot hold. */
export function datatypeInfo(code: number): DatatypeInfo {
  const found = SUPPORTED.get(code);
  if (found) return found;
  const reason = UNSUPPORTED_REASON[code];
  throw new MedvoxError(
    'NIFTI_UNSUPPORTED_DATATYPE',
    reason ? `NIfTI datatype ${code} (${reason}) is not supported` : `NIfTI datatype ${code} is not a NIfTI-1 datatype`,
    { hint: 'supported: uint8/16/32/64, int8/16/32/64, float32/64, complex64/128, RGB24, RGBA32' },
  );
}

/** The single-sample datatype a typed array stores (Uint8Array -> UINT8; RGB needs the header set explicitly). */
export function datatypeOf(data: NiftiVoxels): number {
  if (data instanceof Uint8Array) return DataType.UINT8;
  if (data instanceof Int8Array) return DataType.INT8;
  if (data instanceof Int16Array) return DataType.INT16;
  if (data instanceof Uint16Array) return DataType.UINT16;
  if (data instanceof Int32Array) return DataType.INT32;
  if (data instanceof Uint32Array) return DataType.UINT32;
  if (data instanceof Float32Array) return DataType.FLOAT32;
  if (data instanceof Float64Array) return DataType.FLOAT64;
  if (data instanceof BigInt64Array) return DataType.INT64;
  return DataType.UINT64;
}

/** Reverse the bytes of each `size`-byte sample in place (big endian <-> little endian). */
export function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 2) {
    for (let i = 0; i + 1 < bytes.length; i += 2) {
      const a = bytes[i]!;
      bytes[i] = bytes[i + 1]!;
      bytes[i + 1] = a;
    }
  } else if (size === 4) {
    for (let i = 0; i + 3 < bytes.length; i += 4) {
      const a = bytes[i]!;
      const b = bytes[i + 1]!;
      bytes[i] = bytes[i + 3]!;
      bytes[i + 1] = bytes[i + 2]!;
      bytes[i + 2] = b;
      bytes[i + 3] = a;
    }
  } else if (size > 4) {
    for (let i = 0; i + size <= bytes.length; i += size) {
      for (let low = i, high = i + size - 1; low < high; low++, high--) {
        const a = bytes[low]!;
        bytes[low] = bytes[high]!;
        bytes[high] = a;
      }
    }
  }
}
