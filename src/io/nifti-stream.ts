/**
 * A volume streamed into a .nii or .nii.gz file while its series is read (see VolumeSink): the series is never in
 * memory whole. Chunks of a few MiB of slices go to a temporary sibling at their final offset (.nii) or are gzipped
 * as independent gzip members on the libuv thread pool, several at once (.nii.gz; readers continue across
 * concatenated members, RFC 1952 2.2). The header is written last, when the voxel type is final (unsigned 16-bit
 * data that fits is stored as int16, as dcm2niix does), then the file is renamed into place: a failure leaves
 * nothing behind.
 */
import { closeSync, openSync, renameSync, rmSync, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { constants, createGzip, type Gzip, gzipSync } from 'node:zlib';
import type { PixelArray } from '../core/codecs/index.ts';
import { MedvoxError, toMedvoxError } from '../core/errors.ts';
import { emptyHeader, encodeNiftiHeader, headerByteLength, type NiftiHeader } from '../core/nifti/index.ts';
import type { PixelArrayConstructor, VolumeSink } from '../core/volume/index.ts';
import { ensureDirectory, temporaryPath } from './atomic.ts';
import { DEFAULT_GZIP_LEVEL } from './nifti-file.ts';

const writeAsync = promisify(write);

/**
 * Uncompressed bytes per chunk: per gzip member (small enough to keep both CPUs busy, large enough to compress as
 * well), and per write to a .nii: 150 MiB written in 512 KiB writes took 68-310 ms here, in 4 MiB writes 35-44 ms
 * (four in flight either way, alternating runs).
 */
const CHUNK_BYTES = 4 * 1024 * 1024;
/** Members compressing (or .nii chunks being written) at once (the libuv pool has 4 threads by default). */
const IN_FLIGHT = 4;
const GZIP_OUTPUT_CHUNK = 256 * 1024;

export interface NiftiStreamOptions {
  gzip: boolean;
  level?: number;
}

export interface NiftiStream {
  sink: VolumeSink;
  /**
   * Write the header (from the array type the voxels are stored in, int16 for unsigned 16-bit data that fits)
   * and move the file into place.
   */
  finish(header: (sample: PixelArray) => NiftiHeader): Promise<void>;
  /** Drop the temporary file (after a failure). */
  abort(): void;
  /**
   * .nii.gz only: take the volume's `sliceCount` slices as gzip members made elsewhere (`SliceCopier`: a few
   * consecutive slices each, in slice order) instead of through the sink; `uint16Max` is the largest voxel when
   * `type` is Uint16Array.
   */
  adopt(
    type: PixelArrayConstructor,
    sliceElements: number,
    sliceCount: number,
    members: readonly Uint8Array[],
    uint16Max: number,
  ): void;
  /**
   * .nii only: the volume's `sliceCount` slices written by `fill` into the open file (from `voxOffset`, in slice
   * order) instead of through the sink; `fill` resolves to the largest voxel when `type` is Uint16Array.
   */
  place(
    type: PixelArrayConstructor,
    sliceElements: number,
    sliceCount: number,
    fill: (fd: number, voxOffset: number) => Promise<number>,
  ): Promise<void>;
}

/**
 * One gzip member of `bytes`, compressed on the libuv pool; output in 256 KiB pieces, not zlib's 16 KiB: fewer trips
 * between the pool thread and this one (~15% faster on CT-like data compressing 16:1). Compressors are reused
 * (`MemberCompressor`).
 */
export function gzipMember(bytes: Uint8Array, level: number): Promise<Buffer> {
  let idle = idleCompressors.get(level);
  if (!idle) {
    idle = [];
    idleCompressors.set(level, idle);
  }
  const compressor = idle.pop() ?? new MemberCompressor(level);
  const done = compressor.compress(bytes);
  done.then(
    () => {
      if (idle.length < MAX_IDLE_COMPRESSORS) idle.push(compressor);
    },
    () => {},
  );
  return done;
}

/** Compressors kept per level between members (each holds zlib's state, ~0.5 MiB). */
const MAX_IDLE_COMPRESSORS = 8;
const idleCompressors = new Map<number, MemberCompressor[]>();

/**
 * A gzip stream that makes one complete member per call, then is reset for the next (zlib's deflateReset, which
 * starts a new gzip header): `zlib.gzip` set up a new stream for each member (objects, a 256 KiB output buffer and
 * zlib's ~0.5 MiB of state), ~0.2 ms of this thread each; 75 members of 2 MiB took 4 ms instead of 17-23 ms. The
 * output is the same bytes.
 */
class MemberCompressor {
  // reset() is zlib's (every zlib stream has it; Node's types declare it only for Deflate and Inflate).
  private readonly stream: Gzip & { reset(): void };
  private chunks: Buffer[] = [];
  private failure: Error | undefined;

  constructor(level: number) {
    this.stream = createGzip({ level, chunkSize: GZIP_OUTPUT_CHUNK }) as Gzip & { reset(): void };
    this.stream.on('data', (chunk: Buffer) => this.chunks.push(chunk));
    this.stream.on('error', (error: Error) => {
      this.failure = error;
    });
  }

  compress(bytes: Uint8Array): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.failure) {
        reject(this.failure);
        return;
      }
      this.stream.write(bytes);
      // Z_FINISH ends the member; its output has been pushed ('data') before this callback.
      this.stream.flush(constants.Z_FINISH, () => {
        if (this.failure) {
          reject(this.failure);
          return;
        }
        for (let chunk = this.stream.read(); chunk !== null; chunk = this.stream.read()) this.chunks.push(chunk);
        const member = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
        this.chunks = [];
        this.stream.reset();
        resolve(member);
      });
    });
  }
}

export const asBytes = (array: PixelArray): Uint8Array =>
  new Uint8Array(array.buffer, array.byteOffset, array.byteLength);

export async function openNiftiStream(path: string, options: NiftiStreamOptions): Promise<NiftiStream> {
  await ensureDirectory(dirname(path));
  const temporary = temporaryPath(path);
  const level = options.level ?? DEFAULT_GZIP_LEVEL;
  let fd: number;
  try {
    fd = openSync(temporary, 'wx');
  } catch (error) {
    throw new MedvoxError('IO_ERROR', `cannot write: ${(error as Error).message}`, { file: path, cause: error });
  }
  let closed = false;
  const close = (): void => {
    if (!closed) closeSync(fd);
    closed = true;
  };
  const fail = (error: unknown): never => {
    if (error instanceof MedvoxError) throw error.file ? error : error.withFile(path);
    throw new MedvoxError('IO_ERROR', `cannot write: ${(error as Error).message}`, { file: path, cause: error });
  };

  let type: PixelArrayConstructor | undefined;
  let sliceElements = 0;
  let sliceCount = 0;
  let written = 0;
  let uint16Max = 0;
  // Room for the header: every volume header has the same size (no extensions), whatever the voxel type.
  const voxOffset = headerByteLength(emptyHeader(1));
  // .nii: a chunk of slices at a time, written at its offset on the thread pool while the next slices are read.
  // .nii.gz: a chunk of slices per gzip member. Either way a few buffers are in flight.
  let chunk: PixelArray | undefined;
  let chunkSlices = 1;
  let chunkFirst = 0;
  const members: Array<Promise<Uint8Array>> = [];
  const writes: Array<Promise<unknown>> = [];
  const spare: PixelArray[] = [];
  const nextChunk = (): PixelArray => spare.pop() ?? new type!(sliceElements * chunkSlices);

  const track = (slice: PixelArray): void => {
    if (!(slice instanceof Uint16Array)) return;
    for (let i = 0; i < slice.length; i++) if (slice[i]! > uint16Max) uint16Max = slice[i]!;
  };

  const sink: VolumeSink = {
    begin(chosen, elements, count) {
      type = chosen;
      sliceElements = elements;
      sliceCount = count;
      const sliceBytes = elements * new chosen(0).BYTES_PER_ELEMENT;
      chunkSlices = Math.max(1, Math.min(count, Math.floor(CHUNK_BYTES / sliceBytes)));
      chunk = new chosen(elements * chunkSlices);
    },
    slice(index) {
      const at = index - chunkFirst;
      if (!chunk || at < 0 || at >= chunkSlices) {
        throw new MedvoxError('INTERNAL', `slice ${index} asked out of order`, { file: path });
      }
      return chunk.subarray(at * sliceElements, (at + 1) * sliceElements);
    },
    async commit(index) {
      const at = index - chunkFirst;
      const full = at === chunkSlices - 1 || index === sliceCount - 1;
      if (!full) return;
      const used = chunk!.subarray(0, (at + 1) * sliceElements);
      track(used);
      written = index + 1;
      if (!options.gzip) {
        const buffer = chunk!;
        const position = voxOffset + chunkFirst * sliceElements * used.BYTES_PER_ELEMENT;
        const done = writeAllAsync(fd, asBytes(used), position).then(() => spare.push(buffer));
        done.catch(() => {}); // awaited below or in finish; never an unhandled rejection
        writes.push(done);
        chunk = nextChunk();
        if (writes.length >= IN_FLIGHT) await writes[writes.length - IN_FLIGHT]!.catch(fail);
      } else {
        const buffer = chunk!;
        const member = gzipMember(asBytes(used), level);
        // The chunk is free again once compressed: reused, so the series is not paged into fresh memory.
        member.then(() => spare.push(buffer)).catch(() => {}); // awaited in order below or in finish
        members.push(member);
        chunk = nextChunk();
        if (members.length >= IN_FLIGHT) await members[members.length - IN_FLIGHT];
      }
      chunkFirst = index + 1;
    },
  };

  const abort = (): void => {
    try {
      close();
    } finally {
      rmSync(temporary, { force: true });
    }
  };
  return {
    sink,
    abort,
    async place(chosen, elements, count, fill) {
      if (options.gzip || type)
        throw new MedvoxError('INTERNAL', 'place() is for an unused .nii stream', { file: path });
      type = chosen;
      sliceElements = elements;
      sliceCount = count;
      uint16Max = await fill(fd, voxOffset).catch(fail);
      written = count;
    },
    adopt(chosen, elements, count, compressed, max) {
      if (!options.gzip || type)
        throw new MedvoxError('INTERNAL', 'adopt() is for an unused .nii.gz stream', { file: path });
      type = chosen;
      sliceElements = elements;
      sliceCount = count;
      written = count;
      uint16Max = max;
      for (const member of compressed) members.push(Promise.resolve(member));
    },
    async finish(header) {
      try {
        if (!type || written !== sliceCount) {
          throw new MedvoxError('INTERNAL', `${written} of ${sliceCount} slices were written`, { file: path });
        }
        await Promise.all(writes);
        const sample = type === Uint16Array && uint16Max <= 32767 ? new Int16Array(0) : new type(0);
        const headerBytes = encodeNiftiHeader(header(sample));
        if (headerBytes.length !== voxOffset) {
          throw new MedvoxError('INTERNAL', `header of ${headerBytes.length} bytes, ${voxOffset} reserved`, {
            file: path,
          });
        }
        if (options.gzip) {
          const compressed = await Promise.all(members);
          let position = 0;
          for (const member of [gzipSync(headerBytes, { level }), ...compressed]) {
            writeFully(fd, member, position);
            position += member.length;
          }
        } else {
          writeFully(fd, headerBytes, 0);
        }
        close();
        renameSync(temporary, path);
      } catch (error) {
        abort();
        fail(toMedvoxError(error, path));
      }
    },
  };
}

async function writeAllAsync(fd: number, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    done += (await writeAsync(fd, bytes, done, bytes.length - done, position + done)).bytesWritten;
  }
}

function writeFully(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}
