/** DICOM files on disk: readDicomFileHeader reads only what it needs and equals the full read minus Pixel Data. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { tagToHex } from '../../src/core/dicom/dictionary.ts';
import type { MedvoxError } from '../../src/core/errors.ts';
import { readDicomFile, readDicomFileHeader } from '../../src/io/dicom-file.ts';
import { dicomCorpusFiles } from '../core/dicom/json-compare.ts';
import { corpus, listFiles, requirePeers } from '../support/env.ts';

const PIXEL_DATA = 0x7fe00010;

test('the header of every corpus DICOM file equals the full read without Pixel Data and what follows it', async (t) => {
  if (!requirePeers(t)) return;
  const files = dicomCorpusFiles(listFiles(corpus()).filter((file) => !file.includes('/malformed/')));
  let large = 0;
  for (const file of files) {
    const full = await readDicomFile(file);
    const header = await readDicomFileHeader(file);
    const expected = full.dataset.tags().filter((tag) => tag < PIXEL_DATA);
    assert.deepEqual(header.dataset.tags().map(tagToHex), expected.map(tagToHex), file);
    for (const tag of expected) {
      assert.deepEqual(header.dataset.get(tag)?.bytes, full.dataset.get(tag)?.bytes, `${file} ${tagToHex(tag)}`);
    }
    assert.equal(header.transferSyntaxUID, full.transferSyntaxUID);
    if (statSync(file).size > 64 * 1024) large++;
  }
  assert.ok(large > 100, `files larger than the first read (64 KiB) are part of the check: ${large}`);
});

test('errors name the file: a missing file is IO_ERROR, a cut file TRUNCATED', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'medvox-dicom-file-'));
  try {
    const missing = join(dir, 'missing.dcm');
    await assert.rejects(
      readDicomFile(missing),
      (error: MedvoxError) => error.code === 'IO_ERROR' && error.file === missing,
    );
    await assert.rejects(readDicomFileHeader(missing), { code: 'IO_ERROR', file: missing });
    const cut = join(dir, 'cut.dcm');
    writeFileSync(cut, Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.from([2, 0, 0, 0, 0x55])]));
    await assert.rejects(readDicomFile(cut), { code: 'TRUNCATED', file: cut });
    await assert.rejects(readDicomFileHeader(cut), { code: 'TRUNCATED', file: cut });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
