/**
 * The uncompressed bytes of a .nii or .nii.gz file, in order, into the caller's buffers: for readers that go through
 * a large image a block at a time and never hold it (mask-scan.ts).
 */
import { closeSync, fstatSync } from 'node:fs';
import { constants, crc32, createInflateRaw, type InflateRaw } from 'node:zlib';
import { MedvoxError } from '../core/errors.ts';
import { openForReading, readFully, readUpTo } from './file-read.ts';
import { isGzip } from './nifti-file.ts';

export interface NiftiBytes {
  /** Fill `target` from where the last call stopped; fewer bytes only at the end of the data. */
  fill(target: Uint8Array): number;
  close(): void;
}

/**
 * The file's bytes: a gzip stream (sniffed, not from the name; every member) inflated, else the file as it is.
 * The file is opened once; a compressed one (small) is read whole through that descriptor. Damage throws; a Node
 * whose zlib stream lacks the handle `GzipBlocks` drives gives undefined.
 */
export function openNiftiBytes(path: string): NiftiBytes | undefined {
  const fd = openForReading(path);
  let plain = false;
  try {
    const magic = new Uint8Array(2);
    if (isGzip(magic.subarray(0, readUpTo(fd, magic, 0, path)))) {
      const input = new Uint8Array(fstatSync(fd).size);
      readFully(fd, input, 0, path);
      return GzipBlocks.of(input, path);
    }
    plain = true;
  } finally {
    if (!plain) closeSync(fd);
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
 * buffer (a 78 MB mask: 19 k page faults, ~40 ms); this drives the zlib handle of an `InflateRaw` stream
 * synchronously with the caller's buffer instead, the handle call Node's own synchronous zlib functions make
 * (`writeSync(flush, in, inOffset, inLength, out, outOffset, outLength)`, the space left in `_writeState`), on Node
 * 20 and 24 (test/io/mask-scan.test.ts checks that it is there).
 *
 * The gzip framing (RFC 1952) is read here, and each member's CRC-32 and size are checked against its trailer. The
 * CRC skips zlib's byte-by-byte pass over the all-zero 4 KiB groups that make most of a mask: it extends the CRC
 * by a run of zeros arithmetically (crc32Zeros) and runs zlib's crc32 on the rest (a 78 MB mask: ~6 ms, against
 * ~16 ms inside zlib's gunzip).
 */
class GzipBlocks implements NiftiBytes {
  private inputOffset: number;
  private ended = false;
  private crc = 0;
  private size = 0;

  private constructor(
    private readonly inflater: InflateRaw,
    private readonly handle: ZlibHandle,
    private readonly state: Uint32Array,
    private readonly input: Uint8Array,
    private readonly path: string,
  ) {
    this.inputOffset = this.memberStart(0);
  }

  static of(input: Uint8Array, path: string): GzipBlocks | undefined {
    const raw = rawInflater();
    return raw && new GzipBlocks(raw.inflater, raw.handle, raw.state, input, path);
  }

  fill(target: Uint8Array): number {
    let filled = 0;
    while (filled < target.length && !this.ended) {
      const inputLeft = this.input.length - this.inputOffset;
      const room = target.length - filled;
      this.handle.writeSync(constants.Z_FINISH, this.input, this.inputOffset, inputLeft, target, filled, room);
      const error = this.inflater.errored;
      if (error) {
        if ((error as { code?: string }).code === 'Z_BUF_ERROR') throw this.damaged('ends early', error);
        throw this.damaged(`is damaged (${error.message})`, error);
      }
      const [roomAfter = 0, inputAfter = 0] = this.state;
      const produced = room - roomAfter;
      this.crc = crc32Of(this.crc, target.subarray(filled, filled + produced));
      this.size += produced;
      filled += produced;
      this.inputOffset += inputLeft - inputAfter;
      // zlib stops with room left only at the end of the member's deflate data.
      if (roomAfter > 0) this.endMember();
    }
    return filled;
  }

  close(): void {
    this.inflater.close();
  }

  /** The member's trailer checked; then the next member, trailing zeros (padding), or the end. */
  private endMember(): void {
    const at = this.inputOffset;
    if (this.input.length - at < 8) throw this.damaged('ends early (no member trailer)');
    const trailer = new DataView(this.input.buffer, this.input.byteOffset + at, 8);
    if (trailer.getUint32(0, true) !== this.crc >>> 0) throw this.damaged('is damaged (incorrect data check)');
    if (trailer.getUint32(4, true) !== this.size % 2 ** 32) throw this.damaged('is damaged (incorrect length check)');
    const next = at + 8;
    // Like Node's gunzip: trailing zero bytes are padding; any other byte starts another member.
    if (next >= this.input.length || this.input[next] === 0) {
      this.ended = true;
      return;
    }
    this.inputOffset = this.memberStart(next);
    this.inflater.reset();
    this.crc = 0;
    this.size = 0;
  }

  /** The offset of a member's deflate data after its header (RFC 1952 2.3) at `at`. */
  private memberStart(at: number): number {
    const bytes = this.input;
    if (bytes.length - at < 10 || bytes[at] !== 0x1f || bytes[at + 1] !== 0x8b || bytes[at + 2] !== 8)
      throw this.damaged('is damaged (incorrect header check)');
    const flags = bytes[at + 3]!;
    if (flags & 0xe0) throw this.damaged('is damaged (reserved header flags set)');
    let offset = at + 10;
    if (flags & 4) offset += 2 + (bytes[offset] ?? 0) + 256 * (bytes[offset + 1] ?? 0); // FEXTRA
    for (const flag of [8, 16]) {
      // FNAME, FCOMMENT: zero-terminated
      if (!(flags & flag)) continue;
      while (offset < bytes.length && bytes[offset] !== 0) offset++;
      offset++;
    }
    if (flags & 2) offset += 2; // FHCRC
    if (offset > bytes.length) throw this.damaged('ends early (in a member header)');
    return offset;
  }

  private damaged(what: string, cause?: unknown): MedvoxError {
    const truncated = what.startsWith('ends early');
    return new MedvoxError(truncated ? 'NIFTI_TRUNCATED' : 'NIFTI_BAD_COMPRESSION', `the gzip stream ${what}`, {
      file: this.path,
      cause,
    });
  }
}

/** All-zero groups of this size are skipped by the CRC (a native comparison each). */
const ZERO_GROUP = 4096;
const ZEROS = Buffer.alloc(ZERO_GROUP);

/** The CRC-32 (gzip's) of the bytes before, `crc`, extended by `bytes`. */
export function crc32Of(crc: number, bytes: Uint8Array): number {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let value = crc;
  let zeros = 0; // a run of zero groups not yet in the CRC
  let from = -1; // the start of non-zero groups not yet in the CRC
  for (let at = 0; at < view.length; at += ZERO_GROUP) {
    const end = Math.min(view.length, at + ZERO_GROUP);
    if (view.compare(ZEROS, 0, end - at, at, end) === 0) {
      if (from >= 0) {
        value = crc32(view.subarray(from, at), value);
        from = -1;
      }
      zeros += end - at;
    } else {
      if (zeros > 0) {
        value = crc32Zeros(value, zeros);
        zeros = 0;
      }
      if (from < 0) from = at;
    }
  }
  if (from >= 0) value = crc32(view.subarray(from), value);
  if (zeros > 0) value = crc32Zeros(value, zeros);
  return value >>> 0;
}

/**
 * The CRC-32 of the bytes before, `crc`, extended by `count` zero bytes, without reading them: the CRC register
 * (the complement of the CRC) times x^(8 count) modulo the CRC polynomial, in the bit-reflected form zlib uses
 * (its crc32_combine arithmetic: multmodp, x2nmodp).
 */
export function crc32Zeros(crc: number, count: number): number {
  let power = zeroPowers.get(count);
  if (power === undefined) {
    power = X0;
    let k = 3; // x^(8 count) = x^(count * 2^3)
    for (let n = count; n > 0; n = Math.floor(n / 2), k++) if (n % 2 === 1) power = multiplyModP(X2N[k % 32]!, power);
    zeroPowers.set(count, power);
  }
  return ~multiplyModP(power, ~crc >>> 0) >>> 0;
}

const POLYNOMIAL = 0xedb88320;
/** x^0 in the reflected representation. */
const X0 = 0x80000000;
/** a * b modulo the CRC polynomial (both reflected 32-bit polynomials). */
function multiplyModP(a: number, b: number): number {
  let m = X0;
  let product = 0;
  let factor = b;
  for (;;) {
    if (a & m) {
      product ^= factor;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    factor = factor & 1 ? (factor >>> 1) ^ POLYNOMIAL : factor >>> 1;
  }
  return product >>> 0;
}
/** X2N[k] = x^(2^k) modulo the polynomial. */
const X2N = new Uint32Array(32);
X2N[0] = X0 >>> 1; // x^1
for (let k = 1; k < 32; k++) X2N[k] = multiplyModP(X2N[k - 1]!, X2N[k - 1]!);
const zeroPowers = new Map<number, number>();

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

/** An `InflateRaw` stream with the handle `GzipBlocks` drives, or undefined on a Node without it. */
function rawInflater(): { inflater: InflateRaw; handle: ZlibHandle; state: Uint32Array } | undefined {
  const inflater = createInflateRaw();
  const internals = inflater as unknown as { _handle?: Partial<ZlibHandle>; _writeState?: unknown };
  const handle = internals._handle;
  const state = internals._writeState;
  if (typeof handle?.writeSync !== 'function' || !(state instanceof Uint32Array) || state.length < 2) {
    inflater.close();
    return undefined;
  }
  // zlib's errors come back as the stream's 'error' event (after `errored` is set); `fill` checks `errored`.
  inflater.on('error', () => {});
  return { inflater, handle: handle as ZlibHandle, state };
}

/** Whether this Node's zlib stream has the handle `GzipBlocks` drives (for the test). */
export function gzipBlocksAvailable(): boolean {
  const raw = rawInflater();
  raw?.inflater.close();
  return raw !== undefined;
}
