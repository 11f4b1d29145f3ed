/**
 * Ingest: DICOM files (from folders, zips, uploads or STOW-RS) into the archive. Each file is parsed, must carry
 * its Study / Series / SOP Instance UIDs, is stored as it arrived (byte for byte: WADO-RS returns the same bytes)
 * in the blob store and indexed with its attributes. A SOP Instance UID already in the archive is a duplicate:
 * recognised, counted, not stored again. `medvox import` and the upload job both call `ingestFiles`.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync } from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { datasetToJson } from '../core/dicom/json.ts';
import type { DicomFile } from '../core/dicom/model.ts';
import { readDicom, readDicomPrefix } from '../core/dicom/reader.ts';
import { isNotDicom, MedvoxError, toMedvoxError } from '../core/errors.ts';
import { readSegmentItem } from '../core/seg/segments.ts';
import { openForReading, readFully } from '../io/file-read.ts';
import type { InputFile } from '../io/scan.ts';
import { scanInputs } from '../io/scan.ts';
import type { Archive } from '../store/archive.ts';
import type { BlobRef, InstanceRecord } from '../store/types.ts';

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

/**
 * Instances an upload checked while they arrived, by blob key, until the import job stores them: the job then
 * indexes them without reading and parsing their headers again. Process-local; after a restart the job reads the
 * headers back from the blobs (checkStoredBlob). Values must not be views of the upload's buffers (detachFile).
 * At most ARRIVED_LIMIT headers (~15 KB each for a CT) are kept; beyond that the oldest are read back instead.
 */
const arrived = new Map<string, CheckedInstance>();
const ARRIVED_LIMIT = 10_000;

export function rememberArrived(item: CheckedInstance & { blob: { key: string; size: number } }): void {
  if (arrived.size >= ARRIVED_LIMIT) arrived.delete(arrived.keys().next().value!);
  arrived.set(item.blob.key, { ...item, bytes: new Uint8Array(0) });
}

const PIXEL_DATA = 0x7fe00010;
const HEADER_READ = 16 * 1024;

function takeArrived(blob: { key: string; size: number }, name: string): CheckedInstance | undefined {
  const item = arrived.get(blob.key);
  if (!item) return undefined;
  arrived.delete(blob.key);
  return { ...item, blob, file: { ...item.file, source: name } };
}

/** The first `length` bytes of a stored blob (`length` is at most its size). */
function readPrefix(path: string, length: number): Uint8Array {
  const fd = openForReading(path);
  try {
    const bytes = new Uint8Array(length);
    readFully(fd, bytes, 0, path);
    return bytes;
  } finally {
    closeSync(fd);
  }
}

/**
 * An instance already in the blob store (checked when it arrived): only its header is read back, everything before
 * Pixel Data, which is all the index keeps.
 */
async function checkStoredBlob(
  archive: Archive,
  blob: { key: string; size: number },
  name: string,
): Promise<CheckedInstance> {
  // Nearly every header fits the first read; larger ones are read again, 8x more each time, then whole. From a
  // folder store with synchronous reads: three system calls, not three thread-pool round trips, per instance.
  const path = archive.blobs.path(blob.key);
  let length = Math.min(blob.size, HEADER_READ);
  try {
    for (;;) {
      const prefix = path === undefined ? await archive.blobs.read(blob.key, 0, length) : readPrefix(path, length);
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

/** The index row of a checked instance (its attributes read now: the parsed values may be views of a reused buffer). */
function instanceRecord(item: CheckedInstance, blob: { key: string; size: number }, jobId?: string): InstanceRecord {
  const instanceNumber = item.file.dataset.number('InstanceNumber');
  return {
    sopInstanceUID: item.sopInstanceUID,
    sopClassUID: item.sopClassUID,
    seriesInstanceUID: item.seriesInstanceUID,
    studyInstanceUID: item.studyInstanceUID,
    instanceNumber: Number.isFinite(instanceNumber) ? instanceNumber : undefined,
    transferSyntaxUID: item.file.transferSyntaxUID,
    blob: blob.key,
    size: blob.size,
    attributes: datasetToJson(item.file.dataset),
    jobId,
  };
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
      records[position] = instanceRecord(item, blob, options.jobId);
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

/** Files on disk being hashed and written at once (each holds one read buffer), and their bytes at most. */
const DISK_IN_FLIGHT = 16;
const DISK_BYTES_IN_FLIGHT = 256 * 1024 * 1024;
/** Larger read buffers are not kept for the next file. */
const POOLED_BUFFER = 64 * 1024 * 1024;
/** Instances indexed per SQLite transaction on the disk path. */
const DISK_TRANSACTION = 512;

/** Read buffers reused from file to file (no 500 KB allocation, and no garbage, per instance). */
class BufferPool {
  private readonly free: Uint8Array[] = [];
  take(size: number): Uint8Array {
    const index = this.free.findIndex((buffer) => buffer.length >= size);
    const buffer = index >= 0 ? this.free.splice(index, 1)[0]! : new Uint8Array(Math.max(size, 1 << 20));
    return buffer.subarray(0, size);
  }
  give(view: Uint8Array): void {
    if (view.buffer.byteLength > POOLED_BUFFER) return;
    this.free.push(new Uint8Array(view.buffer, view.byteOffset, view.buffer.byteLength - view.byteOffset));
  }
}

/** One file read whole, synchronously (four system calls: cheaper than the promise round trips of readFile). */
function readWholeFile(path: string, pool: BufferPool): Uint8Array {
  const fd = openForReading(path);
  try {
    const bytes = pool.take(fstatSync(fd).size);
    try {
      readFully(fd, bytes, 0, path);
    } catch (error) {
      pool.give(bytes);
      throw error;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}

/**
 * Ingest of files on disk (`medvox import`): each file is read once, synchronously, into a reused buffer, parsed
 * whole (a truncated or damaged file is refused before anything of it is written) and its index row made; the
 * blob store hashes and writes it (on worker threads: BlobStore.putTransfer) while the next files are read.
 * Rows are indexed in one transaction per DISK_TRANSACTION instances, once their blobs are written, so the index
 * never names a missing blob. A SOP Instance UID seen before (in the archive or earlier in this run) is a
 * duplicate: nothing is written.
 */
class DiskIngest {
  private readonly pool = new BufferPool();
  private readonly inFlight = new Set<Promise<unknown>>();
  private bytesInFlight = 0;
  private readonly seen = new Set<string>();
  private pending: Array<{
    record: InstanceRecord;
    blob: Promise<BlobRef>;
    segmentation?: CheckedInstance;
    entry: IngestResult['instances'][number];
  }> = [];

  constructor(
    private readonly archive: Archive,
    private readonly result: IngestResult,
    private readonly jobId: string | undefined,
  ) {}

  /** Check one file and start storing it; throws (naming the file) when it cannot be ingested. */
  async add(path: string, name: string): Promise<void> {
    const bytes = readWholeFile(path, this.pool);
    let checked: CheckedInstance;
    try {
      checked = checkInstance(bytes, name);
    } catch (error) {
      this.pool.give(bytes);
      throw error;
    }
    const entry = {
      sopInstanceUID: checked.sopInstanceUID,
      sopClassUID: checked.sopClassUID,
      seriesInstanceUID: checked.seriesInstanceUID,
      studyInstanceUID: checked.studyInstanceUID,
      duplicate: true,
    };
    this.result.instances.push(entry);
    if (this.seen.has(checked.sopInstanceUID) || this.archive.index.hasInstance(checked.sopInstanceUID)) {
      this.pool.give(bytes);
      this.result.duplicates++;
      return;
    }
    this.seen.add(checked.sopInstanceUID);
    // A SEG's segments are indexed after its row: it keeps a parse of its own bytes (SEGs are few).
    const segmentation = SEGMENTATION_SOP_CLASSES.has(checked.sopClassUID)
      ? checkInstance(bytes.slice(), name)
      : undefined;
    const record = instanceRecord(checked, { key: '', size: bytes.length }, this.jobId);
    const blob = this.store(bytes);
    const size = record.size;
    this.bytesInFlight += size;
    const tracked = blob
      .catch(() => undefined)
      .finally(() => {
        this.inFlight.delete(tracked);
        this.bytesInFlight -= size;
      });
    this.inFlight.add(tracked);
    this.pending.push({ record, blob, segmentation, entry });
    while (
      this.inFlight.size >= DISK_IN_FLIGHT ||
      (this.inFlight.size > 0 && this.bytesInFlight >= DISK_BYTES_IN_FLIGHT)
    )
      await Promise.race(this.inFlight);
    if (this.pending.length >= DISK_TRANSACTION) await this.flush();
  }

  /** Hash and write a blob; its buffer goes back to the pool once written. */
  private async store(bytes: Uint8Array): Promise<BlobRef> {
    const { blobs } = this.archive;
    if (blobs.putTransfer) {
      const { buffer, ...blob } = await blobs.putTransfer(bytes);
      this.pool.give(buffer);
      return blob;
    }
    try {
      return await blobs.put(bytes, createHash('sha256').update(bytes).digest('hex'));
    } finally {
      this.pool.give(bytes);
    }
  }

  /** Wait for the blobs of the pending rows, then index them in one transaction. */
  async flush(): Promise<void> {
    const pending = this.pending;
    this.pending = [];
    if (pending.length === 0) return;
    const blobs = await Promise.all(pending.map((item) => item.blob));
    pending.forEach((item, n) => {
      item.record.blob = blobs[n]!.key;
    });
    const results = this.archive.index.addInstances(pending.map((item) => item.record));
    pending.forEach((item, n) => {
      if (!results[n]!.stored) {
        this.result.duplicates++;
        return;
      }
      item.entry.duplicate = false;
      this.result.stored++;
      if (item.segmentation) indexSegmentation(this.archive, item.segmentation, this.jobId);
    });
  }

  /** On failure: let the writes in flight end (their blobs are orphans a later store or purge can reuse). */
  async settle(): Promise<void> {
    await Promise.allSettled(this.pending.map((item) => item.blob));
    this.pending = [];
  }
}

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
  const reportFailure = (error: unknown, name: string): void => {
    const typed = toMedvoxError(error, name);
    if (isNotDicom(typed)) result.notDicom.push(name);
    else result.failed.push(typed);
  };
  const cancelled = (): void => {
    if (options.signal?.aborted) throw new MedvoxError('CANCELLED', 'the job was cancelled');
  };
  const disk = new DiskIngest(archive, result, options.jobId);
  let batch: Array<{ input: InputFile & { blob?: { key: string; size: number } }; bytes: Promise<Uint8Array> }> = [];
  const flush = async (): Promise<void> => {
    cancelled();
    await disk.flush(); // keeps the instances in input order
    const checked: CheckedInstance[] = [];
    for (const { input, bytes } of batch) {
      try {
        checked.push(
          input.blob
            ? (takeArrived(input.blob, input.name) ?? (await checkStoredBlob(archive, input.blob, input.name)))
            : checkInstance(await bytes, input.name),
        );
      } catch (error) {
        reportFailure(error, input.name);
      }
    }
    const stored = await storeInstances(archive, checked, options);
    checked.forEach((item, n) => {
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
    // Reads of stored blobs are synchronous: give a server's other requests their turn between batches.
    await yieldToEventLoop();
  };
  try {
    for await (const input of source) {
      if (input.path !== undefined && !input.blob) {
        // A file on disk: the DiskIngest pipeline.
        if (batch.length > 0) await flush();
        try {
          await disk.add(input.path, input.name);
        } catch (error) {
          reportFailure(error, input.name);
        }
        if (++done % BATCH === 0) {
          cancelled();
          options.onProgress?.({ done, total: Math.max(total, done) });
        }
        continue;
      }
      // Blobs are read by checkStoredBlob (header only); a zip entry is read before the scan moves on (the archive
      // closes when the scan ends).
      const bytes = input.blob ? Promise.resolve(new Uint8Array(0)) : input.read();
      const settled = bytes.catch(() => undefined); // a failed read is reported by flush, never unhandled
      if (!input.blob) await settled;
      batch.push({ input, bytes });
      if (batch.length >= BATCH) await flush();
    }
    if (batch.length > 0) await flush();
    cancelled();
    await disk.flush();
  } catch (error) {
    await disk.settle();
    throw error;
  }
  options.onProgress?.({ done, total: Math.max(total, done) });
  result.studies = [...new Set(result.instances.map((instance) => instance.studyInstanceUID))];
  result.series = [...new Set(result.instances.map((instance) => instance.seriesInstanceUID))];
  return result;
}
