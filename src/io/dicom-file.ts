/** DICOM files on disk: read one (naming it in every error), or every DICOM file below some inputs. */
import { readFile } from 'node:fs/promises';
import type { DicomFile } from '../core/dicom/model.ts';
import { type ReadOptions, readDicom } from '../core/dicom/reader.ts';
import { MedvoxError, toMedvoxError } from '../core/errors.ts';
import { scanInputs } from './scan.ts';

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
  options: Omit<ReadOptions, 'source'> = {},
): Promise<LoadResult> {
  const result: LoadResult = { files: [], notDicom: [], failed: [] };
  for await (const input of scanInputs(inputs)) {
    try {
      result.files.push(readDicom(await input.read(), { ...options, source: input.name }));
    } catch (error) {
      const typed = toMedvoxError(error, input.name);
      if (typed.code === 'NOT_DICOM' || typed.code === 'EMPTY_FILE') result.notDicom.push(input.name);
      else result.failed.push(typed);
    }
  }
  return result;
}
