/** DICOM files on disk: read one (naming it in every error), or every DICOM file below some inputs. */
import { open, readFile } from 'node:fs/promises';
import type { DicomFile } from '../core/dicom/model.ts';
import { type ReadOptions, readDicom, readDicomPrefix } from '../core/dicom/reader.ts';
import { MedvoxError, toMedvoxError } from '../core/errors.ts';

export async function readDicomFile(path: string, options: Omit<ReadOptions, 'source'> = {}): Promise<DicomFile> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    throw new MedvoxError('IO_ERROR', `cannot read: ${(error as Error).message}`, { file: path, cause: error });
  }
  try {
    return readDicom(bytes, { ...options, source: path });
  } catch (error) {
    throw toMedvoxError(error, path);
  }
}

const PIXEL_DATA = 0x7fe00010;
/** First read of a header scan: enough for nearly every header (large private CSA / GE headers included). */
const FIRST_CHUNK = 64 * 1024;

/**
 * Parse a file's header: every top-level element before Pixel Data (or before `untilTag`). Reads only the first
 * bytes of the file, reading 4x more until the tag is reached, so scanning large multi-frame files stays fast.
 */
export async function readDicomFileHeader(path: string, untilTag: number = PIXEL_DATA): Promise<DicomFile> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new MedvoxError('IO_ERROR', `cannot read: ${(error as Error).message}`, { file: path, cause: error });
  }
  try {
    const size = (await handle.stat()).size;
    let length = Math.min(size, FIRST_CHUNK);
    for (;;) {
      const bytes = new Uint8Array(length);
      const { bytesRead } = await handle.read(bytes, 0, length, 0);
      const prefix = bytes.subarray(0, bytesRead);
      if (bytesRead >= size) return readDicom(prefix, { source: path, untilTag });
      const file = readDicomPrefix(prefix, untilTag, path);
      if (file) return file;
      length = Math.min(size, length * 4);
    }
  } catch (error) {
    if (error instanceof MedvoxError) throw error.withFile(path);
    throw new MedvoxError('IO_ERROR', `cannot read: ${(error as Error).message}`, { file: path, cause: error });
  } finally {
    await handle.close();
  }
}

// Reading many files at once (folders, zips): see load-dicom.ts.
