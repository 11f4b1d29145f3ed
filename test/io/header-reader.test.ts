/**
 * HeaderReader (batch header reads for metadata reports): one reused buffer, headers indexed; a header longer than
 * the first read is read again with more; a file the index does not take, or a damaged one, is the reader's to
 * decide (its result, or its error naming the file).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Dataset } from '../../src/core/dicom/model.ts';
import { readDicom } from '../../src/core/dicom/reader.ts';
import { writeDicom } from '../../src/core/dicom/writer.ts';
import { MedvoxError } from '../../src/core/errors.ts';
import { makePhantomSeries } from '../../src/core/phantom/index.ts';
import { HeaderReader } from '../../src/io/dicom-file.ts';
import { assertSameDataset } from '../core/dicom/same-dataset.ts';

const PIXEL_DATA = 0x7fe00010;

test('headers of small and large files, read one after another through one buffer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'medvox-header-reader-'));
  try {
    const [small, large] = makePhantomSeries({ rows: 16, columns: 16, slices: 2 });
    // A private value of 200 KiB before Pixel Data: the header runs past the first 64 KiB read.
    (large!.dataset as Dataset).setStrings(0x00290010, 'MEDVOX TEST', 'LO');
    (large!.dataset as Dataset).setBytes(0x00291010, new Uint8Array(200 * 1024).fill(0x41), 'OB');
    // No Pixel Data at all: the first read holds the whole file but never reaches the tag (read to the end).
    const [bare] = makePhantomSeries({ rows: 16, columns: 16, slices: 1 });
    (bare!.dataset as Dataset).delete(PIXEL_DATA);
    const paths = ['small', 'large', 'bare', 'small-again'].map((name) => join(dir, `${name}.dcm`));
    writeFileSync(paths[0]!, writeDicom(small!));
    writeFileSync(paths[1]!, writeDicom(large!));
    writeFileSync(paths[2]!, writeDicom(bare!));
    writeFileSync(paths[3]!, writeDicom(small!));
    const reader = new HeaderReader();
    for (const path of paths) {
      const header = reader.read(path);
      const expected = readDicom(new Uint8Array(readFileSync(path)), { untilTag: PIXEL_DATA });
      assertSameDataset(header.dataset, expected.dataset, path);
      assertSameDataset(header.meta, expected.meta, `${path} (meta)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a truncated file: the reader's error naming the file; a file the index hands over is read whole", () => {
  const dir = mkdtempSync(join(tmpdir(), 'medvox-header-reader-'));
  try {
    const [file] = makePhantomSeries({ rows: 16, columns: 16, slices: 1 });
    const bytes = writeDicom(file!);
    const cut = join(dir, 'cut.dcm');
    writeFileSync(cut, bytes.subarray(0, 600));
    const reader = new HeaderReader();
    assert.throws(
      () => reader.read(cut),
      (error) => error instanceof MedvoxError && error.code === 'TRUNCATED' && error.file === cut,
    );
    // A defined-length UN that may hold a sequence: the reader tries it as one (the index hands the file over).
    const dataset = file!.dataset as Dataset;
    dataset.setBytes(0x00081140, new Uint8Array([0xfe, 0xff, 0x00, 0xe0, 0, 0, 0, 0]), 'UN');
    const handed = join(dir, 'un.dcm');
    writeFileSync(handed, writeDicom(file!));
    const header = reader.read(handed);
    assert.equal(header.dataset.get(0x00081140)?.vr, 'SQ');
    assert.equal(header.dataset.items(0x00081140).length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
