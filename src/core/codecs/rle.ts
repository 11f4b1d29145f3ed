/** RLE Lossless decoding (PS3.5 Annex G): one PackBits segment per byte plane, most significant byte first. */
import { MedvoxError } from '../errors.ts';

/**
 * Decode one RLE frame to little-endian interleaved bytes (samples interleaved per pixel, as native data with
 * PlanarConfiguration 0).
 */
export function decodeRle(
  frame: Uint8Array,
  rows: number,
  columns: number,
  samples: number,
  bitsAllocated: number,
): Uint8Array {
  const bytesPerSample = bitsAllocated / 8;
  const pixels = rows * columns;
  if (frame.length < 64) throw new MedvoxError('DECODE_FAILED', 'RLE frame shorter than its 64-byte header');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segmentCount = view.getUint32(0, true);
  const expected = samples * bytesPerSample;
  if (segmentCount !== expected) {
    throw new MedvoxError('DECODE_FAILED', `RLE header lists ${segmentCount} segments, the image needs ${expected}`);
  }
  const out = new Uint8Array(pixels * expected);
  for (let segment = 0; segment < segmentCount; segment++) {
    const start = view.getUint32(4 + segment * 4, true);
    const end = segment + 1 < segmentCount ? view.getUint32(8 + segment * 4, true) : frame.length;
    if (start < 64 || start > frame.length || end < start) {
      throw new MedvoxError('DECODE_FAILED', `RLE segment ${segment} has an invalid offset`);
    }
    const sample = Math.floor(segment / bytesPerSample);
    // Segment order is MSB first; little-endian output puts the MSB at the highest byte.
    const byteInSample = bytesPerSample - 1 - (segment % bytesPerSample);
    unpackBits(
      frame,
      start,
      Math.min(end, frame.length),
      out,
      sample * bytesPerSample + byteInSample,
      expected,
      pixels,
    );
  }
  return out;
}

function unpackBits(
  input: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  first: number,
  stride: number,
  count: number,
): void {
  let written = 0;
  let position = start;
  let target = first;
  while (written < count && position < end) {
    const header = input[position++]!;
    if (header < 128) {
      const run = Math.min(header + 1, count - written, end - position);
      for (let i = 0; i < run; i++) {
        out[target] = input[position++]!;
        target += stride;
      }
      written += run;
    } else if (header > 128) {
      const run = Math.min(257 - header, count - written);
      const value = input[position++]!;
      for (let i = 0; i < run; i++) {
        out[target] = value;
        target += stride;
      }
      written += run;
    }
  }
  if (written < count) throw new MedvoxError('DECODE_FAILED', `RLE segment ended after ${written} of ${count} bytes`);
}
