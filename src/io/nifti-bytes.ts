/**
 * The uncompressed bytes of a .nii or .nii.gz file, in order, into the caller's buffers: for readers that go through
 * a large image a block at a time and never hold it (mask-worker.ts).
 */
import { closeSync, readFileSync } from 'node:fs';
import { constants, createGunzip, type Gunzip } from 'node:zlib';
import { MedvoxError } from '../core/errors.ts';
import { openForReading, readUpTo } from './file-read.ts';

export interface NiftiBytes {
  /** Fill `target` from where the last call stopped; fewer bytes only at the end of the data. */
  fill(target: Uint8Array): number;
  close(): void;
}

/**
 * The file's bytes: a gzip stream (sniffed, not from the name; every member) inflated, else the file as it is.
 * Damage throws; a Node whose zlib stream lacks the handle `GzipBlocks` drives gives undefined.
 */
export function openNiftiBytes(path: string): NiftiBytes | undefined {
  const fd = openForReading(path);
  const magic = new Uint8Array(2);
  if (readUpTo(fd, magic, 0, path) === 2 && magic[0] === 0x1f && magic[1] === 0x8b) {
    closeSync(fd);
    return GzipBlocks.of(readFileSync(path), path);
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
 * buffer (a 78 MB mask: 19 k page faults, ~40 ms, against ~25 ms of inflating and checking it); this drives the zlib
 * handle of a `Gunzip` stream synchronously with the caller's buffer instead, the handle call Node's own synchronous
 * zlib functions make (`writeSync(flush, in, inOffset, inLength, out, outOffset, outLength)`, the space left in
 * `_writeState`), on Node 20 and 24 (test/io/mask-scan.test.ts checks that it is there). zlib checks every member's
 * CRC and size as it goes.
 */
class GzipBlocks implements NiftiBytes {
  private inputOffset = 0;
  private ended = false;

  private constructor(
    private readonly gunzip: Gunzip,
    private readonly handle: ZlibHandle,
    private readonly state: Uint32Array,
    private readonly input: Uint8Array,
    private readonly path: string,
  ) {}

  static of(input: Uint8Array, path: string): GzipBlocks | undefined {
    const gunzip = createGunzip();
    const internals = gunzip as unknown as { _handle?: Partial<ZlibHandle>; _writeState?: unknown };
    const handle = internals._handle;
    const state = internals._writeState;
    if (typeof handle?.writeSync !== 'function' || !(state instanceof Uint32Array) || state.length < 2) {
      gunzip.close();
      return undefined;
    }
    // zlib's errors come back as the stream's 'error' event (after `errored` is set); `fill` checks `errored`.
    gunzip.on('error', () => {});
    return new GzipBlocks(gunzip, handle as ZlibHandle, state, input, path);
  }

  fill(target: Uint8Array): number {
    let filled = 0;
    while (filled < target.length && !this.ended) {
      const inputLeft = this.input.length - this.inputOffset;
      const room = target.length - filled;
      this.handle.writeSync(constants.Z_FINISH, this.input, this.inputOffset, inputLeft, target, filled, room);
      const error = this.gunzip.errored;
      if (error) {
        const truncated = (error as { code?: string }).code === 'Z_BUF_ERROR';
        throw new MedvoxError(
          truncated ? 'NIFTI_TRUNCATED' : 'NIFTI_BAD_COMPRESSION',
          `the gzip stream ${truncated ? 'ends early' : 'is damaged'} (${error.message})`,
          { file: this.path, cause: error },
        );
      }
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

/** Whether this Node's zlib stream has the handle `GzipBlocks` drives (for the test). */
export function gzipBlocksAvailable(): boolean {
  const blocks = GzipBlocks.of(new Uint8Array(0), '');
  blocks?.close();
  return blocks !== undefined;
}
