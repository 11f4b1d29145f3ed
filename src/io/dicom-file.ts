/** DICOM files on disk: read one (naming it in every error), or every DICOM file below some inputs. */
import { open, readFile } from 'node:fs/promises';
import type { DicomFile } from '../core/dicom/model.ts';
import { type ReadOptions, readDicom, readDicomPrefix } from '../core/dicom/reader.ts';
import { MedvoxError, toMedvoxError } from '../core/errors.ts';
import { type InputFile, scanInputs } from './scan.ts';

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

export interface LoadResult {
  files: DicomFile[];
  /** Files that are not DICOM (skipped silently by converters, listed for reports). */
  notDicom: string[];
  /** DICOM files that could not be read, with the typed error. */
  failed: MedvoxError[];
}

/** Read every DICOM file below the inputs (folders, zips); a bad file is reported and the rest go on. */
export async function loadDicomInputs(
  inputs: readonly string[],
  options: Omit<ReadOptions, 'source'> & { concurrency?: number; onFile?: (done: number) => void } = {},
): Promise<LoadResult> {
  const result: LoadResult = { files: [], notDicom: [], failed: [] };
  const candidates: InputFile[] = [];
  for await (const input of scanInputs(inputs)) candidates.push(input);
  const slots: Array<DicomFile | MedvoxError | 'not-dicom'> = new Array(candidates.length);
  let next = 0;
  let done = 0;
  // A few reads in flight hide file-system latency; parsing stays on this thread.
  const worker = async (): Promise<void> => {
    while (next < candidates.length) {
      const index = next++;
      const input = candidates[index]!;
      try {
        slots[index] = readDicom(await input.read(), { ...options, source: input.name });
      } catch (error) {
        const typed = toMedvoxError(error, input.name);
        slots[index] = typed.code === 'NOT_DICOM' || typed.code === 'EMPTY_FILE' ? 'not-dicom' : typed;
      }
      options.onFile?.(++done);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  slots.forEach((slot, index) => {
    if (slot === 'not-dicom') result.notDicom.push(candidates[index]!.name);
    else if (slot instanceof MedvoxError) result.failed.push(slot);
    else result.files.push(slot);
  });
  return result;
}
