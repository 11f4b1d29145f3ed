/** .nii / .nii.gz files. gunzip handles multi-member gzip (zlib reads concatenated members). */
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { MedvoxError, toMedvoxError } from '../core/errors.ts';
import { type NiftiImage, readNifti, writeNifti } from '../core/nifti/index.ts';
import { writeFileAtomic } from './atomic.ts';

const gunzipAsync = promisify(gunzip);
const gzipAsync = promisify(gzip);

function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export async function readNiftiBytes(bytes: Uint8Array, source?: string): Promise<NiftiImage> {
  try {
    let raw = bytes;
    if (isGzip(bytes)) {
      try {
        raw = new Uint8Array(await gunzipAsync(bytes));
      } catch (error) {
        throw new MedvoxError('NIFTI_TRUNCATED', `gzip stream is damaged or truncated: ${(error as Error).message}`);
      }
    }
    return readNifti(raw);
  } catch (error) {
    throw toMedvoxError(error, source);
  }
}

export async function readNiftiFile(path: string): Promise<NiftiImage> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    throw new MedvoxError('IO_ERROR', `cannot read: ${(error as Error).message}`, { file: path, cause: error });
  }
  return readNiftiBytes(bytes, path);
}

export interface WriteNiftiOptions {
  /** gzip the output (default: when the path ends in .gz). */
  gzip?: boolean;
  /**
   * zlib level. Default 6: measured on a 512x512x300 int16 CT here, level 1 writes in 1.1 s at 52% size,
   * level 6 in 2.4 s at 47% (see bench/); dcm2niix's pigz default is 6.
   */
  level?: number;
}

export async function writeNiftiFile(path: string, image: NiftiImage, options: WriteNiftiOptions = {}): Promise<void> {
  const bytes = writeNifti(image);
  const compress = options.gzip ?? path.endsWith('.gz');
  const data = compress ? new Uint8Array(await gzipAsync(bytes, { level: options.level ?? 6 })) : bytes;
  await writeFileAtomic(path, data);
}
