/**
 * Frames of encapsulated Pixel Data (PS3.5 A.4): by Extended Offset Table, Basic Offset Table, one fragment per
 * frame, or by the start-of-codestream markers of each fragment when nothing else tells.
 */

import type { Dataset } from '../dicom/model.ts';
import { MedvoxError } from '../errors.ts';

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** JPEG SOI (FFD8), JPEG 2000 codestream SOC+SIZ (FF4F FF51) or JP2 signature box. */
function startsCodestream(fragment: Uint8Array): boolean {
  const [a, b, c, d] = [fragment[0], fragment[1], fragment[2], fragment[3]];
  if (a === 0xff && b === 0xd8) return true;
  if (a === 0xff && b === 0x4f && c === 0xff && d === 0x51) return true;
  return a === 0 && b === 0 && c === 0 && d === 0x0c && fragment[4] === 0x6a && fragment[5] === 0x50;
}

/** The compressed bytes of every frame. `fragments` = [Basic Offset Table, fragment, ...]. */
export function splitFrames(
  fragments: Uint8Array[],
  frameCount: number,
  dataset: Dataset,
  source?: string,
): Uint8Array[] {
  const data = fragments.slice(1);
  const fail = (message: string): never => {
    throw new MedvoxError('DECODE_FAILED', message, { file: source });
  };
  if (data.length === 0) fail('encapsulated Pixel Data holds no fragments');
  if (frameCount === 1) return [concat(data)];

  // Item positions relative to the first fragment's item tag (the frame of reference of both offset tables).
  const positions: number[] = [];
  let position = 0;
  for (const fragment of data) {
    positions.push(position);
    position += 8 + fragment.length;
  }
  const byOffsets = (offsets: number[]): Uint8Array[] =>
    offsets.map((start, frame) => {
      const end = offsets[frame + 1] ?? Number.POSITIVE_INFINITY;
      const parts = data.filter((_, index) => positions[index]! >= start && positions[index]! < end);
      if (parts.length === 0) fail(`offset table points frame ${frame} at no fragment`);
      return concat(parts);
    });

  const extended = dataset.get(0x7fe00001)?.bytes;
  if (extended && extended.length >= frameCount * 8) {
    const view = new DataView(extended.buffer, extended.byteOffset, extended.byteLength);
    return byOffsets(Array.from({ length: frameCount }, (_, i) => Number(view.getBigUint64(i * 8, true))));
  }
  const bot = fragments[0]!;
  if (bot.length >= frameCount * 4) {
    const view = new DataView(bot.buffer, bot.byteOffset, bot.byteLength);
    return byOffsets(Array.from({ length: frameCount }, (_, i) => view.getUint32(i * 4, true)));
  }
  if (data.length === frameCount) return data;
  const frames: Uint8Array[][] = [];
  for (const fragment of data) {
    if (frames.length === 0 || (startsCodestream(fragment) && frames.length < frameCount)) frames.push([fragment]);
    else frames[frames.length - 1]!.push(fragment);
  }
  if (frames.length !== frameCount) {
    fail(`found ${frames.length} compressed frames but Number of Frames is ${frameCount}`);
  }
  return frames.map(concat);
}
