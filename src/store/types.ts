/**
 * The archive's seams: an Index (patients / studies / series / instances / segmentations / volumes / previews /
 * jobs / annotations) and a BlobStore (content-addressed bytes). Jobs and the server see only these interfaces,
 * so a PostgreSQL index or an S3-compatible blob store can replace the embedded SQLite + folder defaults.
 */
import type { DicomJsonObject } from '../core/dicom/json.ts';

/** Content-addressed bytes: the key is the SHA-256 of the content (hex), so the same bytes are stored once. */
export interface BlobStore {
  /**
   * Store bytes (atomically); returns the key. Storing bytes already present is a no-op. `sha256` (hex) may be given
   * when the caller hashed the bytes while they arrived.
   */
  put(data: Uint8Array | Uint8Array[], sha256?: string): Promise<BlobRef>;
  /**
   * Optional, faster `put` for bulk ingest: hashes and stores `data` off the main thread. The ArrayBuffer under
   * `data` is transferred (unusable until the answer gives it back, whole, as `buffer`).
   */
  putTransfer?(data: Uint8Array): Promise<BlobRef & { buffer: Uint8Array }>;
  get(key: string): Promise<Uint8Array>;
  /** A local path to the blob when the store is a file system (streaming, range reads), else undefined. */
  path(key: string): string | undefined;
  has(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Read `length` bytes at `offset` (a slice of a volume, a frame of an instance). */
  read(key: string, offset: number, length: number): Promise<Uint8Array>;
}

export interface BlobRef {
  key: string;
  size: number;
  /** True when this call wrote the blob (false: the same bytes were already stored). */
  created: boolean;
}

/** What ingest knows about one DICOM instance. */
export interface InstanceRecord {
  sopInstanceUID: string;
  sopClassUID: string;
  seriesInstanceUID: string;
  studyInstanceUID: string;
  instanceNumber: number | undefined;
  transferSyntaxUID: string;
  blob: string;
  size: number;
  /** Every attribute but bulk data (pixel data), DICOM JSON model: QIDO-RS matching and WADO-RS metadata. */
  attributes: DicomJsonObject;
  /** The job that stored it (purged when that job is re-run or cancelled). */
  jobId?: string;
}

export interface StudyRow {
  studyInstanceUID: string;
  patientID: string;
  patientName: string;
  studyDate: string;
  studyDescription: string;
  modalities: string[];
  seriesCount: number;
  instanceCount: number;
  createdAt: string;
  /** Study-level attributes (first instance's patient + study modules). */
  attributes: DicomJsonObject;
}

export interface SeriesRow {
  seriesInstanceUID: string;
  studyInstanceUID: string;
  modality: string;
  seriesNumber: number | undefined;
  seriesDescription: string;
  instanceCount: number;
  attributes: DicomJsonObject;
}

export type InstanceFileRow = Pick<
  InstanceRecord,
  'sopInstanceUID' | 'seriesInstanceUID' | 'studyInstanceUID' | 'blob' | 'size'
>;

export interface InstanceRow extends InstanceRecord {
  createdAt: string;
}

export interface SegmentationRow {
  sopInstanceUID: string;
  seriesInstanceUID: string;
  studyInstanceUID: string;
  /** The image series it segments. */
  referencedSeriesUID: string | undefined;
  segments: Array<{ number: number; labelValue: number; label: string; colour?: readonly [number, number, number] }>;
  jobId?: string;
}

/** A voxel array stored for the viewer: raw little-endian voxels in a blob + the header to place them. */
export interface VolumeRow {
  id: string;
  seriesInstanceUID: string;
  studyInstanceUID: string;
  kind: 'image' | 'labelmap';
  /** For a labelmap: the image volume it sits on. */
  imageVolumeId?: string;
  /** For a labelmap: the SEG it was decoded from. */
  segmentationUID?: string;
  header: VolumeHeader;
  blob: string;
  jobId?: string;
}

export interface VolumeHeader {
  /** [columns, rows, slices, volumes]; x fastest, j = rows-1-r (as NIfTI / the converter). */
  dims: [number, number, number, number];
  datatype: 'uint8' | 'int8' | 'uint16' | 'int16' | 'int32' | 'uint32' | 'float32' | 'float64';
  bytesPerVoxel: number;
  /** Voxel (i, j, k) -> patient LPS mm, row-major 4x4. */
  affineLPS: number[];
  /** The same in RAS (the NIfTI sform). */
  affineRAS: number[];
  spacing: [number, number, number];
  rescaleSlope: number;
  rescaleIntercept: number;
  /** Smallest / largest stored value (default window). */
  min: number;
  max: number;
  /** Display window from the DICOM header when it had one (real values). */
  windowCenter?: number;
  windowWidth?: number;
  samplesPerPixel: number;
  byteLength: number;
  /** SOP Instance UID of every slice (k order, first volume). */
  sopInstanceUIDs: string[];
}

export interface PreviewRow {
  studyInstanceUID: string;
  volumeId: string;
  slice: number;
  blob: string;
  jobId?: string;
}

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobRow {
  id: string;
  type: string;
  state: JobState;
  params: Record<string, unknown>;
  percent: number;
  step: string;
  studyInstanceUID: string | undefined;
  result: Record<string, unknown> | undefined;
  error: { code: string; message: string; hint?: string } | undefined;
  attempts: number;
  createdAt: string;
  updatedAt: string;
}

export interface AnnotationRow {
  id: number;
  studyInstanceUID: string | undefined;
  volumeId: string | undefined;
  slice: number | undefined;
  kind: string;
  data: unknown;
  createdAt: string;
}

export interface StoreResult {
  /** False when an instance with the same SOP Instance UID was already stored (nothing written). */
  stored: boolean;
}

export interface Index {
  /** Store instances in one transaction; duplicates (same SOP Instance UID) are recognised and skipped. */
  addInstances(records: InstanceRecord[]): StoreResult[];
  hasInstance(sopInstanceUID: string): boolean;
  instance(sopInstanceUID: string): InstanceRow | undefined;
  instances(filter: { studyInstanceUID?: string; seriesInstanceUID?: string }): InstanceRow[];
  /** The same instances without their attributes (where each one's file is): for reports over many instances. */
  instanceFiles(filter: { studyInstanceUID?: string; seriesInstanceUID?: string }): InstanceFileRow[];
  studies(): StudyRow[];
  study(studyInstanceUID: string): StudyRow | undefined;
  series(filter: { studyInstanceUID?: string; seriesInstanceUID?: string }): SeriesRow[];

  addSegmentation(row: SegmentationRow): void;
  segmentations(filter: { studyInstanceUID?: string; sopInstanceUID?: string }): SegmentationRow[];

  putVolume(row: VolumeRow): void;
  volume(id: string): VolumeRow | undefined;
  volumes(filter: { studyInstanceUID?: string; seriesInstanceUID?: string }): VolumeRow[];

  putPreview(row: PreviewRow): void;
  preview(studyInstanceUID: string, slice: number): PreviewRow | undefined;

  createJob(job: Pick<JobRow, 'id' | 'type' | 'params' | 'studyInstanceUID'>): JobRow;
  job(id: string): JobRow | undefined;
  jobs(filter?: { state?: JobState; studyInstanceUID?: string }): JobRow[];
  updateJob(id: string, patch: Partial<Omit<JobRow, 'id' | 'type' | 'createdAt'>>): void;

  addAnnotation(row: Omit<AnnotationRow, 'id' | 'createdAt'>): AnnotationRow;
  annotations(filter: { studyInstanceUID?: string; volumeId?: string }): AnnotationRow[];

  /** Remove what a job stored (instances, segmentations, volumes, previews); returns the blobs no row uses now. */
  purgeJobOutputs(jobId: string): string[];
  /** Every blob key a row refers to (for a blob garbage collection). */
  blobKeys(): Set<string>;
  close(): void;
}
