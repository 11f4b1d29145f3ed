/**
 * BINARY Pixel Data from a labelmap's runs equals the Pixel Data packed from the labelmap itself, for 8-bit masks
 * whose rows are whole 32-bit words (background skipped a word at a time) and for odd frame sizes (frames starting
 * mid-byte), whole or produced in arbitrary byte ranges; a noise-like mask drops its runs and still packs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BinaryFrame, binaryPixelData, packBinaryFrames, scanLabelmap } from '../../../src/core/seg/encode.ts';

/** A small deterministic pseudo-random generator (tests must not depend on Math.random). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Blobs of labels 1..5 (and 200) over some slices, runs touching the row ends and word boundaries. */
function blobs(columns: number, rows: number, slices: number, seed: number): Uint8Array {
  const next = random(seed);
  const data = new Uint8Array(columns * rows * slices);
  for (let blob = 0; blob < 12; blob++) {
    const label = blob === 11 ? 200 : 1 + (blob % 5);
    const [cx, cy, cz] = [next() * columns, next() * rows, next() * slices];
    const [rx, ry, rz] = [1 + next() * columns * 0.4, 1 + next() * rows * 0.4, 1 + next() * slices * 0.4];
    for (let k = 0; k < slices; k++)
      for (let j = 0; j < rows; j++)
        for (let i = 0; i < columns; i++)
          if (((i - cx) / rx) ** 2 + ((j - cy) / ry) ** 2 + ((k - cz) / rz) ** 2 <= 1)
            data[(k * rows + j) * columns + i] = label;
  }
  // Runs reaching the first and last column.
  data.fill(3, 0, columns);
  data[columns * rows - 1] = 4;
  return data;
}

/** Frames segment by segment, slices in order (as the SEG writer orders them), optionally with empty frames. */
function framesOf(scan: ReturnType<typeof scanLabelmap>, slices: number, keepEmpty: boolean): BinaryFrame[] {
  const frames: BinaryFrame[] = [];
  for (const label of scan.labelValues)
    for (let k = 0; k < slices; k++) if (keepEmpty || scan.slices.get(label)![k]) frames.push({ label, k });
  return frames;
}

function reference(data: Uint8Array, dims: number[], frames: BinaryFrame[]): Uint8Array {
  const index = new Map(frames.map(({ label, k }, f) => [`${label}/${k}`, f]));
  return packBinaryFrames(data, dims, frames.length, (label, k) => index.get(`${label}/${k}`)!);
}

for (const [columns, rows, slices] of [
  [64, 48, 9],
  [23, 19, 7],
  [36, 5, 4],
] as const) {
  test(`${columns}x${rows}x${slices}: Pixel Data from the runs equals the labelmap packed directly, whole and in pieces`, () => {
    const dims = [columns, rows, slices];
    for (const seed of [1, 2, 3]) {
      const data = blobs(columns, rows, slices, seed);
      const scan = scanLabelmap(data, dims);
      assert.ok(scan.runs, 'runs kept');
      assert.deepEqual(
        scan.labelValues,
        [...new Set(data)].filter((v) => v !== 0).sort((a, b) => a - b),
      );
      for (const keepEmpty of [false, true]) {
        const frames = framesOf(scan, slices, keepEmpty);
        const expected = reference(data, dims, frames);
        const value = binaryPixelData(scan, dims, frames);
        assert.equal(value.length, expected.length);
        assert.deepEqual(value.read(), expected);
        // Every byte outside the ranges said to hold bits is zero; the ranges ascend; a frame with bits has one.
        const whole = value.read();
        const inside = new Uint8Array(whole.length);
        let last = 0;
        let ranges = 0;
        for (const [start, end] of value.nonZeroRanges!()) {
          assert.ok(start >= Math.max(0, last - 1) && end > start && end <= whole.length, `range ${start}-${end}`);
          inside.fill(1, start, end);
          last = end;
          ranges++;
        }
        assert.ok(
          whole.every((byte, i) => byte === 0 || inside[i] === 1),
          'a set bit outside the ranges',
        );
        assert.equal(ranges, new Set(frames.filter(({ label, k }) => scan.slices.get(label)![k])).size);
        // Uneven pieces, starting anywhere: a writer produces the value a chunk at a time.
        const pieces = [1, 7, 13, 5, 64, 3].map((n) => new Uint8Array(n));
        for (let offset = 0; offset < value.length; ) {
          let end = offset;
          const targets = pieces.map((piece) => {
            const target = piece.subarray(0, Math.max(0, Math.min(piece.length, value.length - end)));
            end += target.length;
            return target;
          });
          value.readInto(offset, targets);
          for (const target of targets) {
            assert.deepEqual(target, expected.subarray(offset, offset + target.length), `offset ${offset}`);
            offset += target.length;
          }
        }
      }
    }
  });
}

test('a 16-bit labelmap gives the same runs and Pixel Data as packing it directly', () => {
  const dims = [32, 16, 6];
  const data = Uint16Array.from(blobs(32, 16, 6, 9), (v) => (v === 200 ? 4000 : v));
  const scan = scanLabelmap(data, dims);
  assert.ok(scan.runs);
  assert.ok(scan.labelValues.includes(4000));
  const frames = framesOf(scan, 6, false);
  const index = new Map(frames.map(({ label, k }, f) => [`${label}/${k}`, f]));
  const expected = packBinaryFrames(data, dims, frames.length, (label, k) => index.get(`${label}/${k}`)!);
  assert.deepEqual(binaryPixelData(scan, dims, frames).read(), expected);
});

test('a noise-like mask has too many runs to keep: the scan still finds its labels and slices', () => {
  const dims = [256, 256, 4];
  const next = random(5);
  const data = Uint8Array.from({ length: 256 * 256 * 4 }, () => (next() < 0.5 ? 0 : 1 + Math.floor(next() * 3)));
  data.fill(0, 256 * 256 * 2, 256 * 256 * 3); // slice 2 empty
  const scan = scanLabelmap(data, dims);
  assert.equal(scan.runs, undefined);
  assert.deepEqual(scan.labelValues, [1, 2, 3]);
  for (const label of [1, 2, 3]) assert.deepEqual(Array.from(scan.slices.get(label)!), [1, 1, 0, 1]);
  assert.throws(() => binaryPixelData(scan, dims, framesOf(scan, 4, false)));
});
