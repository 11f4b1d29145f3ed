/**
 * Our DICOM JSON model equals pydicom 2.3's Dataset.to_json_dict() for every DICOM file of the corpus outside
 * malformed/, element by element, nested sequences included (bulk data excluded on both sides).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { datasetToJson } from '../../../src/core/dicom/json.ts';
import { readDicom } from '../../../src/core/dicom/reader.ts';
import { corpus, debianPython, listFiles, projectRoot, requirePeers } from '../../support/env.ts';
import { compareJson, dicomCorpusFiles } from './json-compare.ts';

test('DICOM JSON model equals pydicom to_json_dict for every corpus file outside malformed/', (t) => {
  if (!requirePeers(t, debianPython)) return;
  const files = dicomCorpusFiles(listFiles(corpus()).filter((file) => !file.includes('/malformed/')));
  const oracle = JSON.parse(
    execFileSync(debianPython, [join(projectRoot, 'test/support/pydicom_json.py')], {
      input: files.join('\n'),
      maxBuffer: 1 << 30,
      encoding: 'utf8',
    }),
  ) as Record<string, { json?: Record<string, unknown>; error?: string; suppressed?: string }>;
  const failures: string[] = [];
  let compared = 0;
  for (const file of files) {
    const expected = oracle[file];
    if (!expected?.json) {
      // pydicom (strict) cannot read it: we must still parse it (tolerant reader), nothing to compare.
      readDicom(new Uint8Array(readFileSync(file)), { source: file });
      continue;
    }
    const parsed = readDicom(new Uint8Array(readFileSync(file)), { source: file });
    const ours = datasetToJson(parsed.dataset, { bulkDataURI: () => 'BULK' });
    let differences = compareJson(expected.json, ours as Record<string, unknown>);
    if (expected.suppressed) {
      // Exception: pydicom cannot serialise a DS/IS element whose value is not a number (GE's CoilIDData
      // (0043,1080) holds text) and leaves it out; we keep the text (json.ts). Only those elements may differ.
      differences = differences.filter((line) => !/: extra in ours \("vr":"(DS|IS)"/.test(line.replace('{', '')));
    }
    if (parsed.transferSyntaxUID === '1.2.840.10008.1.2.2') {
      // Exception: private elements stored as UN in a big-endian file. pydicom reads their bytes as big endian
      // once it knows the private VR; the files here were transcoded by dcmconv, which copies UN bytes unchanged
      // (little endian), so pydicom's numbers are byte-swapped. Ours equal the little-endian source's values
      // (checked in reader.test.ts: every transcoded variant gives the same dataset).
      const unConverted = (tag: string) => parsed.dataset.get(Number.parseInt(tag, 16))?.originalVR === 'UN';
      differences = differences.filter((line) => !unConverted(line.slice(1, 9)));
    }
    compared++;
    if (differences.length) failures.push(`${file}:\n  ${differences.slice(0, 5).join('\n  ')}`);
  }
  t.diagnostic(`${compared} files compared with pydicom, ${failures.length} differ`);
  assert.ok(compared > 300, `expected the whole corpus, compared ${compared}`);
  assert.deepEqual(failures, []);
});
