/** NIfTI images: header + voxels, read from and written to single-file bytes (.nii; gzip is io/'s job). */
import { MedvoxError } from '../errors.ts';
import { DataType, datatypeInfo, type NiftiVoxels, swapBytes } from './datatype.ts';
import { headerByteLength, type NiftiHeader, parseNiftiHeader, serializeHeader } from './header.ts';

export interface NiftiImage {
  header: NiftiHeader;
  /**
   * Voxels in file order (x fastest), native little endian, typed by datatype (datatype.ts). RGB24 / RGBA32 are
   * Uint8Arrays with 3 / 4 bytes per voxel, complex types interleave real and imaginary parts. Stored values:
   * apply scl_slope / scl_inter with scaling.ts.
   */
  data: NiftiVoxels;
}

/** Array shape: dim[1..dim[0]]. */
export function niftiShape(header: NiftiHeader): number[] {
  return header.dim.slice(1, (header.dim[0] ?? 0) + 1);
}

/** Number of voxels: the product of dim[1..dim[0]] (nifti1.h "DATA DIMENSIONALITY"). */
export function voxelCount(header: NiftiHeader): number {
  const rank = header.dim[0]!;
  if (!(Number.isInteger(rank) && rank >= 1 && rank <= 7)) {
    throw new MedvoxError('NIFTI_BAD_HEADER', `dim[0] is ${rank}; nifti1.h requires 1..7 dimensions`);
  }
  let count = 1;
  for (let i = 1; i <= rank; i++) {
    const size = header.dim[i]!;
    if (!(Number.isInteger(size) && size >= 0)) throw new MedvoxError('NIFTI_BAD_HEADER', `dim[${i}] is ${size}`);
    count *= size;
  }
  if (!Number.isSafeInteger(count)) throw new MedvoxError('NIFTI_BAD_HEADER', `dims ${niftiShape(header)} too large`);
  return count;
}

/** Where the voxels start: (int)vox_offset (nifti1.h "DATA STORAGE"), at least the header size if it is unset. */
function dataOffset(header: NiftiHeader): number {
  const headerSize = header.version === 1 ? 348 : 540;
  const offset = Math.trunc(header.voxOffset);
  return offset >= headerSize ? offset : headerSize + 4;
}

/**
 * Read a single-file NIfTI-1 / NIfTI-2 (.nii) from uncompressed bytes, either byte order. When the file is little
 * endian and the voxels are aligned for their type, `data` is a view into `bytes` (no copy); otherwise a copy.
 */
export function readNifti(bytes: Uint8Array): NiftiImage {
  const { header, singleFile } = parseNiftiHeader(bytes);
  if (!singleFile) {
    throw new MedvoxError('NIFTI_BAD_HEADER', `magic is "ni${header.version}": a .hdr of a .hdr/.img pair`, {
      hint: 'the voxels are in the matching .img file; single-file NIfTI (.nii) has magic n+1 / n+2',
    });
  }
  const type = datatypeInfo(header.datatype);
  const elementSize = type.array.BYTES_PER_ELEMENT;
  const elements = voxelCount(header) * type.samples;
  const length = elements * elementSize;
  const offset = dataOffset(header);
  if (offset + length > bytes.length) {
    const available = Math.max(0, bytes.length - offset);
    throw new MedvoxError(
      'NIFTI_TRUNCATED',
      `voxel data needs ${length} bytes from offset ${offset} (${niftiShape(header).join('x')} ${type.name}), ` +
        `the file has ${available}`,
    );
  }
  const start = bytes.byteOffset + offset;
  let data: NiftiVoxels;
  if (header.littleEndian && start % elementSize === 0) {
    data = new type.array(bytes.buffer, start, elements);
  } else {
    const copy = bytes.slice(offset, offset + length);
    // nifti1.h "BYTE ORDERING": the voxels are in the byte order of the header.
    if (!header.littleEndian) swapBytes(copy, elementSize);
    data = new type.array(copy.buffer, 0, elements);
  }
  return { header, data };
}

export interface WriteNiftiOptions {
  /** NIfTI-1 (348-byte header) or NIfTI-2 (540-byte); default header.version. */
  version?: 1 | 2;
}

/** A single-file NIfTI in two parts: header with extensions (vox_offset bytes), then the voxels (a view, no copy). */
export interface EncodedNifti {
  header: Uint8Array;
  voxels: Uint8Array;
}

/**
 * Single-file NIfTI, little endian, in two parts (for writers that avoid concatenating a large volume): header,
 * extension flag and extensions (kept if present), then the voxels at vox_offset = 352 / 544 plus the extensions'
 * size. bitpix follows the datatype.
 */
export function encodeNifti(image: NiftiImage, options: WriteNiftiOptions = {}): EncodedNifti {
  const { header, data } = image;
  const version = options.version ?? header.version;
  const type = datatypeInfo(header.datatype);
  if (!(data instanceof type.array)) {
    throw new MedvoxError(
      'NIFTI_BAD_HEADER',
      `datatype ${header.datatype} (${type.name}) is stored in a ${type.array.name}, the image has a ${data.constructor.name}`,
    );
  }
  const elements = voxelCount(header) * type.samples;
  if (data.length !== elements) {
    throw new MedvoxError(
      'NIFTI_BAD_HEADER',
      `dims ${niftiShape(header).join('x')} of ${type.name} need ${elements} array elements, the image has ${data.length}`,
    );
  }
  const voxOffset = headerByteLength(header, version);
  return {
    header: serializeHeader({ ...header, bitpix: type.bitpix }, version, voxOffset),
    // Typed arrays are in platform order, little endian on every platform Node and browsers run on.
    voxels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/**
 * The header bytes (up to vox_offset) of an image whose voxels are written separately, e.g. streamed to a file
 * slice by slice before the header is known.
 */
export function encodeNiftiHeader(header: NiftiHeader, version: 1 | 2 = header.version): Uint8Array {
  const type = datatypeInfo(header.datatype);
  return serializeHeader({ ...header, bitpix: type.bitpix }, version, headerByteLength(header, version));
}

/** Single-file NIfTI bytes (.nii), little endian: encodeNifti's two parts in one array. */
export function writeNifti(image: NiftiImage, options: WriteNiftiOptions = {}): Uint8Array {
  const { header, voxels } = encodeNifti(image, options);
  const out = new Uint8Array(header.length + voxels.length);
  out.set(header);
  out.set(voxels, header.length);
  return out;
}

/** A header to fill in: 1x1x1 int16, no transform (codes 0), no scaling, units mm + s (as dcm2niix writes). */
export function emptyHeader(version: 1 | 2 = 1): NiftiHeader {
  return {
    version,
    littleEndian: true,
    dimInfo: 0,
    dim: [3, 1, 1, 1, 1, 1, 1, 1],
    intentP1: 0,
    intentP2: 0,
    intentP3: 0,
    intentCode: 0,
    intentName: '',
    datatype: DataType.INT16,
    bitpix: 16,
    sliceStart: 0,
    sliceEnd: 0,
    sliceCode: 0,
    sliceDuration: 0,
    pixdim: [1, 1, 1, 1, 1, 1, 1, 1],
    voxOffset: version === 1 ? 352 : 544,
    sclSlope: 1,
    sclInter: 0,
    xyztUnits: 10,
    calMax: 0,
    calMin: 0,
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
    extensions: [],
  };
}
