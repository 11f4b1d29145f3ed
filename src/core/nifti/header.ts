/**
 * NIfTI-1 (348-byte, nifti1.h) and NIfTI-2 (540-byte, nifti2.h) headers: one field table per version drives both
 * reading (either byte order, detected from sizeof_hdr) and writing (always little endian), plus the header
 * extensions that follow the 4-byte extension flag.
 */
import { MedvoxError } from '../errors.ts';
import { type Kind, type Layout, NIFTI1, NIFTI2, NIFTI2_EOL, SIZE } from './layout.ts';

/** A header extension (nifti1.h "EXTENSIONS"): ecode and the raw content after esize/ecode, padding included. */
export interface NiftiExtension {
  code: number;
  data: Uint8Array;
}

/** Every meaningful header field, named as in nifti1.h in camelCase (sizeof_hdr, magic and unused fields aside). */
export interface NiftiHeader {
  version: 1 | 2;
  /** Byte order of the source file (voxels are always returned little endian). */
  littleEndian: boolean;
  /** freq_dim, phase_dim, slice_dim packed in 2 bits each. */
  dimInfo: number;
  /** dim[0] = number of dimensions (1..7), dim[1..7] sizes. */
  dim: number[];
  intentP1: number;
  intentP2: number;
  intentP3: number;
  intentCode: number;
  intentName: string;
  datatype: number;
  bitpix: number;
  sliceStart: number;
  sliceEnd: number;
  sliceCode: number;
  sliceDuration: number;
  /** pixdim[0] = qfac, pixdim[1..7] grid spacings. */
  pixdim: number[];
  /** As read; writeNifti computes its own. */
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  xyztUnits: number;
  calMax: number;
  calMin: number;
  toffset: number;
  descrip: string;
  auxFile: string;
  qformCode: number;
  sformCode: number;
  quaternB: number;
  quaternC: number;
  quaternD: number;
  qoffsetX: number;
  qoffsetY: number;
  qoffsetZ: number;
  srowX: number[];
  srowY: number[];
  srowZ: number[];
  extensions: NiftiExtension[];
}

function getValue(view: DataView, offset: number, kind: Kind, le: boolean): number {
  switch (kind) {
    case 'u8':
      return view.getUint8(offset);
    case 'i16':
      return view.getInt16(offset, le);
    case 'i32':
      return view.getInt32(offset, le);
    case 'i64':
      return Number(view.getBigInt64(offset, le));
    case 'f32':
      return view.getFloat32(offset, le);
    case 'f64':
      return view.getFloat64(offset, le);
  }
}

const INTEGER_RANGE: Partial<Record<Kind, readonly [number, number]>> = {
  u8: [0, 255],
  i16: [-32768, 32767],
  i32: [-2147483648, 2147483647],
  i64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

function setValue(view: DataView, offset: number, kind: Kind, value: number, name: string, version: 1 | 2): void {
  const range = INTEGER_RANGE[kind];
  if (range && !(Number.isInteger(value) && value >= range[0] && value <= range[1])) {
    throw new MedvoxError('NIFTI_BAD_HEADER', `${name} = ${value} does not fit the NIfTI-${version} field (${kind})`, {
      hint: version === 1 ? 'write NIfTI-2 for dimensions above 32767' : undefined,
    });
  }
  switch (kind) {
    case 'u8':
      view.setUint8(offset, value);
      break;
    case 'i16':
      view.setInt16(offset, value, true);
      break;
    case 'i32':
      view.setInt32(offset, value, true);
      break;
    case 'i64':
      view.setBigInt64(offset, BigInt(value), true);
      break;
    case 'f32':
      view.setFloat32(offset, value, true);
      break;
    case 'f64':
      view.setFloat64(offset, value, true);
      break;
  }
}

/** A C string field: bytes up to the first NUL, one character per byte (Latin-1, so every byte round-trips). */
function getText(bytes: Uint8Array, offset: number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    const code = bytes[offset + i]!;
    if (code === 0) break;
    out += String.fromCharCode(code);
  }
  return out;
}

function setText(bytes: Uint8Array, offset: number, length: number, value: string): void {
  for (let i = 0; i < length && i < value.length; i++) {
    const code = value.charCodeAt(i);
    bytes[offset + i] = code > 0xff ? 0x3f : code; // '?' for characters outside Latin-1
  }
}

export interface ParsedHeader {
  header: NiftiHeader;
  /** magic n+1 / n+2 (voxels in the same file) rather than ni1 / ni2 (a .hdr of a .hdr/.img pair). */
  singleFile: boolean;
}

/** Version and byte order from sizeof_hdr: 348 (NIfTI-1) or 540 (NIfTI-2) in either byte order. */
function detect(bytes: Uint8Array): { layout: Layout; littleEndian: boolean } {
  if (bytes.length === 0) throw new MedvoxError('EMPTY_FILE', 'the file is empty');
  if (bytes.length < 4) throw new MedvoxError('NIFTI_TRUNCATED', `only ${bytes.length} bytes: no NIfTI header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, 4);
  for (const littleEndian of [true, false]) {
    const size = view.getInt32(0, littleEndian);
    if (size === 348) return { layout: NIFTI1, littleEndian };
    if (size === 540) return { layout: NIFTI2, littleEndian };
  }
  const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
  throw new MedvoxError(
    'NIFTI_BAD_HEADER',
    `sizeof_hdr is ${view.getInt32(0, true)}, not 348 (NIfTI-1) or 540 (NIfTI-2): not a NIfTI file`,
    { hint: gzip ? 'the bytes are gzip-compressed: decompress them first (readNiftiFile does)' : undefined },
  );
}

function checkMagic(bytes: Uint8Array, version: 1 | 2): boolean {
  const at = version === 1 ? 344 : 4;
  const magic = getText(bytes, at, 4);
  const single = `n+${version}`;
  const pair = `ni${version}`;
  if ((magic !== single && magic !== pair) || bytes[at + 3] !== 0) {
    throw new MedvoxError('NIFTI_BAD_HEADER', `magic is "${magic}", not "${single}" or "${pair}"`);
  }
  if (version === 2) {
    const eol = Array.from(bytes.subarray(8, 12));
    if (eol.some((b, i) => b !== NIFTI2_EOL[i]) && eol.some((b) => b !== 0)) {
      throw new MedvoxError('NIFTI_BAD_HEADER', 'NIfTI-2 end-of-line check bytes are damaged', {
        hint: 'the file was probably transferred in text mode',
      });
    }
  }
  return magic === single;
}

/**
 * Header extensions: after the 4-byte extension flag (nifti1.h: extension[0] != 0 means extensions follow), a
 * sequence of (esize, ecode, content) up to vox_offset (single file) or the end (.hdr). Like nifti1_io and nibabel,
 * reading stops at an extension whose size does not fit rather than failing the whole image.
 */
function readExtensions(bytes: Uint8Array, start: number, end: number, littleEndian: boolean): NiftiExtension[] {
  const extensions: NiftiExtension[] = [];
  if (start + 4 > bytes.length || bytes[start] === 0) return extensions;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = start + 4;
  const limit = Math.min(end, bytes.length);
  while (offset + 16 <= limit) {
    const esize = view.getInt32(offset, littleEndian);
    const code = view.getInt32(offset + 4, littleEndian);
    if (esize < 16 || offset + esize > limit) break;
    extensions.push({ code, data: bytes.slice(offset + 8, offset + esize) });
    offset += esize;
  }
  return extensions;
}

/** Parse a NIfTI-1 or NIfTI-2 header (and its extensions) from the start of `bytes`. */
export function parseNiftiHeader(bytes: Uint8Array): ParsedHeader {
  const { layout, littleEndian } = detect(bytes);
  const version = layout === NIFTI1 ? 1 : 2;
  if (bytes.length < layout.size) {
    throw new MedvoxError(
      'NIFTI_TRUNCATED',
      `the NIfTI-${version} header needs ${layout.size} bytes, the file has ${bytes.length}`,
    );
  }
  const singleFile = checkMagic(bytes, version);
  const view = new DataView(bytes.buffer, bytes.byteOffset, layout.size);
  const header = { version, littleEndian, extensions: [] } as unknown as NiftiHeader;
  for (const [name, offset, kind] of layout.scalars) header[name] = getValue(view, offset, kind, littleEndian);
  for (const [name, offset, kind, count] of layout.vectors) {
    header[name] = Array.from({ length: count }, (_, i) => getValue(view, offset + i * SIZE[kind], kind, littleEndian));
  }
  for (const [name, offset, length] of layout.texts) header[name] = getText(bytes, offset, length);
  const rank = header.dim[0]!;
  if (!(rank >= 1 && rank <= 7)) {
    throw new MedvoxError('NIFTI_BAD_HEADER', `dim[0] is ${rank}; nifti1.h requires 1..7 dimensions`);
  }
  const end = singleFile ? Math.trunc(header.voxOffset) : bytes.length;
  header.extensions = readExtensions(bytes, layout.size, end, littleEndian);
  return { header, singleFile };
}

/** The header of `bytes` (a .nii, or a .hdr of a pair), without reading voxels. */
export function readNiftiHeader(bytes: Uint8Array): NiftiHeader {
  return parseNiftiHeader(bytes).header;
}

function extensionSize(extension: NiftiExtension): number {
  // nifti1.h: esize is a positive multiple of 16 that includes the 8 bytes of esize and ecode.
  return Math.ceil((extension.data.length + 8) / 16) * 16;
}

/** Bytes of the header, the extension flag and the extensions: the minimum vox_offset of a single file. */
export function headerByteLength(header: NiftiHeader, version: 1 | 2 = header.version): number {
  const size = version === 1 ? NIFTI1.size : NIFTI2.size;
  return header.extensions.reduce((total, extension) => total + extensionSize(extension), size + 4);
}

/**
 * Header, extension flag and extensions as a little-endian single-file (n+1 / n+2) header of `version`,
 * vox_offset set to `voxOffset`. bitpix is written as given: the caller makes it match the datatype.
 */
export function serializeHeader(header: NiftiHeader, version: 1 | 2, voxOffset: number): Uint8Array {
  const layout = version === 1 ? NIFTI1 : NIFTI2;
  const bytes = new Uint8Array(voxOffset);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, layout.size, true);
  if (version === 1) {
    bytes[38] = 0x72; // regular = 'r', as nibabel and nifti1_io write it (ANALYZE 7.5)
    setText(bytes, 344, 4, 'n+1');
  } else {
    setText(bytes, 4, 4, 'n+2');
    bytes.set(NIFTI2_EOL, 8);
  }
  const values: NiftiHeader = { ...header, voxOffset };
  for (const [name, offset, kind] of layout.scalars) setValue(view, offset, kind, values[name], name, version);
  for (const [name, offset, kind, count] of layout.vectors) {
    const vector = values[name];
    if (vector.length !== count) {
      throw new MedvoxError('NIFTI_BAD_HEADER', `${name} has ${vector.length} values, NIfTI needs ${count}`);
    }
    vector.forEach((value, i) => {
      setValue(view, offset + i * SIZE[kind], kind, value, `${name}[${i}]`, version);
    });
  }
  for (const [name, offset, length] of layout.texts) setText(bytes, offset, length, values[name]);
  let offset = layout.size;
  if (header.extensions.length > 0) bytes[offset] = 1; // extension flag; otherwise 4 zero bytes
  offset += 4;
  for (const extension of header.extensions) {
    const esize = extensionSize(extension);
    view.setInt32(offset, esize, true);
    view.setInt32(offset + 4, extension.code, true);
    bytes.set(extension.data, offset + 8);
    offset += esize;
  }
  return bytes;
}
