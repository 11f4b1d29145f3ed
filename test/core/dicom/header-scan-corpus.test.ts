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
import { readDicom } from '../../../src/core/dicom/reader.ts';
import { MedvoxError } from '../../../src/core/errors.ts';
import { corpus, listFiles, requirePeers } from '../../support/env.ts';
import { assertSameDataset } from './same-dataset.ts';

const PIXEL_DATA = 0x7fe00010;

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
    assertSameDataset(scan.header.meta, parsed.meta, `${path} (meta)`);
    assertSameDataset(scan.header.dataset, parsed.dataset, path);
    counts.indexed++;
  }
  t.diagnostic(JSON.stringify(counts));
  assert.ok(counts.indexed > 300, `most corpus files are indexed (${JSON.stringify(counts)})`);
});
