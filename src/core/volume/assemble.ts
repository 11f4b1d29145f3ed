/**
 * Series -> volumes, as dcm2niix splits them: by Series Instance UID, then image size and orientation, echo,
 * image type (magnitude / phase ...); within a group, slices are ordered by position along the slice normal
 * (never by Instance Number) and repeated positions become volumes of a 4D series. Nothing is resampled: uneven
 * spacing, missing slices and gantry tilt are reported on the volume (see docs/geometry.md).
 */
import { type DecodedFrame, decodeFrame, type PixelArray } from '../codecs/index.ts';
import { type DeferredValue, type DicomFile, elementBytes, elementLength } from '../dicom/model.ts';
import { MedvoxError } from '../errors.ts';
import { dot, type Mat4, type Vec3 } from '../geometry/affine.ts';
import { type StackWarning, sliceNormal, stackGeometry } from '../geometry/stack.ts';
import { clampToBitsStored, flipRowsInto, type RowBuffer, rowBuffer, type StoredArray } from './native-rows.ts';
import { type SliceRecord, sliceRecords } from './records.ts';

export interface SliceSource {
  sopInstanceUID: string;
  source: string | undefined;
  frameIndex: number;
  /** Tile of a Siemens mosaic frame (0-based), for mosaics only. */
  tile?: number;
  /** ImagePositionPatient of the slice (LPS mm). */
  position: Vec3;
}

export interface Volume {
  seriesInstanceUID: string;
  /** [columns, rows, slices, volumes]. */
  dims: [number, number, number, number];
  /** Voxels, x fastest, then y (rows flipped: j = rows-1-r), z (along +normal), t. */
  data: PixelArray;
  /** Voxel (i, j, k) -> patient LPS mm. */
  affineLPS: Mat4;
  spacing: Vec3;
  /** 1 for grey volumes; 3 for colour (RGB, 8-bit, interleaved per voxel: `data` holds 3 bytes a voxel). */
  samplesPerPixel: number;
  /** Stored values -> real values (identity when per-slice rescale forced float data). */
  rescaleSlope: number;
  rescaleIntercept: number;
  /** slices[t][k]. */
  slices: SliceSource[][];
  warnings: StackWarning[];
  /** The first instance of the volume, for metadata. */
  first: DicomFile;
  echoNumber: number | undefined;
  echoTime: number | undefined;
  imageType: string;
}

export interface AssemblyResult {
  volumes: Volume[];
  /** Files that hold no placeable image (SR, RTSTRUCT, no orientation ...) with the reason. */
  skipped: Array<{ source: string | undefined; reason: string }>;
}

export type ProgressCallback = (done: number, total: number) => void;

function groupKey(record: SliceRecord): string {
  const o = [...record.plane.rowCosines, ...record.plane.columnCosines].map((v) => v.toFixed(3)).join(',');
  const echo = record.echoNumber ?? (record.echoTime === undefined ? '' : record.echoTime.toFixed(3));
  return [record.seriesInstanceUID, `${record.rows}x${record.columns}`, o, echo, record.imageType].join('|');
}

const temporalOrder = (a: SliceRecord, b: SliceRecord): number =>
  a.temporalIndex - b.temporalIndex ||
  a.acquisitionNumber - b.acquisitionNumber ||
  (a.acquisitionTime < b.acquisitionTime ? -1 : a.acquisitionTime > b.acquisitionTime ? 1 : 0) ||
  a.instanceNumber - b.instanceNumber ||
  a.frameIndex - b.frameIndex ||
  (a.tile?.index ?? 0) - (b.tile?.index ?? 0);

/** Split one orientation group into stacks of [position][time]. */
function positionsOf(records: SliceRecord[]): SliceRecord[][] {
  const normal = sliceNormal(records[0]!.plane);
  const byDistance = new Map<string, SliceRecord[]>();
  for (const record of records) {
    const key = dot(normal, record.plane.position).toFixed(3);
    const list = byDistance.get(key) ?? [];
    list.push(record);
    byDistance.set(key, list);
  }
  return [...byDistance.entries()]
    .sort((a, b) => Number(a[0]) - Number(b[0]))
    .map(([, list]) => list.sort(temporalOrder));
}

/** One volume group: every position must have the same number of time points, else split by acquisition. */
function splitConsistent(records: SliceRecord[]): SliceRecord[][][] {
  const positions = positionsOf(records);
  const counts = new Set(positions.map((list) => list.length));
  if (counts.size === 1) return [positions];
  const byAcquisition = new Map<number, SliceRecord[]>();
  for (const record of records) {
    const list = byAcquisition.get(record.acquisitionNumber) ?? [];
    list.push(record);
    byAcquisition.set(record.acquisitionNumber, list);
  }
  if (byAcquisition.size > 1) return [...byAcquisition.values()].flatMap(splitConsistent);
  // Still inconsistent: keep the first time point of every position (the rest would be a partial volume).
  return [positions.map((list) => [list[0]!])];
}

export interface AssembleOptions {
  /**
   * Drop each file's Pixel Data from its dataset once all its frames are in a volume, so that a large series is
   * not held twice (files + volume). For callers that own the files (the converter).
   */
  releasePixelData?: boolean;
}

const PIXEL_TAGS = [0x7fe00010, 0x7fe00008, 0x7fe00009];

/** Decodes one frame of a file (decodeFrame, or a pool of worker threads). */
export type FrameDecoder = (file: DicomFile, frameIndex: number) => Promise<DecodedFrame>;

/** Frames decoded ahead of the slice being placed, when a FrameDecoder runs them in parallel. */
const DECODE_AHEAD = 8;

/** The array type of a volume's voxels, chosen from its first slice. */
export type PixelArrayConstructor = new (length: number) => PixelArray;

/**
 * Where a volume's voxels go, slice by slice (index = t * slices + k): an array in memory (assembleVolumes), or
 * a file written while the series is read (the converter), so that a series is never in memory whole.
 */
export interface VolumeSink {
  /** Called once, before the first slice, when the voxel type is known. */
  begin(type: PixelArrayConstructor, sliceElements: number, sliceCount: number): void;
  /** The array slice `index` is written into: `sliceElements` elements, written before `commit(index)`. */
  slice(index: number): PixelArray;
  commit(index: number): void | Promise<void>;
}

/** A volume whose geometry and metadata are known and whose voxels are read on demand, into a sink. */
export interface PlannedVolume {
  volume: Omit<Volume, 'data'>;
  /**
   * Every slice is frame 0 of its own file, grey, with one rescale for all: `read` puts each file's stored values in
   * the sink (and `fileFrames` may give them).
   */
  storedValues: boolean;
  /**
   * Read every slice into `sink` (in t, k order); each file's pixel data is dropped once read when asked to.
   * `decode` replaces decodeFrame for frames that need decoding (e.g. a worker pool); a few run ahead at once.
   */
  read(sink: VolumeSink, decode?: FrameDecoder): Promise<void>;
  /**
   * The slices (in t, k order) when every one is a native grey frame still in its file and the volume keeps stored
   * values, all of one array type: what copying them straight into a .nii needs (io/slice-copier.ts); else
   * undefined. Nothing is read.
   */
  fileFrames(): FileFrames | undefined;
}

/** Slices of a volume that lie in files, each `rows * columns * type.BYTES_PER_ELEMENT` bytes from `offset`. */
export interface FileFrames {
  type: PixelArrayConstructor;
  rows: number;
  columns: number;
  bytesPerSample: number;
  frames: Array<{ path: string; offset: number; bitsStored: number; signed: boolean }>;
}

export interface PlanResult {
  volumes: PlannedVolume[];
  skipped: AssemblyResult['skipped'];
}

/** Group, order and place every slice of `files` without reading a voxel. */
export function planVolumes(
  files: DicomFile[],
  onProgress?: ProgressCallback,
  options: AssembleOptions = {},
): PlanResult {
  const skipped: AssemblyResult['skipped'] = [];
  const groups = new Map<string, SliceRecord[]>();
  for (const file of files) {
    if (!file.dataset.has(0x7fe00010) && !file.dataset.has(0x7fe00008) && !file.dataset.has(0x7fe00009)) {
      skipped.push({ source: file.source, reason: 'no pixel data' });
      continue;
    }
    const records = sliceRecords(file);
    if (records.length === 0) {
      skipped.push({ source: file.source, reason: 'no image plane (Image Orientation / Position missing)' });
      continue;
    }
    for (const record of records) {
      const key = groupKey(record);
      const list = groups.get(key) ?? [];
      list.push(record);
      groups.set(key, list);
    }
  }
  const plans = [...groups.values()].flatMap(splitConsistent);
  const total = plans.reduce((sum, positions) => sum + positions.length * positions[0]!.length, 0);
  // Frames still to decode per file, for releasing pixel data as soon as a file is done.
  const pending = new Map<DicomFile, number>();
  for (const record of plans.flat(2)) pending.set(record.file, (pending.get(record.file) ?? 0) + 1);
  let done = 0;
  const tick = (record: SliceRecord): void => {
    done++;
    onProgress?.(done, total);
    if (!options.releasePixelData) return;
    const left = (pending.get(record.file) ?? 1) - 1;
    pending.set(record.file, left);
    if (left === 0) for (const tag of PIXEL_TAGS) record.file.dataset.delete(tag);
  };
  return { volumes: plans.map((positions) => planVolume(positions, tick)), skipped };
}

export async function assembleVolumes(
  files: DicomFile[],
  onProgress?: ProgressCallback,
  options: AssembleOptions = {},
): Promise<AssemblyResult> {
  const { volumes: planned, skipped } = planVolumes(files, onProgress, options);
  const volumes: Volume[] = [];
  for (const plan of planned) volumes.push(await readVolume(plan));
  return { volumes, skipped };
}

/** A planned volume read into memory. */
export async function readVolume(plan: PlannedVolume, decode?: FrameDecoder): Promise<Volume> {
  let data: PixelArray | undefined;
  let sliceElements = 0;
  await plan.read(
    {
      begin: (type, elements, count) => {
        data = new type(elements * count);
        sliceElements = elements;
      },
      slice: (index) => data!.subarray(index * sliceElements, (index + 1) * sliceElements),
      commit: () => {},
    },
    decode,
  );
  return { ...plan.volume, data: data! };
}

function planVolume(positions: SliceRecord[][], tick: (record: SliceRecord) => void): PlannedVolume {
  const first = positions[0]![0]!;
  const nz = positions.length;
  const nt = positions[0]!.length;
  const { rows, columns } = first;
  const geometry = stackGeometry(
    positions.map((list) => list[0]!.plane),
    rows,
    first.sliceSpacing,
  );
  const all = positions.flat();
  const uniformRescale = all.every(
    (r) => r.rescaleSlope === first.rescaleSlope && r.rescaleIntercept === first.rescaleIntercept,
  );
  const colour = (first.file.dataset.number('SamplesPerPixel') ?? 1) === 3;
  const slices: SliceSource[][] = Array.from({ length: nt }, (_, t) =>
    positions.map((list) => {
      const record = list[t]!;
      const source: SliceSource = {
        sopInstanceUID: record.sopInstanceUID,
        source: record.file.source,
        frameIndex: record.frameIndex,
        position: record.plane.position,
      };
      if (record.tile) source.tile = record.tile.index;
      return source;
    }),
  );
  const volume: Omit<Volume, 'data'> = {
    seriesInstanceUID: first.seriesInstanceUID,
    dims: [columns, rows, nz, nt],
    affineLPS: geometry.affineLPS,
    spacing: geometry.spacing,
    samplesPerPixel: colour ? 3 : 1,
    rescaleSlope: uniformRescale && !colour ? first.rescaleSlope : 1,
    rescaleIntercept: uniformRescale && !colour ? first.rescaleIntercept : 0,
    slices,
    warnings: [
      ...geometry.warnings,
      ...(first.noGeometry ? [{ kind: 'NO_PATIENT_GEOMETRY' as const }] : []),
      ...(first.file.dataset.has(0x00283000) ? [{ kind: 'MODALITY_LUT_NOT_APPLIED' as const }] : []),
    ],
    first: first.file,
    echoNumber: first.echoNumber,
    echoTime: first.echoTime,
    imageType: first.imageType,
  };
  const storedValues = uniformRescale && !colour && all.every((record) => record.frameIndex === 0 && !record.tile);
  return {
    volume,
    storedValues,
    read: (sink, decode) => readSlices(positions, uniformRescale, colour, sink, tick, decode),
    fileFrames: () => (storedValues ? fileFramesOf(positions) : undefined),
  };
}

function fileFramesOf(positions: SliceRecord[][]): FileFrames | undefined {
  const { rows, columns } = positions[0]![0]!;
  const frames: FileFrames['frames'] = [];
  let type: PixelArrayType | undefined;
  let bytesPerSample = 0;
  for (let t = 0; t < positions[0]!.length; t++) {
    for (const list of positions) {
      const frame = nativeFrame(list[t]!);
      const file = frame?.deferred?.file;
      if (!frame || frame.bytes || !file || (type && frame.type !== type)) return undefined;
      type = frame.type;
      bytesPerSample = frame.bytesPerSample;
      frames.push({
        path: file.path,
        offset: file.start + frame.start,
        bitsStored: frame.bitsStored,
        signed: frame.signed,
      });
    }
  }
  return { type: type!, rows, columns, bytesPerSample, frames };
}

async function readSlices(
  positions: SliceRecord[][],
  uniformRescale: boolean,
  colour: boolean,
  sink: VolumeSink,
  tick: (record: SliceRecord) => void,
  decode: FrameDecoder | undefined,
): Promise<void> {
  const nz = positions.length;
  const nt = positions[0]!.length;
  const { rows, columns } = positions[0]![0]!;
  const sliceSize = rows * columns;
  const order: SliceRecord[] = [];
  for (let t = 0; t < nt; t++) for (let k = 0; k < nz; k++) order.push(positions[k]![t]!);
  // What each slice needs, worked out a few slices ahead so that decoding runs in parallel with placing.
  const natives = new Map<number, NativeFrame | undefined>();
  const decodes = new Map<number, Promise<DecodedFrame>>();
  const nativeAt = (index: number): NativeFrame | undefined => {
    if (!natives.has(index)) natives.set(index, uniformRescale && !colour ? nativeFrame(order[index]!) : undefined);
    return natives.get(index);
  };
  const decodeAt = (index: number): Promise<DecodedFrame> => {
    let decoded = decodes.get(index);
    if (!decoded) {
      decoded = decodeRecord(order[index]!, decode);
      decoded.catch(() => {}); // awaited when its slice is placed
      decodes.set(index, decoded);
    }
    return decoded;
  };
  let type: PixelArrayConstructor | undefined;
  const begin = (chosen: PixelArrayConstructor): void => {
    type = chosen;
    sink.begin(chosen, sliceSize * (colour ? 3 : 1), nz * nt);
  };
  for (let index = 0; index < order.length; index++) {
    const record = order[index]!;
    if (decode) {
      for (let ahead = index + 1; ahead < Math.min(order.length, index + DECODE_AHEAD); ahead++) {
        if (!nativeAt(ahead)) void decodeAt(ahead);
      }
    }
    const native = nativeAt(index);
    natives.delete(index);
    if (native && (!type || type === native.type)) {
      // Fast path: uncompressed grey data goes from the file (or its bytes) into the volume in one copy.
      if (!type) begin(native.type);
      copyNative(native, sink.slice(index), 0, record);
    } else {
      const decoded = await decodeAt(index);
      decodes.delete(index);
      if ((decoded.samplesPerPixel === 3) !== colour || (colour && !(decoded.pixels instanceof Uint8Array))) {
        throw new MedvoxError(
          'UNSUPPORTED_PIXEL_FORMAT',
          colour
            ? 'only 8-bit RGB colour images can be assembled into a volume'
            : 'a volume cannot mix colour and grey images',
          { file: record.file.source },
        );
      }
      if (colour) {
        if (!type) begin(Uint8Array);
        copyColourSlice(decoded.pixels as Uint8Array, sink.slice(index) as Uint8Array, 0, record);
      } else {
        if (!type) begin(uniformRescale ? (decoded.pixels.constructor as PixelArrayConstructor) : Float32Array);
        copySlice(decoded.pixels, sink.slice(index), 0, record, uniformRescale);
      }
    }
    await sink.commit(index);
    tick(record);
  }
}

const frameCache = new WeakMap<DicomFile, Map<number, Promise<DecodedFrame>>>();

/** Decode a record's frame once per file (mosaic tiles share one frame). */
function decodeRecord(record: SliceRecord, decode: FrameDecoder = decodeFrame): Promise<DecodedFrame> {
  let cache = frameCache.get(record.file);
  if (!cache) {
    cache = new Map();
    frameCache.set(record.file, cache);
  }
  let frame = cache.get(record.frameIndex);
  if (!frame) {
    frame = decode(record.file, record.frameIndex);
    if (record.tile) cache.set(record.frameIndex, frame);
  }
  return frame;
}

/** Copy one slice with its rows flipped (j = rows-1-r), from a tile when the frame is a mosaic. */
function copySlice(source: PixelArray, target: PixelArray, base: number, record: SliceRecord, raw: boolean): void {
  const { rows, columns } = record;
  const frameColumns = record.tile ? columns * record.tile.perRow : columns;
  const tileRow = record.tile ? Math.floor(record.tile.index / record.tile.perRow) : 0;
  const tileColumn = record.tile ? record.tile.index % record.tile.perRow : 0;
  const slope = record.rescaleSlope;
  const intercept = record.rescaleIntercept;
  for (let r = 0; r < rows; r++) {
    const from = (tileRow * rows + r) * frameColumns + tileColumn * columns;
    const to = base + (rows - 1 - r) * columns;
    if (raw) {
      (target as Int16Array).set((source as Int16Array).subarray(from, from + columns), to);
    } else {
      for (let c = 0; c < columns; c++) target[to + c] = Number(source[from + c]) * slope + intercept;
    }
  }
}

type PixelArrayType = new (
  length: number,
) => Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

interface NativeFrame {
  /** The frame's bytes (little endian), a view into the file; absent when the value is still in its file. */
  bytes: Uint8Array | undefined;
  /** The Pixel Data value left in its file, and where the frame starts in it. */
  deferred: DeferredValue | undefined;
  start: number;
  type: PixelArrayType;
  bytesPerSample: number;
  bitsStored: number;
  signed: boolean;
}

/**
 * The frame of a record when it can be copied as is: native (not encapsulated) grey integer data, long enough.
 * Anything else (compressed, colour, float, 1-bit, short data) takes the codec path, which also reports errors.
 */
/** The fields of a slice record that reading its native frame needs. */
type FramePlace = Pick<SliceRecord, 'file' | 'frameIndex' | 'tile' | 'rows' | 'columns'>;

function nativeFrame(record: FramePlace): NativeFrame | undefined {
  const ds = record.file.dataset;
  const element = ds.get(0x7fe00010);
  if (!element || (!element.bytes && !element.deferred) || element.fragments) return undefined;
  // Mosaic tiles share one frame: read it in once.
  if (record.tile) elementBytes(element);
  const bitsAllocated = ds.number('BitsAllocated');
  if (
    (ds.number('SamplesPerPixel') ?? 1) !== 1 ||
    (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32)
  ) {
    return undefined;
  }
  const signed = ds.number('PixelRepresentation') === 1;
  const bytesPerSample = bitsAllocated / 8;
  const frameRows = record.tile ? record.rows * record.tile.perRow : record.rows;
  const frameColumns = record.tile ? record.columns * record.tile.perRow : record.columns;
  const frameBytes = frameRows * frameColumns * bytesPerSample;
  const start = record.frameIndex * frameBytes;
  if (start + frameBytes > elementLength(element)) return undefined;
  const types: Record<number, [PixelArrayType, PixelArrayType]> = {
    8: [Uint8Array, Int8Array],
    16: [Uint16Array, Int16Array],
    32: [Uint32Array, Int32Array],
  };
  return {
    bytes: element.bytes?.subarray(start, start + frameBytes),
    deferred: element.bytes ? undefined : element.deferred,
    start,
    type: types[bitsAllocated]![signed ? 1 : 0],
    bytesPerSample,
    bitsStored: ds.number('BitsStored') ?? bitsAllocated,
    signed,
  };
}

/** Rows flipped (j = rows-1-r), tile cut out for mosaics, then masked / sign-extended to Bits Stored as the codecs do. */
function copyNative(frame: NativeFrame, target: PixelArray, base: number, record: FramePlace): void {
  const { rows, columns } = record;
  const size = frame.bytesPerSample;
  const targetBytes = new Uint8Array(target.buffer, target.byteOffset, target.byteLength);
  const frameColumns = record.tile ? columns * record.tile.perRow : columns;
  const tileRow = record.tile ? Math.floor(record.tile.index / record.tile.perRow) : 0;
  const tileColumn = record.tile ? record.tile.index % record.tile.perRow : 0;
  const rowBytes = columns * size;
  if (!frame.bytes) {
    // One read of the frame into a reused buffer, then the rows flipped into place (measured faster than a
    // vectored read straight into the flipped rows: 33-42 ms against 62-69 ms for 300 512x512 slices).
    const read = frameScratch(rows, rowBytes);
    frame.deferred!.readInto(frame.start, [read.whole]);
    flipRowsInto(read, targetBytes, base * size);
  } else {
    const bytes = frame.bytes!;
    for (let r = 0; r < rows; r++) {
      const from = ((tileRow * rows + r) * frameColumns + tileColumn * columns) * size;
      targetBytes.set(bytes.subarray(from, from + rowBytes), (base + (rows - 1 - r) * columns) * size);
    }
  }
  clampToBitsStored(target as StoredArray, base, base + rows * columns, frame.bitsStored, frame.signed);
}

let scratch: { buffer: RowBuffer; rowBytes: number } | undefined;

/** A reused frame buffer with a view per row (no allocation per slice). */
function frameScratch(rows: number, rowBytes: number): RowBuffer {
  if (!scratch || scratch.rowBytes !== rowBytes || scratch.buffer.rows.length !== rows) {
    scratch = { buffer: rowBuffer(rows, rowBytes), rowBytes };
  }
  return scratch.buffer;
}

/** RGB rows flipped (j = rows-1-r) into an interleaved RGB volume (3 bytes a voxel). */
function copyColourSlice(source: Uint8Array, target: Uint8Array, base: number, record: SliceRecord): void {
  const { rows, columns } = record;
  const rowBytes = columns * 3;
  for (let r = 0; r < rows; r++) {
    target.set(source.subarray(r * rowBytes, (r + 1) * rowBytes), (base + (rows - 1 - r) * columns) * 3);
  }
}
