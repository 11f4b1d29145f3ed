/**
 * Pixel data decoding: one dispatcher over the transfer syntaxes. Grey frames come out as stored values (before
 * Modality LUT / rescale) in the typed array that fits BitsAllocated and Pixel Representation, sign-extended or
 * masked to BitsStored. Colour frames come out as interleaved RGB (Planar Configuration 0, YBR converted).
 */

import { inflateSync } from 'fflate';
import { type DataElement, type DicomFile, elementBytes, TransferSyntax } from '../dicom/model.ts';
import { MedvoxError } from '../errors.ts';
import { splitFrames } from './fragments.ts';
import { decodeJpegLosslessFast } from './jpeg-lossless.ts';
import { type ImagePixelInfo, pixelInfo } from './pixel-info.ts';
import { decodeRle } from './rle.ts';
import { decodeWasm, type WasmCodec } from './wasm.ts';

export { type ImagePixelInfo, pixelInfo } from './pixel-info.ts';

export type PixelArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

export interface DecodedFrame {
  pixels: PixelArray;
  rows: number;
  columns: number;
  samplesPerPixel: number;
  /** After decoding: MONOCHROME1 / MONOCHROME2 / PALETTE COLOR unchanged; every colour model becomes RGB. */
  photometricInterpretation: string;
}

const NATIVE_SYNTAXES = new Set<string>([
  TransferSyntax.ImplicitVRLittleEndian,
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.DeflatedExplicitVRLittleEndian,
  TransferSyntax.ExplicitVRBigEndian,
]);

const WASM_CODECS: Readonly<Record<string, WasmCodec>> = {
  [TransferSyntax.JPEGLSLossless]: 'jpegls',
  [TransferSyntax.JPEGLSNearLossless]: 'jpegls',
  [TransferSyntax.JPEG2000Lossless]: 'j2k',
  [TransferSyntax.JPEG2000]: 'j2k',
  '1.2.840.10008.1.2.4.92': 'j2k',
  '1.2.840.10008.1.2.4.93': 'j2k',
  [TransferSyntax.HTJ2KLossless]: 'htj2k',
  [TransferSyntax.HTJ2KLosslessRPCL]: 'htj2k',
  [TransferSyntax.HTJ2K]: 'htj2k',
};
const JPEG_DCT = new Set<string>([
  TransferSyntax.JPEGBaseline8Bit,
  TransferSyntax.JPEGExtended12Bit,
  TransferSyntax.JPEGSpectralSelection,
  TransferSyntax.JPEGFullProgression,
]);
const JPEG_LOSSLESS = new Set<string>([TransferSyntax.JPEGLossless, TransferSyntax.JPEGLosslessSV1]);

const frameCache = new WeakMap<DataElement, Uint8Array[]>();

function pixelElement(file: DicomFile): DataElement {
  const element = file.dataset.get(0x7fe00010) ?? file.dataset.get(0x7fe00008) ?? file.dataset.get(0x7fe00009);
  if (!element) throw new MedvoxError('NO_PIXEL_DATA', 'the file has no Pixel Data', { file: file.source });
  elementBytes(element);
  return element;
}

export async function decodeAllFrames(file: DicomFile): Promise<DecodedFrame[]> {
  pixelElement(file);
  const info = pixelInfo(file.dataset, file.source);
  const frames: DecodedFrame[] = [];
  for (let index = 0; index < info.numberOfFrames; index++) frames.push(await decodeFrame(file, index, info));
  return frames;
}

export async function decodeFrame(file: DicomFile, frameIndex: number, info?: ImagePixelInfo): Promise<DecodedFrame> {
  const element = pixelElement(file);
  info ??= pixelInfo(file.dataset, file.source);
  if (frameIndex < 0 || frameIndex >= info.numberOfFrames) {
    throw new RangeError(`frame ${frameIndex} out of range (0..${info.numberOfFrames - 1})`);
  }
  try {
    if (!element.fragments) return decodeNative(element, info, frameIndex, file.source);
    return await decodeEncapsulated(file, element, info, frameIndex);
  } catch (error) {
    if (error instanceof MedvoxError) throw error.file ? error : error.withFile(file.source ?? '');
    throw new MedvoxError('DECODE_FAILED', `frame ${frameIndex}: ${(error as Error).message}`, {
      file: file.source,
      cause: error,
    });
  }
}

function decodeNative(element: DataElement, info: ImagePixelInfo, frameIndex: number, source?: string): DecodedFrame {
  const bytes = element.bytes ?? new Uint8Array();
  const samples = info.rows * info.columns * info.samplesPerPixel;
  if (info.bitsAllocated === 1) {
    const firstBit = frameIndex * samples;
    if (Math.ceil((firstBit + samples) / 8) > bytes.length) throw lengthError(info, bytes.length, source);
    const pixels = new Uint8Array(samples);
    for (let i = 0; i < samples; i++) {
      const bit = firstBit + i;
      pixels[i] = (bytes[bit >> 3]! >> (bit & 7)) & 1;
    }
    return frame(info, pixels, info.photometricInterpretation);
  }
  // Native YBR_FULL_422 carries two luminance samples per chrominance pair: 2/3 of the full size (PS3.3 C.7.6.3.1.2).
  const subsampled = info.photometricInterpretation === 'YBR_FULL_422' && info.samplesPerPixel === 3;
  const frameBytes = ((subsampled ? (samples * 2) / 3 : samples) * info.bitsAllocated) / 8;
  const start = frameIndex * frameBytes;
  if (start + frameBytes > bytes.length) throw lengthError(info, bytes.length, source);
  let raw: Uint8Array = bytes.slice(start, start + frameBytes);
  if (info.samplesPerPixel > 1 && info.planarConfiguration === 1) raw = interleave(raw, info);
  return finish(raw, info);
}

function lengthError(info: ImagePixelInfo, have: number, source?: string): MedvoxError {
  const need = Math.ceil(
    (info.rows * info.columns * info.samplesPerPixel * info.bitsAllocated * info.numberOfFrames) / 8,
  );
  return new MedvoxError(
    'PIXEL_DATA_LENGTH',
    `Pixel Data has ${have} bytes but ${info.rows}x${info.columns}x${info.samplesPerPixel} samples of ${info.bitsAllocated} bits in ${info.numberOfFrames} frame(s) need ${need}`,
    { file: source, hint: 'the file is truncated or its Rows/Columns/Bits Allocated are wrong' },
  );
}

async function decodeEncapsulated(
  file: DicomFile,
  element: DataElement,
  info: ImagePixelInfo,
  frameIndex: number,
): Promise<DecodedFrame> {
  const syntax = file.transferSyntaxUID;
  if (NATIVE_SYNTAXES.has(syntax)) {
    throw new MedvoxError('DECODE_FAILED', `encapsulated Pixel Data in a native transfer syntax (${syntax})`);
  }
  let frames = frameCache.get(element);
  if (!frames) {
    frames = splitFrames(element.fragments!, info.numberOfFrames, file.dataset, file.source);
    frameCache.set(element, frames);
  }
  return decodeEncodedFrame({ transferSyntaxUID: syntax, encoded: frames[frameIndex]!, info });
}

/** One frame of encapsulated Pixel Data with what decoding it needs: plain data, so a worker thread can decode it. */
export interface EncodedFrame {
  transferSyntaxUID: string;
  encoded: Uint8Array;
  info: ImagePixelInfo;
}

/** The compressed bytes of frame `frameIndex` of an encapsulated image; undefined for native Pixel Data. */
export function encodedFrame(file: DicomFile, frameIndex: number): EncodedFrame | undefined {
  const element = pixelElement(file);
  if (!element.fragments || NATIVE_SYNTAXES.has(file.transferSyntaxUID)) return undefined;
  const info = pixelInfo(file.dataset, file.source);
  let frames = frameCache.get(element);
  if (!frames) {
    frames = splitFrames(element.fragments, info.numberOfFrames, file.dataset, file.source);
    frameCache.set(element, frames);
  }
  const encoded = frames[frameIndex];
  if (!encoded) throw new RangeError(`frame ${frameIndex} out of range (0..${info.numberOfFrames - 1})`);
  return { transferSyntaxUID: file.transferSyntaxUID, encoded, info };
}

/** Decode one compressed frame (see encodedFrame). */
export async function decodeEncodedFrame(frame: EncodedFrame): Promise<DecodedFrame> {
  const { transferSyntaxUID: syntax, encoded, info } = frame;
  if (info.bitsAllocated === 1) return decodeEncapsulatedBits(syntax, encoded, info);
  if (syntax === DEFLATED_IMAGE_FRAME) return finish(inflateFrame(encoded), info);
  if (syntax === TransferSyntax.RLELossless) {
    const bitsAllocated = info.bitsAllocated;
    return finish(decodeRle(encoded, info.rows, info.columns, info.samplesPerPixel, bitsAllocated), info);
  }
  if (JPEG_LOSSLESS.has(syntax)) return finish(await decodeJpegLossless(encoded, info), info, true);
  if (JPEG_DCT.has(syntax)) {
    const precision = jpegPrecision(encoded);
    if (precision !== 8) {
      throw new MedvoxError(
        'UNSUPPORTED_TRANSFER_SYNTAX',
        `${precision}-bit JPEG (${syntax}) has no exact JavaScript decoder`,
        {
          hint: 'transcode the file first, e.g. `dcmdjpeg in.dcm out.dcm` (dcmtk) or `gdcmconv --raw in.dcm out.dcm`',
        },
      );
    }
    return finish(await decodeChecked('jpeg8', encoded, info), info, true);
  }
  const codec = WASM_CODECS[syntax];
  if (codec) return finish(await decodeChecked(codec, encoded, info), info, true);
  throw new MedvoxError(
    'UNSUPPORTED_TRANSFER_SYNTAX',
    `transfer syntax ${syntax} is not supported for pixel decoding`,
    {
      hint: 'transcode to explicit VR little endian with `gdcmconv --raw` or dcmtk',
    },
  );
}

/** Deflated Image Frame Compression (PS3.5 8.2.16): each frame is a raw deflate stream of native bytes. */
const DEFLATED_IMAGE_FRAME = '1.2.840.10008.1.2.8.1';

function inflateFrame(encoded: Uint8Array): Uint8Array {
  try {
    return inflateSync(encoded);
  } catch (error) {
    throw new MedvoxError('DECODE_FAILED', 'deflated frame cannot be inflated', { cause: error });
  }
}

/** 1-bit frames (e.g. BINARY SEG): RLE / deflate hold the packed bits, JPEG 2000 one sample per byte. */
async function decodeEncapsulatedBits(
  syntax: string,
  encoded: Uint8Array,
  info: ImagePixelInfo,
): Promise<DecodedFrame> {
  const pixels = info.rows * info.columns * info.samplesPerPixel;
  const packedBytes = Math.ceil(pixels / 8);
  let packed: Uint8Array;
  if (syntax === TransferSyntax.RLELossless) packed = decodeRle(encoded, 1, packedBytes, 1, 8);
  else if (syntax === DEFLATED_IMAGE_FRAME) packed = inflateFrame(encoded);
  else {
    const codec = WASM_CODECS[syntax];
    if (!codec) throw new MedvoxError('UNSUPPORTED_TRANSFER_SYNTAX', `1-bit Pixel Data in ${syntax} is not supported`);
    const unpacked = await decodeChecked(codec, encoded, { ...info, bitsAllocated: 8 });
    return frame(
      info,
      unpacked.map((value) => (value ? 1 : 0)),
      info.photometricInterpretation,
    );
  }
  if (packed.length < packedBytes)
    throw new MedvoxError('DECODE_FAILED', `1-bit frame has ${packed.length} bytes, needs ${packedBytes}`);
  const out = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) out[i] = (packed[i >> 3]! >> (i & 7)) & 1;
  return frame(info, out, info.photometricInterpretation);
}

async function decodeChecked(codec: WasmCodec, encoded: Uint8Array, info: ImagePixelInfo): Promise<Uint8Array> {
  const { bytes, info: decoded, planar } = await decodeWasm(codec, encoded);
  const expected = (info.rows * info.columns * info.samplesPerPixel * Math.max(8, info.bitsAllocated)) / 8;
  if (
    decoded.width !== info.columns ||
    decoded.height !== info.rows ||
    decoded.componentCount !== info.samplesPerPixel
  ) {
    throw new MedvoxError(
      'DECODE_FAILED',
      `${codec} stream is ${decoded.width}x${decoded.height}x${decoded.componentCount}, the header says ${info.columns}x${info.rows}x${info.samplesPerPixel}`,
    );
  }
  if (bytes.length === expected) return planar ? interleave(bytes, info) : bytes;
  // Decoders return 8-bit samples for <= 8-bit streams and 16-bit otherwise; widen or narrow to BitsAllocated.
  const decodedBits = (bytes.length * 8) / (info.rows * info.columns * info.samplesPerPixel);
  if (decodedBits === 8 && info.bitsAllocated === 16) {
    const out = new Uint8Array(expected);
    for (let i = 0; i < bytes.length; i++) out[i * 2] = bytes[i]!;
    return out;
  }
  throw new MedvoxError('DECODE_FAILED', `${codec} returned ${bytes.length} bytes, expected ${expected}`);
}

async function decodeJpegLossless(encoded: Uint8Array, info: ImagePixelInfo): Promise<Uint8Array> {
  const fast = decodeJpegLosslessFast(encoded);
  if (fast && fast.width === info.columns && fast.height === info.rows && fast.components === info.samplesPerPixel) {
    if (info.bitsAllocated <= 8) return Uint8Array.from(fast.samples);
    return new Uint8Array(fast.samples.buffer, fast.samples.byteOffset, fast.samples.byteLength);
  }
  // Streams the fast decoder leaves alone (hierarchical, subsampled, restarts inside a line).
  const { Decoder } = await import('@cornerstonejs/jpeg-lossless-decoder-js');
  const buffer = encoded.slice().buffer;
  const bytesPerSample = info.bitsAllocated <= 8 ? 1 : 2;
  const decoded = new Decoder().decode(buffer, 0, buffer.byteLength, bytesPerSample);
  const out = new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength).slice();
  const expected = (info.rows * info.columns * info.samplesPerPixel * info.bitsAllocated) / 8;
  if (out.length < expected)
    throw new MedvoxError('DECODE_FAILED', `JPEG lossless returned ${out.length} bytes, expected ${expected}`);
  return out.subarray(0, expected);
}

/** Sample precision from the first SOF marker of a JPEG stream. */
function jpegPrecision(stream: Uint8Array): number {
  for (let i = 2; i + 4 < stream.length; ) {
    if (stream[i] !== 0xff) return 0;
    const marker = stream[i + 1]!;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc)
      return stream[i + 4]!;
    const length = (stream[i + 2]! << 8) | stream[i + 3]!;
    i += 2 + length;
  }
  return 0;
}

/** Planar (RRR..GGG..BBB..) to interleaved (RGBRGB..). */
function interleave(raw: Uint8Array, info: ImagePixelInfo): Uint8Array {
  const bytesPerSample = info.bitsAllocated / 8;
  const plane = info.rows * info.columns;
  const out = new Uint8Array(raw.length);
  for (let s = 0; s < info.samplesPerPixel; s++) {
    for (let p = 0; p < plane; p++) {
      for (let b = 0; b < bytesPerSample; b++) {
        out[(p * info.samplesPerPixel + s) * bytesPerSample + b] = raw[(s * plane + p) * bytesPerSample + b]!;
      }
    }
  }
  return out;
}

function frame(info: ImagePixelInfo, pixels: DecodedFrame['pixels'], photometricInterpretation: string): DecodedFrame {
  return {
    pixels,
    rows: info.rows,
    columns: info.columns,
    samplesPerPixel: info.samplesPerPixel,
    photometricInterpretation,
  };
}

/** Typed view of little-endian interleaved bytes, then colour conversion or sign extension / masking. */
function finish(raw: Uint8Array, info: ImagePixelInfo, codecDidColour = false): DecodedFrame {
  // Own the bytes in an ArrayBuffer of their own (no copy when `raw` already is one, e.g. from slice()).
  const buffer =
    raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength && raw.buffer instanceof ArrayBuffer
      ? raw.buffer
      : raw.slice().buffer;
  const signed = info.pixelRepresentation === 1;
  let pixels: PixelArray;
  switch (info.bitsAllocated) {
    case 8:
      pixels = signed ? new Int8Array(buffer) : new Uint8Array(buffer);
      break;
    case 16:
      pixels = signed ? new Int16Array(buffer) : new Uint16Array(buffer);
      break;
    case 32:
      pixels = info.floatPixelData
        ? new Float32Array(buffer)
        : signed
          ? new Int32Array(buffer)
          : new Uint32Array(buffer);
      break;
    case 64:
      pixels = new Float64Array(buffer);
      break;
    default:
      throw new MedvoxError('UNSUPPORTED_PIXEL_FORMAT', `Bits Allocated ${info.bitsAllocated} is not supported`);
  }
  if (info.samplesPerPixel === 3) {
    const model = info.photometricInterpretation;
    if (model.startsWith('YBR') && !codecDidColour) {
      if (model === 'YBR_FULL_422' && pixels.length === info.rows * info.columns * 2) {
        pixels = expand422(pixels as Uint8Array, info);
      }
      ybrFullToRgb(pixels as Uint8Array);
    }
    return frame(info, pixels, 'RGB');
  }
  if (!info.floatPixelData && info.bitsStored < info.bitsAllocated && info.bitsAllocated <= 32) {
    const shift = 32 - info.bitsStored;
    if (signed) for (let i = 0; i < pixels.length; i++) pixels[i] = (pixels[i]! << shift) >> shift;
    else {
      const mask = info.bitsStored >= 32 ? 0xffffffff : 2 ** info.bitsStored - 1;
      for (let i = 0; i < pixels.length; i++) pixels[i] = (pixels[i]! & mask) >>> 0;
    }
  }
  return frame(info, pixels, info.photometricInterpretation);
}

/** YBR_FULL_422 native data: Y1 Y2 Cb Cr per two pixels (PS3.3 C.7.6.3.1.2) -> Y Cb Cr per pixel. */
function expand422(pixels: Uint8Array, info: ImagePixelInfo): Uint8Array {
  const out = new Uint8Array(info.rows * info.columns * 3);
  for (let i = 0, o = 0; i + 3 < pixels.length; i += 4, o += 6) {
    out[o] = pixels[i]!;
    out[o + 3] = pixels[i + 1]!;
    out[o + 1] = out[o + 4] = pixels[i + 2]!;
    out[o + 2] = out[o + 5] = pixels[i + 3]!;
  }
  return out;
}

/** YBR_FULL -> RGB in place (PS3.3 C.7.6.3.1.2, the ITU-R BT.601 full-range equations). */
function ybrFullToRgb(pixels: Uint8Array): void {
  const clamp = (value: number): number => (value < 0 ? 0 : value > 255 ? 255 : Math.round(value));
  for (let i = 0; i + 2 < pixels.length; i += 3) {
    const y = pixels[i]!;
    const cb = pixels[i + 1]! - 128;
    const cr = pixels[i + 2]! - 128;
    pixels[i] = clamp(y + 1.402 * cr);
    pixels[i + 1] = clamp(y - 0.344136 * cb - 0.714136 * cr);
    pixels[i + 2] = clamp(y + 1.772 * cb);
  }
}
