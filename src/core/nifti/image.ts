/** NIfTI images: header + voxels, read from and written to single-file bytes (.nii; gzip is io/'s job). */
import { MedvoxError } from '../errors.ts';
import { BITPIX, DataType, type NiftiHeader, parseHeader, serializeHeader } from './header.ts';

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

export interface NiftiImage {
  header: NiftiHeader;
  /** Voxels in file order (x fastest), native little endian. RGB24 is a Uint8Array with 3 bytes per voxel. */
  data: NiftiVoxels;
}

function voxelCount(dim: readonly number[]): number {
  const rank = dim[0]!;
  if (rank < 1 || rank > 7) throw new MedvoxError('NIFTI_BAD_HEADER', `dim[0] is ${rank}, must be 1..7`);
  let count = 1;
  for (let i = 1; i <= rank; i++) {
    const size = dim[i]!;
    if (size < 1) throw new MedvoxError('NIFTI_BAD_HEADER', `dim[${i}] is ${size}`);
    count *= size;
  }
  return count;
}

const ELEMENT_SIZE: Readonly<Record<number, number>> = {
  2: 1,
  4: 2,
  8: 4,
  16: 4,
  64: 8,
  128: 3,
  256: 1,
  512: 2,
  768: 4,
  1024: 8,
  1280: 8,
};

function typedView(datatype: number, buffer: ArrayBuffer): NiftiVoxels {
  switch (datatype) {
    case DataType.UINT8:
    case DataType.RGB24:
      return new Uint8Array(buffer);
    case DataType.INT8:
      return new Int8Array(buffer);
    case DataType.INT16:
      return new Int16Array(buffer);
    case DataType.UINT16:
      return new Uint16Array(buffer);
    case DataType.INT32:
      return new Int32Array(buffer);
    case DataType.UINT32:
      return new Uint32Array(buffer);
    case DataType.FLOAT32:
      return new Float32Array(buffer);
    case DataType.FLOAT64:
      return new Float64Array(buffer);
    case DataType.INT64:
      return new BigInt64Array(buffer);
    case DataType.UINT64:
      return new BigUint64Array(buffer);
    default:
      throw new MedvoxError('NIFTI_UNSUPPORTED_DATATYPE', `NIfTI datatype ${datatype} is not supported`);
  }
}

export function readNifti(bytes: Uint8Array): NiftiImage {
  const header = parseHeader(bytes);
  const size = ELEMENT_SIZE[header.datatype];
  if (size === undefined)
    throw new MedvoxError('NIFTI_UNSUPPORTED_DATATYPE', `NIfTI datatype ${header.datatype} is not supported`);
  const count = voxelCount(header.dim);
  const offset = Math.max(Math.round(header.voxOffset), header.version === 1 ? 352 : 544);
  const length = count * size;
  if (offset + length > bytes.length) {
    throw new MedvoxError(
      'NIFTI_TRUNCATED',
      `voxel data needs ${length} bytes from offset ${offset}, the file has ${bytes.length - offset}`,
    );
  }
  const copy = bytes.slice(offset, offset + length);
  if (!header.littleEndian && size > 1 && header.datatype !== DataType.RGB24) {
    for (let i = 0; i < copy.length; i += size) copy.subarray(i, i + size).reverse();
  }
  return { header, data: typedView(header.datatype, copy.buffer) };
}

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

/** Single-file NIfTI bytes: header, empty extension flag, voxels (little endian). */
export function writeNifti(image: NiftiImage): Uint8Array {
  const { header } = image;
  const voxOffset = header.version === 2 ? 544 : 352;
  const bitpix = BITPIX[header.datatype];
  if (bitpix === undefined)
    throw new MedvoxError('NIFTI_UNSUPPORTED_DATATYPE', `NIfTI datatype ${header.datatype} cannot be written`);
  const expected = voxelCount(header.dim) * (bitpix / 8);
  const data = new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  if (data.length !== expected) {
    throw new MedvoxError('NIFTI_BAD_HEADER', `dims need ${expected} bytes of voxels, the image holds ${data.length}`);
  }
  const head = serializeHeader({ ...header, bitpix }, voxOffset);
  const out = new Uint8Array(voxOffset + data.length);
  out.set(head);
  out.set(data, voxOffset);
  return out;
}

/** An empty header to fill: identity-free, codes 0, units mm + s (as dcm2niix writes). */
export function emptyHeader(version: 1 | 2 = 1): NiftiHeader {
  return {
    version,
    littleEndian: true,
    dim: [3, 1, 1, 1, 1, 1, 1, 1],
    intentP1: 0,
    intentP2: 0,
    intentP3: 0,
    intentCode: 0,
    datatype: DataType.INT16,
    bitpix: 16,
    sliceStart: 0,
    pixdim: [1, 1, 1, 1, 1, 1, 1, 1],
    voxOffset: version === 1 ? 352 : 544,
    sclSlope: 1,
    sclInter: 0,
    sliceEnd: 0,
    sliceCode: 0,
    xyztUnits: 10,
    calMax: 0,
    calMin: 0,
    sliceDuration: 0,
    toffset: 0,
    descrip: '',
    auxFile: '',
    qformCode: 0,
    sformCode: 0,
    quaternB: 0,
    quaternC: 0,
    quaternD: 0,
    qoffsetX: 0,
    qoffsetY: 0,
    qoffsetZ: 0,
    srowX: [1, 0, 0, 0],
    srowY: [0, 1, 0, 0],
    srowZ: [0, 0, 1, 0],
    intentName: '',
    dimInfo: 0,
  };
}
