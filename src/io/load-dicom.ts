/** Every DICOM file below some inputs (folders, zips), read with a few reads in flight; bad files are reported. */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DicomFile, ReadonlyDataset } from '../core/dicom/model.ts';
import { type ReadOptions, readDicom } from '../core/dicom/reader.ts';
import { isNotDicom, MedvoxError, toMedvoxError } from '../core/errors.ts';
import { detachFile, readDicomFileHeadFirst } from './dicom-file.ts';
import { type InputFile, listInputs } from './scan.ts';

export interface LoadResult {
  files: DicomFile[];
  /** Files that are not DICOM (skipped silently by converters, listed for reports). */
  notDicom: string[];
  /** DICOM files that could not be read, with the typed error. */
  failed: MedvoxError[];
}

export interface LoadOptions extends Omit<ReadOptions, 'source'> {
  concurrency?: number;
  /**
   * Copy every value but the pixel data out of the file buffer, so that dropping the pixel data later frees the
   * file's memory (the converter does, volume by volume).
   */
  detach?: boolean;
  /**
   * Read files on disk header first and leave native Pixel Data in the file until a volume reads it (see
   * readDicomFileHeadFirst): a series is never in memory twice. Implies `detach`.
   */
  deferPixelData?: boolean;
  onFile?: (done: number) => void;
  /**
   * Called with each file read header first (`deferPixelData`), in input order, before the next is read; the
   * loading waits for the promise it returns (so a consumer can hold the loop back while it catches up).
   */
  onHeadFirst?: (file: DicomFile) => void | Promise<void>;
}

export async function loadDicomInputs(inputs: readonly string[], options: LoadOptions = {}): Promise<LoadResult> {
  const result: LoadResult = { files: [], notDicom: [], failed: [] };
  const candidates: InputFile[] = await listInputs(inputs);
  const slots: Array<DicomFile | MedvoxError | 'not-dicom'> = new Array(candidates.length);
  let next = 0;
  let done = 0;
  const { concurrency, onFile, onHeadFirst, detach, deferPixelData, ...readOptions } = options;
  if (deferPixelData && readOptions.untilTag === undefined) {
    // Synchronous header-first reads: a few system calls a file, no thread-pool round trips.
    for (const [index, input] of candidates.entries()) {
      if (input.path === undefined) continue;
      // Let a progress bar draw now and then.
      if (index % 64 === 63) await new Promise((resolve) => setImmediate(resolve));
      let file: DicomFile | undefined;
      try {
        file = readDicomFileHeadFirst(input.path);
        slots[index] = file;
      } catch (error) {
        const typed = toMedvoxError(error, input.name);
        slots[index] = isNotDicom(typed) ? 'not-dicom' : typed;
      }
      if (file && onHeadFirst) await onHeadFirst(file);
      onFile?.(++done);
    }
  }
  // A few reads in flight hide file-system latency; parsing stays on this thread.
  const worker = async (): Promise<void> => {
    while (next < candidates.length) {
      const index = next++;
      const input = candidates[index]!;
      if (slots[index] !== undefined) continue;
      try {
        const file = readDicom(await input.read(), { ...readOptions, source: input.name });
        if (detach || deferPixelData) detachFile(file);
        slots[index] = file;
      } catch (error) {
        const typed = toMedvoxError(error, input.name);
        slots[index] = isNotDicom(typed) ? 'not-dicom' : typed;
      }
      onFile?.(++done);
    }
  };
  await Promise.all(Array.from({ length: concurrency ?? 8 }, worker));
  const directories: DicomFile[] = [];
  slots.forEach((slot, index) => {
    if (slot === 'not-dicom') result.notDicom.push(candidates[index]!.name);
    else if (slot instanceof MedvoxError) result.failed.push(slot);
    else if (isDicomdir(slot)) directories.push(slot);
    else result.files.push(slot);
  });
  // A DICOMDIR given as input brings the files it references (those a folder scan did not already find).
  const loaded = new Set(result.files.map((file) => file.source));
  const referenced = directories.flatMap((dir) => referencedFiles(dir)).filter((path) => !loaded.has(path));
  if (referenced.length > 0) {
    const more = await loadDicomInputs([...new Set(referenced)], { ...options, onFile: undefined });
    result.files.push(...more.files);
    result.failed.push(...more.failed);
    result.notDicom.push(...more.notDicom);
  }
  return result;
}

const MEDIA_STORAGE_DIRECTORY = '1.2.840.10008.1.3.10';

/** A DICOMDIR (Media Storage Directory), which names files rather than holding an image. */
export function isDicomdir(file: { meta: ReadonlyDataset; dataset: ReadonlyDataset }): boolean {
  return (
    (file.dataset.string('SOPClassUID') ?? file.meta.string('MediaStorageSOPClassUID')) === MEDIA_STORAGE_DIRECTORY
  );
}

/**
 * Files a DICOMDIR references (PS3.3 F.3: Referenced File ID, path components relative to the DICOMDIR's folder).
 * Media file systems are case-insensitive: components are matched to the real names ignoring case.
 */
export function referencedFiles(dicomdir: DicomFile): string[] {
  if (!dicomdir.source || dicomdir.source.includes('!/')) return [];
  const base = dirname(dicomdir.source);
  const out: string[] = [];
  for (const record of dicomdir.dataset.items('DirectoryRecordSequence')) {
    const components = record.strings('ReferencedFileID').filter((part) => part !== '');
    if (components.length === 0) continue;
    const path = resolveCaseInsensitive(base, components);
    if (path) out.push(path);
  }
  return out;
}

function resolveCaseInsensitive(base: string, components: string[]): string | undefined {
  let current = base;
  for (const component of components) {
    const exact = join(current, component);
    if (existsSync(exact)) {
      current = exact;
      continue;
    }
    let match: string | undefined;
    try {
      match = readdirSync(current).find((name) => name.toUpperCase() === component.toUpperCase());
    } catch {
      return undefined;
    }
    if (!match) return undefined;
    current = join(current, match);
  }
  return current;
}
