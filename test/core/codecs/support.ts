/** Decode helpers for codec tests: medvox's frames, and an independent decode by GDCM (`gdcmconv --raw`). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DecodedFrame, decodeAllFrames } from '../../../src/core/codecs/index.ts';
import type { DicomFile } from '../../../src/core/dicom/model.ts';
import { readDicom } from '../../../src/core/dicom/reader.ts';

export function read(path: string): DicomFile {
  return readDicom(new Uint8Array(readFileSync(path)), { source: path });
}

export async function framesOf(path: string): Promise<DecodedFrame[]> {
  return decodeAllFrames(read(path));
}

/** GDCM's decode of the file, read back through our native (uncompressed) path. */
export async function gdcmFrames(path: string): Promise<DecodedFrame[]> {
  const dir = mkdtempSync(join(tmpdir(), 'medvox-gdcm-'));
  try {
    const out = join(dir, 'raw.dcm');
    execFileSync('gdcmconv', ['--raw', path, out], { stdio: 'pipe' });
    return await decodeAllFrames(read(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Difference {
  max: number;
  mean: number;
  count: number;
}

export function difference(a: DecodedFrame[], b: DecodedFrame[]): Difference {
  if (a.length !== b.length) throw new Error(`${a.length} frames vs ${b.length}`);
  let max = 0;
  let sum = 0;
  let count = 0;
  a.forEach((frame, index) => {
    const other = b[index]!;
    if (frame.pixels.length !== other.pixels.length)
      throw new Error(`frame ${index}: ${frame.pixels.length} vs ${other.pixels.length} samples`);
    for (let i = 0; i < frame.pixels.length; i++) {
      const d = Math.abs(Number(frame.pixels[i]) - Number(other.pixels[i]));
      if (d > max) max = d;
      sum += d;
    }
    count += frame.pixels.length;
  });
  return { max, mean: sum / Math.max(1, count), count };
}
