/**
 * A labelmap NIfTI scanned for its labels' runs straight from its file, a block of rows at a time, without ever
 * holding the labelmap (`seg create`'s usual case: a 3D uint8 / uint16 / int16 mask, unscaled, little endian).
 *
 * Why: a 512x512x300 mask is 78 MB. Inflated into one buffer, its 19 k fresh pages cost ~40 ms of page faults on
 * top of ~9 ms of inflating, and the buffer (external memory) pulls the main thread's garbage collector into
 * full collections while the SEG is built. Inflated 4 MiB at a time into one reused buffer, each block scanned
 * (encode.ts RunCollector) before the next, the same work is ~9 ms of inflating plus the scan.
 *
 * Anything else (another datatype, scaling, 4D, big endian, a damaged file, a noise-like mask with too many runs)
 * gives `undefined`: the caller reads the mask whole (mask-file.ts), which also reports damage with its reasons.
 */
import { closeSync, readFileSync } from 'node:fs';
import { constants, createGunzip, type Gunzip } from 'node:zlib';
import type { Mat4 } from '../core/geometry/affine.ts';
import { DataType, niftiAffine, niftiShape, parseNiftiHeader } from '../core/nifti/index.ts';
import { type LabelmapScan, RunCollector } from '../core/seg/encode.ts';
import { openForReading, readUpTo } from './file-read.ts';

export interface ScannedMask {
  dims: [number, number, number];
  /** RAS, as stored. */
  affineRAS: Mat4;
  /** Labels, their slices and their runs (always with runs). */
  scan: LabelmapScan;
}

const BLOCK_BYTES = 4 * 1024 * 1024;
/** Rows compared with zeros at a time (at least one row). */
const ZERO_GROUP_BYTES = 4096;
const NIFTI1_HEADER = 348;
const NIFTI2_HEADER = 540;

/** The mask's labels and runs read block by block, or undefined when it needs the whole-file reader. */
export function scanMaskFile(path: string): ScannedMask | undefined {
  let source: ByteSource | undefined;
  try {
    source = openSource(path);
    return source && scanSource(source);
  } catch {
    return undefined; // the whole-file reader reports what is wrong, with the same words as always
  } finally {
    source?.close();
  }
}

function scanSource(source: ByteSource): ScannedMask | undefined {
  // The header's first 348 bytes say which version it is; a NIfTI-2 header has 192 more.
  const head = new Uint8Array(NIFTI2_HEADER);
  if (source.fill(head.subarray(0, NIFTI1_HEADER)) < NIFTI1_HEADER) return undefined;
  const size = new DataView(head.buffer).getInt32(0, true);
  if (size !== NIFTI1_HEADER && size !== NIFTI2_HEADER) return undefined; // big endian (or not NIfTI)
  if (size === NIFTI2_HEADER && source.fill(head.subarray(NIFTI1_HEADER)) < NIFTI2_HEADER - NIFTI1_HEADER)
    return undefined;
  const { header, singleFile } = parseNiftiHeader(head.subarray(0, size));
  const shape = niftiShape(header);
  const [nx = 1, ny = 1, nz = 1, ...rest] = shape;
  const bytesPerVoxel =
    header.datatype === DataType.UINT8
      ? 1
      : header.datatype === DataType.UINT16 || header.datatype === DataType.INT16
        ? 2
        : 0;
  const unscaled =
    (header.sclSlope === 0 || header.sclSlope === 1 || !Number.isFinite(header.sclSlope)) &&
    (header.sclInter === 0 || !Number.isFinite(header.sclInter));
  if (!singleFile || bytesPerVoxel === 0 || !unscaled || rest.some((n) => n !== 1) || nx > 0xffff) return undefined;
  // Up to vox_offset: the extension flag and any extensions.
  let skip = Math.max(Math.trunc(header.voxOffset), size + 4) - size;
  const scratch = new Uint8Array(Math.min(skip, 1 << 16));
  while (skip > 0) {
    const want = Math.min(skip, scratch.length);
    if (source.fill(scratch.subarray(0, want)) < want) return undefined;
    skip -= want;
  }
  const rowBytes = nx * bytesPerVoxel;
  const rowsPerBlock = Math.max(1, Math.floor(BLOCK_BYTES / rowBytes));
  const block = new Uint8Array(rowsPerBlock * rowBytes);
  const totalRows = ny * nz;
  const collector = new RunCollector(nx, totalRows * rowBytes);
  // Rows are looked at a few KiB at a time: all-zero groups (most of a mask) are skipped by a native comparison
  // (memcmp), the others are scanned for runs, consecutive ones together.
  const groupRows = Math.max(1, Math.floor(ZERO_GROUP_BYTES / rowBytes));
  const zeros = Buffer.alloc(groupRows * rowBytes);
  const blockBuffer = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  const scanRows = (from: number, to: number, firstRow: number): boolean =>
    collector.add(
      bytesPerVoxel === 1
        ? block.subarray(from * rowBytes, to * rowBytes)
        : new Uint16Array(block.buffer, block.byteOffset + from * rowBytes, (to - from) * nx),
      firstRow + from,
    );
  for (let row = 0; row < totalRows; row += rowsPerBlock) {
    const rows = Math.min(rowsPerBlock, totalRows - row);
    const bytes = block.subarray(0, rows * rowBytes);
    if (source.fill(bytes) < bytes.length) return undefined; // cut short
    let pending = -1; // first row of the non-zero groups not scanned yet
    for (let r = 0; r < rows; r += groupRows) {
      const end = Math.min(rows, r + groupRows);
      if (blockBuffer.compare(zeros, 0, (end - r) * rowBytes, r * rowBytes, end * rowBytes) !== 0) {
        if (pending < 0) pending = r;
      } else if (pending >= 0) {
        if (!scanRows(pending, r, row)) return undefined; // too many runs to keep
        pending = -1;
      }
    }
    if (pending >= 0 && !scanRows(pending, rows, row)) return undefined;
  }
  const scan = collector.scan(ny, nz);
  // int16 values read as uint16: a negative label shows as 0x8000 or more (the whole-file reader says which voxel).
  if (header.datatype === DataType.INT16 && scan.labelValues.some((value) => value >= 0x8000)) return undefined;
  return { dims: [nx, ny, nz], affineRAS: niftiAffine(header), scan };
}

/** The file's uncompressed bytes in order, into the caller's buffers. */
interface ByteSource {
  /** Fill `target`; fewer bytes only at the end of the data. */
  fill(target: Uint8Array): number;
  close(): void;
}

function openSource(path: string): ByteSource | undefined {
  const fd = openForReading(path);
  const magic = new Uint8Array(2);
  if (readUpTo(fd, magic, 0, path) === 2 && magic[0] === 0x1f && magic[1] === 0x8b) {
    closeSync(fd);
    const inflater = GzipBlocks.of(readFileSync(path));
    return inflater;
  }
  let position = 0;
  return {
    fill(target) {
      const got = readUpTo(fd, target, position, path);
      position += got;
      return got;
    },
    close: () => closeSync(fd),
  };
}

/**
 * A gzip stream (every member) inflated into the caller's buffers. Node's zlib API gives each output chunk a fresh
 * buffer; this drives the zlib handle of a `Gunzip` stream synchronously with the caller's buffer instead, the
 * handle call Node's own synchronous zlib functions make (`writeSync(flush, in, inOffset, inLength, out,
 * outOffset, outLength)`, the space left in `_writeState`), on Node 20 and 24 (test/io/mask-scan.test.ts checks
 * that it is there). On a Node without it, `of` gives undefined and the caller reads the file whole.
 */
class GzipBlocks implements ByteSource {
  private inputOffset = 0;
  private ended = false;

  private constructor(
    private readonly gunzip: Gunzip,
    private readonly handle: ZlibHandle,
    private readonly state: Uint32Array,
    private readonly input: Uint8Array,
  ) {}

  static of(input: Uint8Array): GzipBlocks | undefined {
    const gunzip = createGunzip();
    const internals = gunzip as unknown as { _handle?: Partial<ZlibHandle>; _writeState?: unknown };
    const handle = internals._handle;
    const state = internals._writeState;
    if (typeof handle?.writeSync !== 'function' || !(state instanceof Uint32Array) || state.length < 2) {
      gunzip.close();
      return undefined;
    }
    // zlib's errors come back as the stream's 'error' event (after `errored` is set); the caller checks `errored`.
    gunzip.on('error', () => {});
    return new GzipBlocks(gunzip, handle as ZlibHandle, state, input);
  }

  /** Whether this Node's zlib stream has the handle `of` drives (for the test). */
  static available(): boolean {
    const blocks = GzipBlocks.of(new Uint8Array(0));
    blocks?.close();
    return blocks !== undefined;
  }

  fill(target: Uint8Array): number {
    let filled = 0;
    while (filled < target.length && !this.ended) {
      const inputLeft = this.input.length - this.inputOffset;
      const room = target.length - filled;
      this.handle.writeSync(constants.Z_FINISH, this.input, this.inputOffset, inputLeft, target, filled, room);
      if (this.gunzip.errored) throw this.gunzip.errored;
      const [roomAfter = 0, inputAfter = 0] = this.state;
      filled += room - roomAfter;
      this.inputOffset += inputLeft - inputAfter;
      // zlib stops with room left only at the end of the (last) member.
      if (roomAfter > 0) this.ended = true;
    }
    return filled;
  }

  close(): void {
    this.gunzip.close();
  }
}

interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inputOffset: number,
    inputLength: number,
    output: Uint8Array,
    outputOffset: number,
    outputLength: number,
  ): void;
}

export const gzipBlocksAvailable = (): boolean => GzipBlocks.available();
