/**
 * SEG writer and reader on synthetic data (phantom grids in every orientation, odd frame sizes so that 1-bit frames
 * are not byte aligned): BINARY and LABELMAP round trips, frames stored out of slice order, SEGs covering only some
 * slices (with and without the reference), bit order, empty masks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFrame } from '../../../src/core/codecs/index.ts';
import type { Dataset } from '../../../src/core/dicom/model.ts';
import { readDicom } from '../../../src/core/dicom/reader.ts';
import { writeDicom } from '../../../src/core/dicom/writer.ts';
import { isMedvoxError } from '../../../src/core/errors.ts';
import { defaultEntry, type LabelEntry } from '../../../src/core/labels/index.ts';
import { makePhantomSeries, type PhantomOrientation } from '../../../src/core/phantom/index.ts';
import { gridFromSegmentation, parseSegmentation, segmentationMasks } from '../../../src/core/seg/read.ts';
import { type ReferenceGrid, referenceGrid } from '../../../src/core/seg/reference.ts';
import { buildSegmentation, type WritableSegmentationType } from '../../../src/core/seg/write.ts';

const ROWS = 19;
const COLUMNS = 23; // 437 pixels a frame: 1-bit frames start mid-byte
const SLICES = 7;

function grid(orientation: PhantomOrientation = 'axial'): ReferenceGrid {
  // Shuffled files: the grid orders slices by position, never by file order.
  const files = makePhantomSeries({ orientation, rows: ROWS, columns: COLUMNS, slices: SLICES });
  return referenceGrid([files[3]!, files[0]!, files[6]!, files[1]!, files[5]!, files[2]!, files[4]!]);
}

/** Labels 2, 7 and 300 (16-bit) in blobs; slices 0, 3 and 6 empty. */
function labelmap(): Uint16Array {
  const data = new Uint16Array(ROWS * COLUMNS * SLICES);
  for (let k = 0; k < SLICES; k++) {
    if (k === 0 || k === 3 || k === 6) continue;
    for (let j = 0; j < ROWS; j++)
      for (let i = 0; i < COLUMNS; i++) {
        const index = (k * ROWS + j) * COLUMNS + i;
        if ((i - 5) ** 2 + (j - 6) ** 2 < 16 + k) data[index] = 7;
        else if (i > 14 && j > 3 + k) data[index] = 2;
        else if (k === 4 && i < 3 && j < 3) data[index] = 300;
      }
  }
  return data;
}

const SEGMENTS: LabelEntry[] = [defaultEntry(2, 'kidney_left'), defaultEntry(7, 'liver'), defaultEntry(300, 'lesion')];

function roundTrip(type: WritableSegmentationType, g: ReferenceGrid, data: Uint16Array, keepEmptyFrames = false) {
  const built = buildSegmentation({
    grid: g,
    labelmap: data,
    segments: SEGMENTS,
    type,
    keepEmptyFrames,
    now: new Date(2026, 0, 1),
  });
  return { built, file: readDicom(writeDicom(built.file)) };
}

for (const orientation of ['axial', 'coronal', 'sagittal', 'oblique'] as const) {
  for (const type of ['BINARY', 'LABELMAP'] as const) {
    test(`${type} SEG round trip on an ${orientation} grid: identical labelmap, frames only where labels are`, async () => {
      const g = grid(orientation);
      const data = labelmap();
      const { built, file } = roundTrip(type, g, data);
      // BINARY: label 2 on 4 slices, 7 on 4, 300 on 1; LABELMAP: slices 1, 2, 4, 5.
      assert.equal(built.frames, type === 'BINARY' ? 9 : 4);
      const seg = parseSegmentation(file);
      assert.equal(seg.type, type);
      assert.deepEqual(
        seg.segments.map((s) => [s.segmentNumber, s.entry.labelValue, s.entry.name]),
        type === 'BINARY'
          ? [
              [1, 2, 'kidney_left'],
              [2, 7, 'liver'],
              [3, 300, 'lesion'],
            ]
          : [
              [2, 2, 'kidney_left'],
              [7, 7, 'liver'],
              [300, 300, 'lesion'],
            ],
      );
      const masks = await segmentationMasks(seg, g);
      assert.deepEqual(Array.from(masks.labelmap!), Array.from(data));
    });
  }
}

/** The same SEG with its frames in another order (per-frame items and pixel data permuted together). */
async function permuteFrames(
  file: ReturnType<typeof readDicom>,
  order: number[],
): Promise<ReturnType<typeof readDicom>> {
  const ds = file.dataset;
  const items = ds.items('PerFrameFunctionalGroupsSequence');
  const frames = await Promise.all(order.map((index) => decodeFrame(file, index)));
  const size = ROWS * COLUMNS;
  const bits = ds.number('BitsAllocated');
  let pixels: Uint8Array;
  if (bits === 1) {
    pixels = new Uint8Array(Math.ceil((size * order.length) / 8) + 1);
    frames.forEach((frame, f) => {
      for (let p = 0; p < size; p++) if (frame.pixels[p]) pixels[(f * size + p) >> 3]! |= 1 << ((f * size + p) & 7);
    });
  } else {
    const values = new Uint16Array(size * order.length);
    frames.forEach((frame, f) => {
      values.set(frame.pixels as Uint16Array, f * size);
    });
    pixels = new Uint8Array(values.buffer);
  }
  ds.setItems('PerFrameFunctionalGroupsSequence', order.map((index) => items[index]!) as Dataset[]);
  ds.setBytes('PixelData', pixels, bits === 16 ? 'OW' : 'OB');
  return readDicom(writeDicom(file));
}

test('frames out of slice order are placed by their plane positions (BINARY and LABELMAP)', async () => {
  const g = grid('oblique');
  const data = labelmap();
  for (const type of ['BINARY', 'LABELMAP'] as const) {
    const { built, file } = roundTrip(type, g, data);
    const order = Array.from({ length: built.frames }, (_, i) => (i * 5 + 2) % built.frames);
    assert.equal(new Set(order).size, built.frames);
    const before = parseSegmentation(file).frames.map((f) => f.position);
    const shuffled = parseSegmentation(await permuteFrames(file, order));
    assert.notDeepEqual(
      shuffled.frames.map((f) => f.position),
      before,
    );
    assert.deepEqual(Array.from((await segmentationMasks(shuffled, g)).labelmap!), Array.from(data), type);
  }
});

test('a SEG with only some slices: the reference restores the full extent; without it the frames make the grid', async () => {
  const g = grid('axial');
  const data = labelmap();
  const { file } = roundTrip('BINARY', g, data);
  const seg = parseSegmentation(file);
  // Every slice of the reference is referenced, frames only on slices 1, 2, 4, 5.
  assert.equal([...seg.referencedSeries.values()][0]!.size, SLICES);
  assert.deepEqual([...new Set(seg.frames.map((f) => f.sourceSOPInstanceUID))].length, 4);
  const own = gridFromSegmentation(seg);
  // Slices 1..5 (slice 3 is empty but lies between frames: filled in), not 0 and 6.
  assert.deepEqual(own.dims, [COLUMNS, ROWS, 5]);
  const masks = await segmentationMasks(seg, own);
  const size = ROWS * COLUMNS;
  assert.deepEqual(Array.from(masks.labelmap!), Array.from(data.subarray(size, 6 * size)));
  // Keeping empty frames: one frame per segment and slice.
  assert.equal(roundTrip('BINARY', g, data, true).built.frames, 3 * SLICES);
});

test('bit order: pixel 0 of a frame is the least significant bit (PS3.5 8.1.1); frames are packed without padding', () => {
  const g = grid('axial');
  const data = new Uint16Array(ROWS * COLUMNS * SLICES);
  // Pixel (r = 0, c = 0) of slice 1 is voxel (0, ROWS-1, 1); pixel (r = 0, c = 1) of slice 2 for label 7.
  data[(1 * ROWS + ROWS - 1) * COLUMNS] = 2;
  data[(2 * ROWS + ROWS - 1) * COLUMNS + 1] = 7;
  const built = buildSegmentation({ grid: g, labelmap: data, segments: SEGMENTS.slice(0, 2), type: 'BINARY' });
  const pixels = built.file.dataset.get(0x7fe00010)!.bytes!;
  assert.equal(built.frames, 2);
  assert.equal(pixels.length, Math.ceil((2 * ROWS * COLUMNS) / 8) + (Math.ceil((2 * ROWS * COLUMNS) / 8) % 2));
  assert.equal(pixels[0], 0b1);
  // Frame 2 starts at bit 437 = byte 54, bit 5; its pixel 1 is bit 438 = byte 54, bit 6.
  assert.equal(pixels[54], 1 << 6);
  assert.equal(
    pixels.reduce((n, byte) => n + byte.toString(2).split('1').length - 1, 0),
    2,
  );
});

test('an empty mask and labels without a segment are typed errors', () => {
  const g = grid('axial');
  assert.throws(
    () => buildSegmentation({ grid: g, labelmap: new Uint16Array(ROWS * COLUMNS * SLICES), segments: SEGMENTS }),
    (error: unknown) => isMedvoxError(error) && error.code === 'EMPTY_MASK',
  );
  assert.throws(
    () => buildSegmentation({ grid: g, labelmap: labelmap(), segments: SEGMENTS.slice(0, 2) }),
    (error: unknown) => isMedvoxError(error) && error.code === 'LABEL_NOT_IN_TABLE' && /300/.test(error.message),
  );
});
