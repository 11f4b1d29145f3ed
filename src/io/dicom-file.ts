/** DICOM files on disk: read one (naming it in every error), or every DICOM file below some inputs. */
import { readFile } from 'node:fs/promises';
import type { DicomFile } from '../core/dicom/model.ts';
import { type ReadOptions, readDicom } from '../core/dicom/reader.ts';
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
