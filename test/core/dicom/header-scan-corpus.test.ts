/**
 * The header index against the reader on every file of the corpus (malformed/ included): for each file the index
 * takes, every element, nested items included, has the same tag order, VR, original VR, value bytes, fragments,
 * decoded strings and numbers, and character set as `readDicom` gives; a file it does not take either asks for the
 * full reader (`parse`) or fails where the reader fails.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { scanDicomHeader } from '../../../src/core/dicom/header-scan.ts';
import type { Dataset, ReadonlyDataset } from '../../../src/core/dicom/model.ts';
import { readDicom } from '../../../src/core/dicom/reader.ts';
import { MedvoxError } from '../../../src/core/errors.ts';
import { corpus, listFiles, requirePeers } from '../../support/env.ts';

const PIXEL_DATA = 0x7fe00010;

function sameDataset(indexed: ReadonlyDataset, parsed: Dataset, where: string): void {
  assert.deepEqual([...indexed.keys()], [...parsed.keys()], `${where}: tags`);
  assert.deepEqual(indexed.characterSet, parsed.characterSet, `${where}: character set`);
  for (const tag of parsed.keys()) {
    const at = `${where}/${tag.toString(16).padStart(8, '0')}`;
    const a = indexed.get(tag)!;
    const b = parsed.get(tag)!;
    assert.equal(a.vr, b.vr, `${at}: VR`);
    assert.equal(a.originalVR, b.originalVR, `${at}: original VR`);
    assert.equal(a.undefinedLength, b.undefinedLength, `${at}: undefined length`);
    assert.deepEqual(a.bytes, b.bytes, `${at}: bytes`);
    assert.deepEqual(a.fragments, b.fragments, `${at}: fragments`);
    assert.equal(a.items?.length, b.items?.length, `${at}: items`);
    if (b.bytes) {
      assert.deepEqual(indexed.strings(tag), parsed.strings(tag), `${at}: strings`);
      assert.equal(indexed.string(tag), parsed.string(tag), `${at}: string`);
      assert.deepEqual(indexed.numbers(tag), parsed.numbers(tag), `${at}: numbers`);
      assert.equal(indexed.number(tag), parsed.number(tag), `${at}: number`);
    }
    b.items?.forEach((item, index) => {
      sameDataset(a.items![index]!, item, `${at}/${index}`);
    });
  }
}

test('every corpus file: the header index reads what the reader reads, or hands the file to the reader', (t) => {
  if (!requirePeers(t)) return;
  const counts = { indexed: 0, parse: 0, failed: 0, notDicom: 0 };
  for (const path of listFiles(corpus())) {
    const bytes = new Uint8Array(readFileSync(path));
    let parsed: ReturnType<typeof readDicom> | undefined;
    let readerError: unknown;
    try {
      parsed = readDicom(bytes, { source: path, untilTag: PIXEL_DATA });
    } catch (error) {
      readerError = error;
    }
    let scan: ReturnType<typeof scanDicomHeader>;
    try {
      scan = scanDicomHeader(bytes, { source: path, untilTag: PIXEL_DATA });
    } catch (error) {
      assert.ok(error instanceof MedvoxError, `${path}: a typed error`);
      assert.equal(error.file, path, `${path}: the error names the file`);
      if (error.code === 'EMPTY_FILE' || error.code === 'NOT_DICOM') {
        assert.ok(readerError instanceof MedvoxError && readerError.code === error.code, `${path}: ${error.code}`);
        counts.notDicom++;
      } else {
        counts.failed++;
        if (readerError instanceof MedvoxError)
          assert.equal(error.code, readerError.code, `${path}: the reader's error`);
        t.diagnostic(
          `${path}: ${error.code} (reader: ${readerError instanceof MedvoxError ? readerError.code : 'reads it'})`,
        );
      }
      continue;
    }
    if (scan.kind === 'parse') {
      counts.parse++;
      t.diagnostic(`${path}: parse (${scan.reason})`);
      continue;
    }
    assert.equal(scan.kind, 'header', path);
    if (scan.kind !== 'header') continue;
    assert.ok(parsed, `${path}: the index read a file the reader refuses (${readerError})`);
    assert.equal(scan.header.transferSyntaxUID, parsed.transferSyntaxUID, `${path}: transfer syntax`);
    assert.equal(scan.header.hasPreamble, parsed.hasPreamble, `${path}: preamble`);
    sameDataset(scan.header.meta, parsed.meta, `${path} (meta)`);
    sameDataset(scan.header.dataset, parsed.dataset, path);
    counts.indexed++;
  }
  t.diagnostic(JSON.stringify(counts));
  assert.ok(counts.indexed > 300, `most corpus files are indexed (${JSON.stringify(counts)})`);
});
