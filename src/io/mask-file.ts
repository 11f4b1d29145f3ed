/** A labelmap NIfTI as integer label values, in its own voxel order, with its affine (RAS, as stored). */

import { readFileSync } from 'node:fs';
import { MedvoxError } from '../core/errors.ts';
import type { Mat4 } from '../core/geometry/affine.ts';
import { niftiAffine, niftiShape, scaledValue, scalingOf } from '../core/nifti/index.ts';
import { readNiftiBytes } from './nifti-file.ts';

export interface LabelmapImage {
  dims: [number, number, number];
  /** Label values (scl_slope / scl_inter applied), i fastest. */
  labels: Uint8Array | Uint16Array;
  affineRAS: Mat4;
}

/**
 * The file is read synchronously (a compressed mask is small) so that its decompression is already running on the
 * libuv pool when this returns: callers start it first, then read the image's headers beside it.
 */
export async function readLabelmapFile(path: string): Promise<LabelmapImage> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new MedvoxError('IO_ERROR', `cannot read: ${(error as Error).message}`, { file: path, cause: error });
  }
  const image = await readNiftiBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
  const shape = niftiShape(image.header);
  const [nx = 1, ny = 1, nz = 1, ...rest] = shape;
  if (rest.some((size) => size !== 1)) {
    throw new MedvoxError('GRID_MISMATCH', `the mask is ${shape.join('x')}: a labelmap must be 3D`, {
      file: path,
      hint: 'one volume of integer labels (0 = background)',
    });
  }
  const count = nx * ny * nz;
  const data = image.data;
  // Stored values are the labels unless the header scales them (nifti1.h: scl_slope 0 means no scaling).
  const identity = scalingOf(image.header) === undefined;
  if (data instanceof Uint8Array && identity && data.length === count) {
    return { dims: [nx, ny, nz], labels: data, affineRAS: niftiAffine(image.header) };
  }
  if ((data as { length: number }).length !== count) {
    throw new MedvoxError(
      'NIFTI_UNSUPPORTED_DATATYPE',
      'a labelmap must hold one integer per voxel (not RGB / complex)',
      {
        file: path,
      },
    );
  }
  let max = 0;
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const stored = (data as ArrayLike<number | bigint>)[i]!;
    const value = identity ? Number(stored) : scaledValue(image.header, stored);
    if (!(Number.isInteger(value) && value >= 0 && value <= 0xffff)) {
      throw new MedvoxError('BAD_VALUE', `voxel ${i} holds ${value}: labels must be integers 0..65535`, {
        file: path,
        hint: 'a probability map is not a labelmap: threshold it first',
      });
    }
    values[i] = value;
    if (value > max) max = value;
  }
  const labels = max > 255 ? Uint16Array.from(values) : Uint8Array.from(values);
  return { dims: [nx, ny, nz], labels, affineRAS: niftiAffine(image.header) };
}
