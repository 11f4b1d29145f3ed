/**
 * The byte layouts of nifti1.h struct nifti_1_header (348 bytes) and nifti2.h struct nifti_2_header (540 bytes):
 * one table per version, read and written by header.ts. Unused ANALYZE 7.5 fields are left out.
 */

export type Kind = 'u8' | 'i16' | 'i32' | 'i64' | 'f32' | 'f64';
export type ScalarField =
  | 'dimInfo'
  | 'intentP1'
  | 'intentP2'
  | 'intentP3'
  | 'intentCode'
  | 'datatype'
  | 'bitpix'
  | 'sliceStart'
  | 'sliceEnd'
  | 'sliceCode'
  | 'sliceDuration'
  | 'voxOffset'
  | 'sclSlope'
  | 'sclInter'
  | 'xyztUnits'
  | 'calMax'
  | 'calMin'
  | 'toffset'
  | 'qformCode'
  | 'sformCode'
  | 'quaternB'
  | 'quaternC'
  | 'quaternD'
  | 'qoffsetX'
  | 'qoffsetY'
  | 'qoffsetZ';
export type VectorField = 'dim' | 'pixdim' | 'srowX' | 'srowY' | 'srowZ';
export type TextField = 'descrip' | 'auxFile' | 'intentName';

export interface Layout {
  size: 348 | 540;
  scalars: ReadonlyArray<readonly [ScalarField, number, Kind]>;
  vectors: ReadonlyArray<readonly [VectorField, number, Kind, number]>;
  texts: ReadonlyArray<readonly [TextField, number, number]>;
}

/** nifti1.h struct nifti_1_header (byte offsets). */
export const NIFTI1: Layout = {
  size: 348,
  scalars: [
    ['dimInfo', 39, 'u8'],
    ['intentP1', 56, 'f32'],
    ['intentP2', 60, 'f32'],
    ['intentP3', 64, 'f32'],
    ['intentCode', 68, 'i16'],
    ['datatype', 70, 'i16'],
    ['bitpix', 72, 'i16'],
    ['sliceStart', 74, 'i16'],
    ['voxOffset', 108, 'f32'],
    ['sclSlope', 112, 'f32'],
    ['sclInter', 116, 'f32'],
    ['sliceEnd', 120, 'i16'],
    ['sliceCode', 122, 'u8'],
    ['xyztUnits', 123, 'u8'],
    ['calMax', 124, 'f32'],
    ['calMin', 128, 'f32'],
    ['sliceDuration', 132, 'f32'],
    ['toffset', 136, 'f32'],
    ['qformCode', 252, 'i16'],
    ['sformCode', 254, 'i16'],
    ['quaternB', 256, 'f32'],
    ['quaternC', 260, 'f32'],
    ['quaternD', 264, 'f32'],
    ['qoffsetX', 268, 'f32'],
    ['qoffsetY', 272, 'f32'],
    ['qoffsetZ', 276, 'f32'],
  ],
  vectors: [
    ['dim', 40, 'i16', 8],
    ['pixdim', 76, 'f32', 8],
    ['srowX', 280, 'f32', 4],
    ['srowY', 296, 'f32', 4],
    ['srowZ', 312, 'f32', 4],
  ],
  texts: [
    ['descrip', 148, 80],
    ['auxFile', 228, 24],
    ['intentName', 328, 16],
  ],
};

/** nifti2.h struct nifti_2_header (byte offsets). */
export const NIFTI2: Layout = {
  size: 540,
  scalars: [
    ['datatype', 12, 'i16'],
    ['bitpix', 14, 'i16'],
    ['intentP1', 80, 'f64'],
    ['intentP2', 88, 'f64'],
    ['intentP3', 96, 'f64'],
    ['voxOffset', 168, 'i64'],
    ['sclSlope', 176, 'f64'],
    ['sclInter', 184, 'f64'],
    ['calMax', 192, 'f64'],
    ['calMin', 200, 'f64'],
    ['sliceDuration', 208, 'f64'],
    ['toffset', 216, 'f64'],
    ['sliceStart', 224, 'i64'],
    ['sliceEnd', 232, 'i64'],
    ['qformCode', 344, 'i32'],
    ['sformCode', 348, 'i32'],
    ['quaternB', 352, 'f64'],
    ['quaternC', 360, 'f64'],
    ['quaternD', 368, 'f64'],
    ['qoffsetX', 376, 'f64'],
    ['qoffsetY', 384, 'f64'],
    ['qoffsetZ', 392, 'f64'],
    ['sliceCode', 496, 'i32'],
    ['xyztUnits', 500, 'i32'],
    ['intentCode', 504, 'i32'],
    ['dimInfo', 524, 'u8'],
  ],
  vectors: [
    ['dim', 16, 'i64', 8],
    ['pixdim', 104, 'f64', 8],
    ['srowX', 400, 'f64', 4],
    ['srowY', 432, 'f64', 4],
    ['srowZ', 464, 'f64', 4],
  ],
  texts: [
    ['descrip', 240, 80],
    ['auxFile', 320, 24],
    ['intentName', 508, 16],
  ],
};

/** nifti2.h: magic "n+2\0" then the bytes \r\n\032\n, which reveal a file damaged by text-mode transfer. */
export const NIFTI2_EOL = [0x0d, 0x0a, 0x1a, 0x0a];

export const SIZE: Record<Kind, number> = { u8: 1, i16: 2, i32: 4, i64: 8, f32: 4, f64: 8 };
