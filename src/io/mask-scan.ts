/**
 * A labelmap NIfTI scanned for its labels' runs straight from its file, 2 MiB at a time, without ever holding the
 * labelmap (`seg create`'s usual case: a 3D uint8 / uint16 / int16 mask, unscaled, little endian): zlib inflates
 * into one reused block (nifti-bytes.ts), all-zero row groups are skipped by a native comparison, the other rows
 * are scanned for runs (encode.ts RunCollector).
 *
 * Why: a 512x512x300 mask is 78 MB. Inflated into one buffer, its 19 k fresh pages cost ~40 ms of page faults, and
 * the buffer (external memory) pulled the main thread's garbage collector into full collections while the SEG was
 * built. Measured and dropped (docs/segmentation.md): Node's streaming inflate on the thread pool beside the header
 * reads (each chunk a fresh buffer: the same page faults, the scan ended ~70 ms after the headers), and a worker
 * thread inflating into a shared ring scanned here between header reads, or scanning too (the worker is up only
 * ~45-60 ms after it is started while this thread loads the headers: both ended 20-60 ms later than this).
 *
 * Anything else (another datatype, scaling, 4D, big endian, a damaged file, a noise-like mask with too many runs)
 * gives `undefined`: the caller reads the mask whole (mask-file.ts), which also reports damage with its reasons.
 */
import type { Mat4 } from '../core/geometry/affine.ts';
import {
  DataType,
  type NiftiHeader,
  niftiAffine,
  niftiShape,
  parseNiftiHeader,
  scalingOf,
} from '../core/nifti/index.ts';
import { type LabelmapScan, RunCollector } from '../core/seg/encode.ts';
import { openNiftiBytes } from './nifti-bytes.ts';

export interface ScannedMask {
  dims: [number, number, number];
  /** RAS, as stored. */
  affineRAS: Mat4;
  /** Labels, their slices and their runs (always with runs). */
  scan: LabelmapScan;
}

const BLOCK_BYTES = 2 * 1024 * 1024;
/** Rows compared with zeros at a time (at least one row). */
const ZERO_GROUP_BYTES = 4096;
const NIFTI1_HEADER = 348;
const NIFTI2_HEADER = 540;

/** The mask's labels and runs, or undefined when it needs the whole-file reader. */
export function scanMaskFile(path: string): ScannedMask | undefined {
  try {
    const bytes = openNiftiBytes(path);
    if (!bytes) return undefined;
    try {
      const scanner = new MaskScanner();
      const block = new Uint8Array(BLOCK_BYTES);
      for (;;) {
        const got = bytes.fill(block);
        if (got > 0 && !scanner.push(block.subarray(0, got))) return undefined;
        if (got < block.length) return scanner.finish();
      }
    } finally {
      bytes.close();
    }
  } catch {
    return undefined; // the whole-file reader reports what is wrong, with the same words as always
  }
}

interface Layout {
  header: NiftiHeader;
  dims: [number, number, number];
  bytesPerVoxel: 1 | 2;
  rowBytes: number;
  totalRows: number;
  voxOffset: number;
  collector: RunCollector;
  zeros: Buffer;
  groupRows: number;
  /** The start of a row cut by a chunk's end. */
  carry: Uint8Array;
  carried: number;
  /** Rows scanned so far. */
  row: number;
}

/**
 * The mask's bytes pushed in order, in pieces of any size: the header is parsed, the extensions skipped, and whole
 * rows scanned for runs (a row cut by a piece's end is completed from the next one).
 */
export class MaskScanner {
  private readonly head = new Uint8Array(NIFTI2_HEADER);
  /** Bytes of the stream taken so far (up to the voxels). */
  private taken = 0;
  private layout: Layout | undefined;
  private failed = false;

  /** False once the mask turned out to need the whole-file reader. */
  push(piece: Uint8Array): boolean {
    try {
      let at = 0;
      while (at < piece.length && !this.failed)
        at = this.layout ? this.takeRows(piece, at) : this.takeHeader(piece, at);
    } catch {
      this.failed = true; // a header the whole-file reader reports
    }
    return !this.failed;
  }

  finish(): ScannedMask | undefined {
    const layout = this.layout;
    if (this.failed || !layout || this.taken < layout.voxOffset || layout.row < layout.totalRows) return undefined;
    const [, ny, nz] = layout.dims;
    const scan = layout.collector.scan(ny, nz);
    // int16 read as uint16: a negative label shows as 0x8000 or more (the whole-file reader says which voxel).
    if (layout.header.datatype === DataType.INT16 && scan.labelValues.some((value) => value >= 0x8000))
      return undefined;
    return { dims: layout.dims, affineRAS: niftiAffine(layout.header), scan };
  }

  /** The header's bytes (348 say the version; a NIfTI-2 header has 540); sets the layout when complete. */
  private takeHeader(piece: Uint8Array, at: number): number {
    const size = this.taken < NIFTI1_HEADER ? NIFTI1_HEADER : this.headerSize();
    const n = Math.min(size - this.taken, piece.length - at);
    this.head.set(piece.subarray(at, at + n), this.taken);
    this.taken += n;
    if (this.taken === NIFTI1_HEADER && this.headerSize() === NIFTI1_HEADER) this.layout = this.parse(NIFTI1_HEADER);
    else if (this.taken === NIFTI2_HEADER) this.layout = this.parse(NIFTI2_HEADER);
    return at + n;
  }

  private headerSize(): number {
    const size = new DataView(this.head.buffer).getInt32(0, true);
    if (size !== NIFTI1_HEADER && size !== NIFTI2_HEADER) this.failed = true; // big endian (or not NIfTI)
    return size === NIFTI2_HEADER ? NIFTI2_HEADER : NIFTI1_HEADER;
  }

  private parse(size: number): Layout | undefined {
    if (this.failed) return undefined;
    const { header, singleFile } = parseNiftiHeader(this.head.subarray(0, size));
    const [nx = 1, ny = 1, nz = 1, ...rest] = niftiShape(header);
    const bytesPerVoxel =
      header.datatype === DataType.UINT8
        ? 1
        : header.datatype === DataType.UINT16 || header.datatype === DataType.INT16
          ? 2
          : 0;
    const scaled = scalingOf(header) !== undefined;
    if (!singleFile || bytesPerVoxel === 0 || scaled || rest.some((n) => n !== 1) || nx > 0xffff) {
      this.failed = true;
      return undefined;
    }
    const rowBytes = nx * bytesPerVoxel;
    const groupRows = Math.max(1, Math.floor(ZERO_GROUP_BYTES / rowBytes));
    return {
      header,
      dims: [nx, ny, nz],
      bytesPerVoxel,
      rowBytes,
      totalRows: ny * nz,
      voxOffset: Math.max(Math.trunc(header.voxOffset), size + 4),
      collector: new RunCollector(nx, ny * nz * rowBytes),
      zeros: Buffer.alloc(groupRows * rowBytes),
      groupRows,
      carry: new Uint8Array(rowBytes),
      carried: 0,
      row: 0,
    };
  }

  private takeRows(piece: Uint8Array, at: number): number {
    const layout = this.layout!;
    if (this.taken < layout.voxOffset) {
      // The extension flag and any extensions.
      const skip = Math.min(layout.voxOffset - this.taken, piece.length - at);
      this.taken += skip;
      return at + skip;
    }
    const { rowBytes } = layout;
    if (layout.row === layout.totalRows) return piece.length; // past the voxels (nothing in a well-formed file)
    if (layout.carried > 0) {
      const n = Math.min(rowBytes - layout.carried, piece.length - at);
      layout.carry.set(piece.subarray(at, at + n), layout.carried);
      layout.carried += n;
      if (layout.carried === rowBytes) {
        this.scanRows(layout.carry, 1);
        layout.carried = 0;
      }
      return at + n;
    }
    const whole = Math.min(Math.floor((piece.length - at) / rowBytes), layout.totalRows - layout.row);
    if (whole === 0) {
      layout.carry.set(piece.subarray(at), 0);
      layout.carried = piece.length - at;
      return piece.length;
    }
    this.scanRows(piece.subarray(at, at + whole * rowBytes), whole);
    return at + whole * rowBytes;
  }

  /**
   * Whole rows, looked at a few KiB at a time: all-zero groups (most of a mask) are skipped by a native comparison
   * (memcmp), the others scanned for runs, consecutive ones together.
   */
  private scanRows(bytes: Uint8Array, rows: number): void {
    const layout = this.layout!;
    const { rowBytes, groupRows, zeros, collector } = layout;
    // 16-bit labels are read through a Uint16Array: rows at an odd address are copied first.
    const aligned = layout.bytesPerVoxel === 2 && bytes.byteOffset % 2 === 1 ? bytes.slice() : bytes;
    const view = Buffer.from(aligned.buffer, aligned.byteOffset, aligned.byteLength);
    const firstRow = layout.row;
    const add = (from: number, to: number): boolean =>
      collector.add(
        layout.bytesPerVoxel === 1
          ? aligned.subarray(from * rowBytes, to * rowBytes)
          : new Uint16Array(aligned.buffer, aligned.byteOffset + from * rowBytes, ((to - from) * rowBytes) / 2),
        firstRow + from,
      );
    let pending = -1; // first row of the non-zero groups not scanned yet
    for (let r = 0; r < rows && !this.failed; r += groupRows) {
      const end = Math.min(rows, r + groupRows);
      if (view.compare(zeros, 0, (end - r) * rowBytes, r * rowBytes, end * rowBytes) !== 0) {
        if (pending < 0) pending = r;
      } else if (pending >= 0) {
        if (!add(pending, r)) this.failed = true; // too many runs to keep
        pending = -1;
      }
    }
    if (pending >= 0 && !this.failed && !add(pending, rows)) this.failed = true;
    layout.row += rows;
  }
}
