/** Every DICOM file below some inputs (folders, zips), read with a few reads in flight; bad files are reported. */
import type { DicomFile } from '../core/dicom/model.ts';
import { type ReadOptions, readDicom } from '../core/dicom/reader.ts';
import { MedvoxError, toMedvoxError } from '../core/errors.ts';
import { type InputFile, scanInputs } from './scan.ts';

export interface LoadResult {
  files: DicomFile[];
  /** Files that are not DICOM (skipped silently by converters, listed for reports). */
  notDicom: string[];
  /** DICOM files that could not be read, with the typed error. */
  failed: MedvoxError[];
}

export interface LoadOptions extends Omit<ReadOptions, 'source'> {
  concurrency?: number;
  onFile?: (done: number) => void;
}

export async function loadDicomInputs(inputs: readonly string[], options: LoadOptions = {}): Promise<LoadResult> {
  const result: LoadResult = { files: [], notDicom: [], failed: [] };
  const candidates: InputFile[] = [];
  for await (const input of scanInputs(inputs)) candidates.push(input);
  const slots: Array<DicomFile | MedvoxError | 'not-dicom'> = new Array(candidates.length);
  let next = 0;
  let done = 0;
  const { concurrency, onFile, ...readOptions } = options;
  // A few reads in flight hide file-system latency; parsing stays on this thread.
  const worker = async (): Promise<void> => {
    while (next < candidates.length) {
      const index = next++;
      const input = candidates[index]!;
      try {
        slots[index] = readDicom(await input.read(), { ...readOptions, source: input.name });
      } catch (error) {
        const typed = toMedvoxError(error, input.name);
        slots[index] = typed.code === 'NOT_DICOM' || typed.code === 'EMPTY_FILE' ? 'not-dicom' : typed;
      }
      onFile?.(++done);
    }
  };
  await Promise.all(Array.from({ length: concurrency ?? 8 }, worker));
  slots.forEach((slot, index) => {
    if (slot === 'not-dicom') result.notDicom.push(candidates[index]!.name);
    else if (slot instanceof MedvoxError) result.failed.push(slot);
    else result.files.push(slot);
  });
  return result;
}
