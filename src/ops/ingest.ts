/**
 * Ingest: DICOM files (from folders, zips, uploads or STOW-RS) into the archive. Each file is parsed, must carry
 * its Study / Series / SOP Instance UIDs, is stored as it arrived (byte for byte: WADO-RS returns the same bytes)
 * in the blob store and indexed with its attributes. A SOP Instance UID already in the archive is a duplicate:
 * recognised, counted, not stored again. `medvox import` and the upload job both call `ingestFiles`.
 */
import { datasetToJson } from '../core/dicom/json.ts';
import type { DicomFile } from '../core/dicom/model.ts';
import { readDicom, readDicomPrefix } from '../core/dicom/reader.ts';
import { MedvoxError, toMedvoxError } from '../core/errors.ts';
import { readSegmentItem } from '../core/seg/segments.ts';
import type { InputFile } from '../io/scan.ts';
import { scanInputs } from '../io/scan.ts';
import type { Archive } from '../store/archive.ts';
import type { InstanceRecord } from '../store/types.ts';

export const SEGMENTATION_SOP_CLASSES = new Set(['1.2.840.10008.5.1.4.1.1.66.4', '1.2.840.10008.5.1.4.1.1.66.7']);

export interface IngestProgress {
  done: number;
  total: number;
}

export interface IngestOptions {
  /** Recorded on every stored row (a re-run or a cancelled job removes what it stored). */
  jobId?: string;
  signal?: AbortSignal;
  onProgress?: (progress: IngestProgress) => void;
}

export interface IngestResult {
  stored: number;
  duplicates: number;
  notDicom: string[];
  failed: MedvoxError[];
  /** Study and series UIDs that received instances (new or duplicate). */
  studies: string[];
  series: string[];
  /** SOP Instance UIDs stored or already there, in input order. */
  instances: Array<{
    sopInstanceUID: string;
    sopClassUID: string;
    seriesInstanceUID: string;
    studyInstanceUID: string;
    duplicate: boolean;
  }>;
}

/** A parsed file ready to store: the checks every ingest path makes (upload validation, STOW-RS, import). */
export interface CheckedInstance {
  file: DicomFile;
  bytes: Uint8Array;
  studyInstanceUID: string;
  seriesInstanceUID: string;
  sopInstanceUID: string;
  sopClassUID: string;
  /** The blob already holding these bytes (an upload stores them while it arrives). */
  blob?: { key: string; size: number };
}

/** Parse and check one file; throws a MedvoxError (NOT_DICOM, TRUNCATED, MISSING_ATTRIBUTE ...) naming it. */
export function checkInstance(bytes: Uint8Array, name: string): CheckedInstance {
  let file: DicomFile;
  try {
    file = readDicom(bytes, { source: name });
  } catch (error) {
    throw toMedvoxError(error, name);
  }
  return checkFile(file, bytes, name);
}

/** The checks of checkInstance on a parsed file (possibly its header only). */
export function checkFile(file: DicomFile, bytes: Uint8Array, name: string): CheckedInstance {
  const uid = (keyword: string, metaKeyword?: string): string => {
    const value = file.dataset.string(keyword) ?? (metaKeyword ? file.meta.string(metaKeyword) : undefined) ?? '';
    if (value === '') {
      throw new MedvoxError(
        'MISSING_ATTRIBUTE',
        `${keyword} is missing or empty: the archive cannot place the instance`,
        {
          file: name,
          hint: 'an anonymiser blanked the UIDs; fill them in (e.g. dcmodify -gst -gse -gin) before uploading',
        },
      );
    }
    return value;
  };
  const sopClassUID = uid('SOPClassUID', 'MediaStorageSOPClassUID');
  if (sopClassUID === '1.2.840.10008.1.3.10') {
    throw new MedvoxError('UNSUPPORTED_SOP_CLASS', 'a DICOMDIR is an index, not an instance to archive', {
      file: name,
      hint: 'upload the folder or zip it belongs to',
    });
  }
  return {
    file,
    bytes,
    sopClassUID,
    studyInstanceUID: uid('StudyInstanceUID'),
    seriesInstanceUID: uid('SeriesInstanceUID'),
    sopInstanceUID: uid('SOPInstanceUID'),
  };
}

const PIXEL_DATA = 0x7fe00010;
const HEADER_READ = 16 * 1024;

/**
 * An instance already in the blob store (checked when it arrived): only its header is read back, everything before
 * Pixel Data, which is all the index keeps.
 */
async function checkStoredBlob(
  archive: Archive,
  blob: { key: string; size: number },
  name: string,
): Promise<CheckedInstance> {
  // Nearly every header fits the first read; larger ones are read again, 8x more each time, then whole.
  let length = Math.min(blob.size, HEADER_READ);
  try {
    for (;;) {
      const prefix = await archive.blobs.read(blob.key, 0, length);
      const file =
        prefix.length >= blob.size
          ? readDicom(prefix, { source: name, untilTag: PIXEL_DATA })
          : readDicomPrefix(prefix, PIXEL_DATA, name);
      if (file) return { ...checkFile(file, prefix, name), blob };
      length = Math.min(blob.size, length * 8);
    }
  } catch (error) {
    throw toMedvoxError(error, name);
  }
}

/** Store checked instances (one index transaction per batch). */
export async function storeInstances(
  archive: Archive,
  checked: CheckedInstance[],
  options: Pick<IngestOptions, 'jobId'> = {},
): Promise<boolean[]> {
  const records: InstanceRecord[] = [];
  const fresh: CheckedInstance[] = [];
  const already: boolean[] = checked.map((item) => archive.index.hasInstance(item.sopInstanceUID));
  await Promise.all(
    checked.map(async (item, position) => {
      if (already[position]) return;
      const blob = item.blob ?? (await archive.blobs.put(item.bytes));
      const instanceNumber = item.file.dataset.number('InstanceNumber');
      records[position] = {
        sopInstanceUID: item.sopInstanceUID,
        sopClassUID: item.sopClassUID,
        seriesInstanceUID: item.seriesInstanceUID,
        studyInstanceUID: item.studyInstanceUID,
        instanceNumber: Number.isFinite(instanceNumber) ? instanceNumber : undefined,
        transferSyntaxUID: item.file.transferSyntaxUID,
        blob: blob.key,
        size: blob.size,
        attributes: datasetToJson(item.file.dataset),
        jobId: options.jobId,
      };
      fresh[position] = item;
    }),
  );
  const positions = records.map((_, position) => position).filter((position) => records[position] !== undefined);
  const results = archive.index.addInstances(positions.map((position) => records[position]!));
  const stored = checked.map(() => false);
  positions.forEach((position, n) => {
    stored[position] = results[n]!.stored;
    const item = fresh[position]!;
    if (results[n]!.stored && SEGMENTATION_SOP_CLASSES.has(item.sopClassUID))
      indexSegmentation(archive, item, options.jobId);
  });
  return stored;
}

function indexSegmentation(archive: Archive, item: CheckedInstance, jobId: string | undefined): void {
  const ds = item.file.dataset;
  const referenced = ds.items('ReferencedSeriesSequence')[0]?.string('SeriesInstanceUID');
  const segments = ds.items('SegmentSequence').map((segment) => {
    const { segmentNumber, entry } = readSegmentItem(segment);
    return { number: segmentNumber, labelValue: entry.labelValue, label: entry.name, colour: entry.colour };
  });
  archive.index.addSegmentation({
    sopInstanceUID: item.sopInstanceUID,
    seriesInstanceUID: item.seriesInstanceUID,
    studyInstanceUID: item.studyInstanceUID,
    referencedSeriesUID: referenced,
    segments,
    jobId,
  });
}

const BATCH = 32;

/** Ingest every DICOM file among `inputs` (InputFiles or paths of files, folders, zips). */
export async function ingestFiles(
  archive: Archive,
  inputs: ReadonlyArray<InputFile & { blob?: { key: string; size: number } }> | readonly string[],
  options: IngestOptions = {},
): Promise<IngestResult> {
  const result: IngestResult = {
    stored: 0,
    duplicates: 0,
    notDicom: [],
    failed: [],
    studies: [],
    series: [],
    instances: [],
  };
  const studies = new Set<string>();
  const series = new Set<string>();
  const fromPaths = inputs.length > 0 && typeof inputs[0] === 'string';
  // Counted first (a listing, no reads) so that progress has a total.
  let total = inputs.length;
  if (fromPaths) {
    total = 0;
    for await (const _input of scanInputs(inputs as string[])) total++;
  }
  type Input = InputFile & { blob?: { key: string; size: number } };
  const source: AsyncIterable<Input> | Iterable<Input> = fromPaths
    ? scanInputs(inputs as string[])
    : (inputs as Input[]);
  let done = 0;
  let batch: Array<{ input: InputFile & { blob?: { key: string; size: number } }; bytes: Promise<Uint8Array> }> = [];
  const flush = async (): Promise<void> => {
    if (options.signal?.aborted) throw new MedvoxError('CANCELLED', 'the job was cancelled');
    const checked: CheckedInstance[] = [];
    for (const { input, bytes } of batch) {
      try {
        checked.push(
          input.blob ? await checkStoredBlob(archive, input.blob, input.name) : checkInstance(await bytes, input.name),
        );
      } catch (error) {
        const typed = toMedvoxError(error, input.name);
        if (typed.code === 'NOT_DICOM' || typed.code === 'EMPTY_FILE') result.notDicom.push(input.name);
        else result.failed.push(typed);
      }
    }
    const stored = await storeInstances(archive, checked, options);
    checked.forEach((item, n) => {
      studies.add(item.studyInstanceUID);
      series.add(item.seriesInstanceUID);
      if (stored[n]) result.stored++;
      else result.duplicates++;
      result.instances.push({
        sopInstanceUID: item.sopInstanceUID,
        sopClassUID: item.sopClassUID,
        seriesInstanceUID: item.seriesInstanceUID,
        studyInstanceUID: item.studyInstanceUID,
        duplicate: !stored[n],
      });
    });
    done += batch.length;
    batch = [];
    options.onProgress?.({ done, total: Math.max(total, done) });
  };
  for await (const input of source) {
    // Blobs are read by checkStoredBlob (header only); a zip entry is read before the scan moves on (the archive
    // closes when the scan ends); files in parallel.
    const bytes = input.blob ? Promise.resolve(new Uint8Array(0)) : input.read();
    const settled = bytes.catch(() => undefined); // a failed read is reported by flush, never unhandled
    if (input.path === undefined && !input.blob) await settled;
    batch.push({ input, bytes });
    if (batch.length >= BATCH) await flush();
  }
  if (batch.length > 0) await flush();
  result.studies = [...studies];
  result.series = [...series];
  return result;
}
