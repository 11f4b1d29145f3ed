/**
 * NIfTI-1 (348-byte) and NIfTI-2 (540-byte) headers: the field layout of nifti1.h / nifti2.h, read from either
 * byte order and written little endian.
 */
import { MedvoxError } from '../errors.ts';

export interface NiftiHeader {
  version: 1 | 2;
  /** dim[0] = number of dimensions, dim[1..7] sizes. */
  dim: number[];
  intentP1: number;
  intentP2: number;
  intentP3: number;
  intentCode: number;
  datatype: number;
  bitpix: number;
  sliceStart: number;
  /** pixdim[0] = qfac, pixdim[1..7] spacing. */
  pixdim: number[];
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  sliceEnd: number;
  sliceCode: number;
  xyztUnits: number;
  calMax: number;
  calMin: number;
  sliceDuration: number;
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
  intentName: string;
  dimInfo: number;
  /** Little endian in the source file. */
  littleEndian: boolean;
}

export const DataType = {
  UINT8: 2,
  INT16: 4,
  INT32: 8,
  FLOAT32: 16,
  FLOAT64: 64,
  RGB24: 128,
  INT8: 256,
  UINT16: 512,
  UINT32: 768,
  INT64: 1024,
  UINT64: 1280,
} as const;

export const BITPIX: Readonly<Record<number, number>> = {
  2: 8,
  4: 16,
  8: 32,
  16: 32,
  64: 64,
  128: 24,
  256: 8,
  512: 16,
  768: 32,
  1024: 64,
  1280: 64,
};

function text(bytes: Uint8Array, offset: number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    const code = bytes[offset + i]!;
    if (code === 0) break;
    out += String.fromCharCode(code);
  }
  return out;
}

function putText(bytes: Uint8Array, offset: number, length: number, value: string): void {
  for (let i = 0; i < length - 1 && i < value.length; i++) bytes[offset + i] = value.charCodeAt(i) & 0x7f;
}

/** Detect version and byte order from sizeof_hdr (348 or 540 in either order). */
export function parseHeader(bytes: Uint8Array): NiftiHeader {
  if (bytes.length < 348)
    throw new MedvoxError('NIFTI_BAD_HEADER', `only ${bytes.length} bytes: too short for a NIfTI header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sizeLE = view.getInt32(0, true);
  const sizeBE = view.getInt32(0, false);
  const size = sizeLE === 348 || sizeLE === 540 ? sizeLE : sizeBE;
  const le = sizeLE === 348 || sizeLE === 540;
  if (size !== 348 && size !== 540) {
    throw new MedvoxError('NIFTI_BAD_HEADER', `sizeof_hdr is ${sizeLE}, not 348 (NIfTI-1) or 540 (NIfTI-2)`);
  }
  if (size === 540 && bytes.length < 540) throw new MedvoxError('NIFTI_BAD_HEADER', 'truncated NIfTI-2 header');
  return size === 348 ? parse1(bytes, view, le) : parse2(bytes, view, le);
}

function parse1(bytes: Uint8Array, view: DataView, le: boolean): NiftiHeader {
  const magic = text(bytes, 344, 4);
  if (magic !== 'n+1' && magic !== 'ni1') throw new MedvoxError('NIFTI_BAD_HEADER', `magic "${magic}" is not n+1`);
  const i16 = (o: number) => view.getInt16(o, le);
  const f32 = (o: number) => view.getFloat32(o, le);
  return {
    version: 1,
    littleEndian: le,
    dimInfo: bytes[39]!,
    dim: Array.from({ length: 8 }, (_, i) => i16(40 + i * 2)),
    intentP1: f32(56),
    intentP2: f32(60),
    intentP3: f32(64),
    intentCode: i16(68),
    datatype: i16(70),
    bitpix: i16(72),
    sliceStart: i16(74),
    pixdim: Array.from({ length: 8 }, (_, i) => f32(76 + i * 4)),
    voxOffset: f32(108),
    sclSlope: f32(112),
    sclInter: f32(116),
    sliceEnd: i16(120),
    sliceCode: bytes[122]!,
    xyztUnits: bytes[123]!,
    calMax: f32(124),
    calMin: f32(128),
    sliceDuration: f32(132),
    toffset: f32(136),
    descrip: text(bytes, 148, 80),
    auxFile: text(bytes, 228, 24),
    qformCode: i16(252),
    sformCode: i16(254),
    quaternB: f32(256),
    quaternC: f32(260),
    quaternD: f32(264),
    qoffsetX: f32(268),
    qoffsetY: f32(272),
    qoffsetZ: f32(276),
    srowX: [f32(280), f32(284), f32(288), f32(292)],
    srowY: [f32(296), f32(300), f32(304), f32(308)],
    srowZ: [f32(312), f32(316), f32(320), f32(324)],
    intentName: text(bytes, 328, 16),
  };
}

function parse2(bytes: Uint8Array, view: DataView, le: boolean): NiftiHeader {
  const magic = text(bytes, 4, 8);
  if (magic !== 'n+2' && magic !== 'ni2') throw new MedvoxError('NIFTI_BAD_HEADER', `magic "${magic}" is not n+2`);
  const i16 = (o: number) => view.getInt16(o, le);
  const i32 = (o: number) => view.getInt32(o, le);
  const i64 = (o: number) => Number(view.getBigInt64(o, le));
  const f64 = (o: number) => view.getFloat64(o, le);
  return {
    version: 2,
    littleEndian: le,
    datatype: i16(12),
    bitpix: i16(14),
    dim: Array.from({ length: 8 }, (_, i) => i64(16 + i * 8)),
    intentP1: f64(80),
    intentP2: f64(88),
    intentP3: f64(96),
    pixdim: Array.from({ length: 8 }, (_, i) => f64(104 + i * 8)),
    voxOffset: i64(168),
    sclSlope: f64(176),
    sclInter: f64(184),
    calMax: f64(192),
    calMin: f64(200),
    sliceDuration: f64(208),
    toffset: f64(216),
    sliceStart: i64(224),
    sliceEnd: i64(232),
    descrip: text(bytes, 240, 80),
    auxFile: text(bytes, 320, 24),
    qformCode: i32(344),
    sformCode: i32(348),
    quaternB: f64(352),
    quaternC: f64(360),
    quaternD: f64(368),
    qoffsetX: f64(376),
    qoffsetY: f64(384),
    qoffsetZ: f64(392),
    srowX: [f64(400), f64(408), f64(416), f64(424)],
    srowY: [f64(432), f64(440), f64(448), f64(456)],
    srowZ: [f64(464), f64(472), f64(480), f64(488)],
    sliceCode: i32(496),
    xyztUnits: i32(500),
    intentCode: i32(504),
    intentName: text(bytes, 508, 16),
    dimInfo: bytes[524]!,
  };
}

/** Header bytes (little endian) followed by the 4-byte extension flag, padded to vox_offset. */
export function serializeHeader(header: NiftiHeader, voxOffset: number): Uint8Array {
  const bytes = new Uint8Array(voxOffset);
  const view = new DataView(bytes.buffer);
  if (header.version === 1) {
    view.setInt32(0, 348, true);
    bytes[38] = 0x72; // regular = 'r' (unused; as nibabel writes)
    bytes[39] = header.dimInfo;
    header.dim.forEach((value, i) => {
      view.setInt16(40 + i * 2, value, true);
    });
    view.setFloat32(56, header.intentP1, true);
    view.setFloat32(60, header.intentP2, true);
    view.setFloat32(64, header.intentP3, true);
    view.setInt16(68, header.intentCode, true);
    view.setInt16(70, header.datatype, true);
    view.setInt16(72, header.bitpix, true);
    view.setInt16(74, header.sliceStart, true);
    header.pixdim.forEach((value, i) => {
      view.setFloat32(76 + i * 4, value, true);
    });
    view.setFloat32(108, voxOffset, true);
    view.setFloat32(112, header.sclSlope, true);
    view.setFloat32(116, header.sclInter, true);
    view.setInt16(120, header.sliceEnd, true);
    bytes[122] = header.sliceCode;
    bytes[123] = header.xyztUnits;
    view.setFloat32(124, header.calMax, true);
    view.setFloat32(128, header.calMin, true);
    view.setFloat32(132, header.sliceDuration, true);
    view.setFloat32(136, header.toffset, true);
    putText(bytes, 148, 80, header.descrip);
    putText(bytes, 228, 24, header.auxFile);
    view.setInt16(252, header.qformCode, true);
    view.setInt16(254, header.sformCode, true);
    const floats = [
      header.quaternB,
      header.quaternC,
      header.quaternD,
      header.qoffsetX,
      header.qoffsetY,
      header.qoffsetZ,
    ];
    floats.forEach((value, i) => {
      view.setFloat32(256 + i * 4, value, true);
    });
    [...header.srowX, ...header.srowY, ...header.srowZ].forEach((value, i) => {
      view.setFloat32(280 + i * 4, value, true);
    });
    putText(bytes, 328, 16, header.intentName);
    putText(bytes, 344, 4, 'n+1');
  } else {
    view.setInt32(0, 540, true);
    putText(bytes, 4, 8, 'n+2');
    bytes.set([0x0d, 0x0a, 0x1a, 0x0a], 8);
    view.setInt16(12, header.datatype, true);
    view.setInt16(14, header.bitpix, true);
    header.dim.forEach((value, i) => {
      view.setBigInt64(16 + i * 8, BigInt(value), true);
    });
    view.setFloat64(80, header.intentP1, true);
    view.setFloat64(88, header.intentP2, true);
    view.setFloat64(96, header.intentP3, true);
    header.pixdim.forEach((value, i) => {
      view.setFloat64(104 + i * 8, value, true);
    });
    view.setBigInt64(168, BigInt(voxOffset), true);
    const doubles = [
      header.sclSlope,
      header.sclInter,
      header.calMax,
      header.calMin,
      header.sliceDuration,
      header.toffset,
    ];
    doubles.forEach((value, i) => {
      view.setFloat64(176 + i * 8, value, true);
    });
    view.setBigInt64(224, BigInt(header.sliceStart), true);
    view.setBigInt64(232, BigInt(header.sliceEnd), true);
    putText(bytes, 240, 80, header.descrip);
    putText(bytes, 320, 24, header.auxFile);
    view.setInt32(344, header.qformCode, true);
    view.setInt32(348, header.sformCode, true);
    const quatern = [
      header.quaternB,
      header.quaternC,
      header.quaternD,
      header.qoffsetX,
      header.qoffsetY,
      header.qoffsetZ,
    ];
    quatern.forEach((value, i) => {
      view.setFloat64(352 + i * 8, value, true);
    });
    [...header.srowX, ...header.srowY, ...header.srowZ].forEach((value, i) => {
      view.setFloat64(400 + i * 8, value, true);
    });
    view.setInt32(496, header.sliceCode, true);
    view.setInt32(500, header.xyztUnits, true);
    view.setInt32(504, header.intentCode, true);
    putText(bytes, 508, 16, header.intentName);
    bytes[524] = header.dimInfo;
  }
  // The extension flag (4 bytes after the header) stays 0: no extensions.
  return bytes;
}
