/** Mask -> contours -> mask is exact: marching-squares loops rasterised back with the even-odd rule. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { traceLoops } from '../../../src/core/rtstruct/contours.ts';
import { fillSlice } from '../../../src/core/rtstruct/rasterize.ts';

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Round trip of a slice given row by row (DICOM rows); returns the rasterised slice in the same order. */
function roundTrip(pixels: Uint8Array, columns: number, rows: number): { back: Uint8Array; loops: number } {
  const loops = traceLoops((c, r) => pixels[r * columns + c] !== 0, {
    minC: 0,
    maxC: columns - 1,
    minR: 0,
    maxR: rows - 1,
  });
  const flipped = new Uint8Array(columns * rows);
  fillSlice(
    flipped,
    0,
    columns,
    rows,
    loops.map((loop) => Float64Array.from(loop)),
  );
  // fillSlice writes volume order (rows flipped): flip back.
  const back = new Uint8Array(columns * rows);
  for (let r = 0; r < rows; r++)
    back.set(flipped.subarray((rows - 1 - r) * columns, (rows - r) * columns), r * columns);
  return { back, loops: loops.length };
}

function parse(picture: string[]): { pixels: Uint8Array; columns: number; rows: number } {
  const rows = picture.length;
  const columns = picture[0]!.length;
  const pixels = new Uint8Array(columns * rows);
  picture.forEach((line, r) => {
    for (let c = 0; c < columns; c++) pixels[r * columns + c] = line[c] === '#' ? 1 : 0;
  });
  return { pixels, columns, rows };
}

test('a ring with an island in its hole, a diagonal pair (saddle) and edge pixels come back exactly', () => {
  const { pixels, columns, rows } = parse([
    '#.......#.',
    '.#######..',
    '.#.....#..',
    '.#.###.#.#',
    '.#.#.#.#.#',
    '.#.###.#..',
    '.#.....#.#',
    '.#######.#',
    '#.......##',
  ]);
  const { back, loops } = roundTrip(pixels, columns, rows);
  assert.deepEqual(back, pixels);
  // outer ring, its hole, island, island's hole, 2 corner pixels, top-right pixel, 2 right-edge shapes.
  assert.ok(loops >= 8, `${loops} loops`);
});

test('random masks of several densities come back exactly', () => {
  const next = random(7);
  for (const density of [0.05, 0.3, 0.5, 0.7, 0.95]) {
    for (let run = 0; run < 5; run++) {
      const columns = 20 + Math.floor(next() * 30);
      const rows = 15 + Math.floor(next() * 30);
      const pixels = new Uint8Array(columns * rows).map(() => (next() < density ? 1 : 0));
      assert.deepEqual(roundTrip(pixels, columns, rows).back, pixels, `density ${density}, run ${run}`);
    }
  }
});

test('straight runs are merged: a 5x4 rectangle is one loop of 8 vertices (corners cut at 45 degrees)', () => {
  const { pixels, columns } = parse(['.......', '.#####.', '.#####.', '.#####.', '.#####.', '.......']);
  const loops = traceLoops((c, r) => pixels[r * columns + c] !== 0, { minC: 0, maxC: 6, minR: 0, maxR: 5 });
  assert.equal(loops.length, 1);
  assert.equal(loops[0]!.length / 2, 8);
});
