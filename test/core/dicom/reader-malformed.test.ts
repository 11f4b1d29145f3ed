/**
 * Every file of the malformed corpus either parses (where a tolerant reader should) or throws a MedvoxError with a
 * stable code naming the file. The table below is the one in docs/errors.md ("The malformed corpus").
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { test } from 'node:test';
import type { DicomFile } from '../../../src/core/dicom/model.ts';
import { readDicom } from '../../../src/core/dicom/reader.ts';
import { MedvoxError } from '../../../src/core/errors.ts';
import { readDicomFile, readDicomFileHeader } from '../../../src/io/dicom-file.ts';
import { corpus, listFiles, requirePeers } from '../../support/env.ts';

type Outcome = 'parses' | 'EMPTY_FILE' | 'NOT_DICOM' | 'TRUNCATED' | 'BAD_LENGTH' | 'BAD_VR';

/** Expected outcome of a full read, whether the header (everything before Pixel Data) reads, and a check. */
const EXPECTED: Record<string, { outcome: Outcome; header: boolean; check?: (file: DicomFile) => void }> = {
  'other_repos/emri_small_jpeg_2k_lossless_too_short.dcm': { outcome: 'TRUNCATED', header: true },
  'other_repos/no-meta-length-test.dcm': {
    outcome: 'parses',
    header: true,
    check: (file) => assert.equal(file.meta.has(0x00020000), false),
  },
  'other_repos/no-pixel-data.dcm': {
    outcome: 'parses',
    header: true,
    check: (file) => assert.equal(file.dataset.has(0x7fe00010), false),
  },
  'other_repos/no-pixel-spacing.dcm': {
    outcome: 'parses',
    header: true,
    check: (file) => assert.equal(file.dataset.has(0x00280030), false),
  },
  'pydicom/ExplVR_BigEndNoMeta.dcm': {
    outcome: 'parses',
    header: true,
    check: (file) => assert.equal(file.transferSyntaxUID, '1.2.840.10008.1.2.2'),
  },
  'pydicom/JPEG2000-embedded-sequence-delimiter.dcm': {
    outcome: 'parses',
    header: true,
    // The delimiter bytes inside the J2K stream do not end the fragment: items are read by their lengths.
    check: (file) => assert.equal(file.dataset.get(0x7fe00010)?.fragments?.length, 2),
  },
  'pydicom/MR_truncated.dcm': { outcome: 'TRUNCATED', header: true },
  'pydicom/badVR.dcm': {
    outcome: 'parses',
    header: true,
    // Number of Frames "1A" is not an IS: kept verbatim, NaN as a number (the pixel layer reports it).
    check: (file) => assert.ok(Number.isNaN(file.dataset.number('NumberOfFrames'))),
  },
  'pydicom/meta_missing_tsyntax.dcm': {
    outcome: 'parses',
    header: true,
    check: (file) => assert.equal(file.transferSyntaxUID, '1.2.840.10008.1.2'),
  },
  'pydicom/no_meta.dcm': { outcome: 'NOT_DICOM', header: false },
  'pydicom/rtplan_truncated.dcm': { outcome: 'TRUNCATED', header: false },
  'synthetic/bad_ds_value_ipp.dcm': {
    outcome: 'parses',
    header: true,
    check: (file) => assert.ok(file.dataset.numbers('ImagePositionPatient').some(Number.isNaN)),
  },
  'synthetic/missing_rows.dcm': {
    outcome: 'parses',
    header: true,
    check: (file) => assert.equal(file.dataset.has(0x00280010), false),
  },
  'synthetic/pixeldata_length_mismatch.dcm': { outcome: 'parses', header: true },
  'synthetic/preamble_only.dcm': { outcome: 'TRUNCATED', header: false },
  'synthetic/text_not_dicom.dcm': { outcome: 'NOT_DICOM', header: false },
  'synthetic/truncated_in_header.dcm': { outcome: 'TRUNCATED', header: false },
  'synthetic/truncated_in_pixeldata.dcm': { outcome: 'TRUNCATED', header: true },
  'synthetic/zero_bytes.dcm': { outcome: 'EMPTY_FILE', header: false },
};

function outcomeOf(read: () => DicomFile, path: string): Outcome | DicomFile {
  try {
    return read();
  } catch (error) {
    assert.ok(error instanceof MedvoxError, `${path}: ${error}`);
    assert.equal(error.file, path, 'the error names the file');
    assert.ok(error.message.length > 10);
    return error.code as Outcome;
  }
}

test('every malformed corpus file parses or fails with its documented code, naming the file', async (t) => {
  if (!requirePeers(t)) return;
  const root = corpus('malformed');
  const files = listFiles(root);
  assert.deepEqual(files.map((file) => relative(root, file)).sort(), Object.keys(EXPECTED).sort());
  for (const path of files) {
    const expected = EXPECTED[relative(root, path)]!;
    const result = outcomeOf(() => readDicom(new Uint8Array(readFileSync(path)), { source: path }), path);
    assert.equal(typeof result === 'string' ? result : 'parses', expected.outcome, path);
    if (typeof result !== 'string') expected.check?.(result);
    const viaFile = await readDicomFile(path).catch((error: MedvoxError) => error);
    assert.equal(viaFile instanceof MedvoxError ? viaFile.code : 'parses', expected.outcome, `${path} (readDicomFile)`);
    const header = await readDicomFileHeader(path).catch((error: MedvoxError) => error);
    assert.equal(!(header instanceof MedvoxError), expected.header, `${path}: header read`);
    if (header instanceof MedvoxError) assert.equal(header.file, path);
  }
});
