/**
 * The JPEG lossless decoder (process 14) against dcmtk: a real CT slice encoded by dcmcjpeg with every predictor
 * (selection value 1-7) and point transforms 0 and 3, decoded by medvox and by dcmdjpeg, must give the same
 * samples; and the fallback decoder agrees with it on every JPEG-lossless frame of the corpus.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Decoder } from '@cornerstonejs/jpeg-lossless-decoder-js';
import { decodeFrame, encodedFrame } from '../../../src/core/codecs/index.ts';
import { decodeJpegLosslessFast } from '../../../src/core/codecs/jpeg-lossless.ts';
import { readDicom } from '../../../src/core/dicom/reader.ts';
import { corpus, listFiles, requirePeers } from '../../support/env.ts';

const read = (path: string) => readDicom(new Uint8Array(readFileSync(path)), { source: path });

test('every predictor and point transform decodes as dcmtk decodes it', async (t) => {
  if (!requirePeers(t, 'dcmcjpeg', 'dcmdjpeg')) return;
  const dir = mkdtempSync(join(tmpdir(), 'medvox-jpegll-'));
  try {
    const sourceDir = corpus('ct/ge_lightspeed16_inconsistent_increment_4sl/dicom');
    const source = join(sourceDir, readdirSync(sourceDir).sort()[0]!);
    for (const selection of [1, 2, 3, 4, 5, 6, 7]) {
      for (const pointTransform of [0, 3]) {
        const encoded = join(dir, `sv${selection}-pt${pointTransform}.dcm`);
        const decoded = join(dir, `sv${selection}-pt${pointTransform}-raw.dcm`);
        execFileSync('dcmcjpeg', ['+el', '+sv', String(selection), '+pt', String(pointTransform), source, encoded]);
        execFileSync('dcmdjpeg', [encoded, decoded]);
        const ours = await decodeFrame(read(encoded), 0);
        const theirs = await decodeFrame(read(decoded), 0);
        const frame = encodedFrame(read(encoded), 0)!;
        assert.ok(decodeJpegLosslessFast(frame.encoded), `sv${selection} pt${pointTransform}: fast decoder used`);
        assert.deepEqual(ours.pixels, theirs.pixels, `sv${selection} pt${pointTransform}`);
      }
    }
    // Colour: three components in one interleaved scan.
    const colour = corpus('other/us_nm_sc_pydicom_data/color-pl.dcm');
    for (const selection of [1, 6]) {
      const encoded = join(dir, `rgb-sv${selection}.dcm`);
      const decoded = join(dir, `rgb-sv${selection}-raw.dcm`);
      execFileSync('dcmcjpeg', ['+el', '+sv', String(selection), colour, encoded]);
      execFileSync('dcmdjpeg', [encoded, decoded]);
      assert.ok(
        decodeJpegLosslessFast(encodedFrame(read(encoded), 0)!.encoded),
        `rgb sv${selection}: fast decoder used`,
      );
      const ours = await decodeFrame(read(encoded), 0);
      const theirs = await decodeFrame(read(decoded), 0);
      assert.deepEqual(ours.pixels, theirs.pixels, `rgb sv${selection}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the fast decoder and the fallback decoder agree on every JPEG-lossless frame of the corpus', (t) => {
  if (!requirePeers(t)) return;
  let frames = 0;
  for (const path of listFiles(corpus()).filter((p) => !p.includes('/malformed/'))) {
    let file: ReturnType<typeof read>;
    try {
      file = read(path);
    } catch {
      continue;
    }
    if (!['1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70'].includes(file.transferSyntaxUID)) continue;
    for (let index = 0; index < (file.dataset.number('NumberOfFrames') ?? 1); index++) {
      const frame = encodedFrame(file, index)!;
      const fast = decodeJpegLosslessFast(frame.encoded);
      assert.ok(fast, `${path} frame ${index}: fast decoder refused it`);
      const bytes = frame.info.bitsAllocated <= 8 ? 1 : 2;
      const other = new Decoder().decode(frame.encoded.slice().buffer, 0, frame.encoded.byteLength, bytes);
      const expected =
        bytes === 1
          ? new Uint8Array(other.buffer, other.byteOffset, fast.samples.length)
          : new Uint16Array(other.buffer, other.byteOffset, fast.samples.length);
      assert.deepEqual(Array.from(fast.samples), Array.from(expected), `${path} frame ${index}`);
      frames++;
    }
  }
  assert.ok(frames >= 5, `only ${frames} JPEG-lossless frames in the corpus`);
  t.diagnostic(`${frames} frames identical`);
});
