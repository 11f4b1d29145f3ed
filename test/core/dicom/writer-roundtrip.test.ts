/**
 * read -> write -> read is lossless for every corpus file (identical JSON model, pixel data bytes identical);
 * pydicom and dcmdump read what we write; dciodvfy finds no error in our copy that it does not find in the original.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { datasetToJson } from '../../../src/core/dicom/json.ts';
import type { DicomFile } from '../../../src/core/dicom/model.ts';
import { readDicom } from '../../../src/core/dicom/reader.ts';
import { writeDicom } from '../../../src/core/dicom/writer.ts';
import { corpus, debianPython, listFiles, projectRoot, requirePeers } from '../../support/env.ts';
import { compareJson, dicomCorpusFiles } from './json-compare.ts';

const outDir = mkdtempSync(join(tmpdir(), 'medvox-roundtrip-'));
after(() => rmSync(outDir, { recursive: true, force: true }));

interface Written {
  source: string;
  copy: string;
}
let written: Written[] = [];

function fullJson(file: DicomFile): Record<string, unknown> {
  return datasetToJson(file.dataset, { bulkDataThreshold: Number.POSITIVE_INFINITY }) as Record<string, unknown>;
}

function isDicomdir(file: DicomFile): boolean {
  return (file.dataset.string('SOPClassUID') ?? file.meta.string('MediaStorageSOPClassUID')) === '1.2.840.10008.1.3.10';
}

function samePixels(a: DicomFile, b: DicomFile): boolean {
  const pa = a.dataset.get(0x7fe00010);
  const pb = b.dataset.get(0x7fe00010);
  if (!pa || !pb) return !pa && !pb;
  if (pa.fragments || pb.fragments) {
    const fa = pa.fragments ?? [];
    const fb = pb.fragments ?? [];
    return fa.length === fb.length && fa.every((f, i) => Buffer.compare(f, fb[i]!.subarray(0, f.length)) === 0);
  }
  return (
    Buffer.compare(pa.bytes ?? new Uint8Array(), (pb.bytes ?? new Uint8Array()).subarray(0, pa.bytes?.length)) === 0
  );
}

test('read -> write -> read gives the identical model for every corpus file', (t) => {
  if (!requirePeers(t)) return;
  const sources = dicomCorpusFiles(listFiles(corpus()).filter((file) => !file.includes('/malformed/')));
  const failures: string[] = [];
  written = [];
  sources.forEach((source, index) => {
    let original: DicomFile;
    try {
      original = readDicom(new Uint8Array(readFileSync(source)), { source });
    } catch {
      return; // not DICOM (reader tests cover these)
    }
    if (isDicomdir(original)) {
      // medvox does not write DICOMDIRs (their records point at byte offsets); the writer refuses them.
      assert.throws(() => writeDicom(original), { code: 'UNSUPPORTED_SOP_CLASS' });
      return;
    }
    const bytes = writeDicom(original);
    const copy = join(outDir, `${index}.dcm`);
    writeFileSync(copy, bytes);
    written.push({ source, copy });
    const reread = readDicom(bytes, { source: copy });
    const differences = compareJson(fullJson(original), fullJson(reread));
    if (differences.length) failures.push(`${source}: ${differences.slice(0, 3).join('; ')}`);
    if (!samePixels(original, reread)) failures.push(`${source}: pixel data differs`);
  });
  t.diagnostic(`${written.length} files round-tripped`);
  assert.ok(written.length > 300);
  assert.deepEqual(failures, []);
});

test('pydicom reads every file medvox wrote, with the same JSON model as the original', (t) => {
  if (!requirePeers(t, debianPython)) return;
  assert.ok(written.length > 0, 'the round-trip test runs first');
  const script = join(projectRoot, 'test/support/pydicom_json.py');
  const run = (paths: string[]) =>
    JSON.parse(
      execFileSync(debianPython, [script], { input: paths.join('\n'), maxBuffer: 1 << 30, encoding: 'utf8' }),
    ) as Record<string, { json?: unknown; error?: string; suppressed?: string }>;
  const originals = run(written.map((w) => w.source));
  const copies = run(written.map((w) => w.copy));
  const failures: string[] = [];
  for (const { source, copy } of written) {
    const ours = copies[copy];
    if (!ours?.json) {
      failures.push(`${source}: pydicom cannot read our copy: ${ours?.error}`);
      continue;
    }
    const theirs = originals[source];
    if (!theirs?.json) continue; // pydicom cannot read the original either (no meta header)
    if (theirs.suppressed !== ours.suppressed) failures.push(`${source}: ${theirs.suppressed} vs ${ours.suppressed}`);
    let differences = compareJson(theirs.json, ours.json).filter((line) => !line.startsWith('/7FE00010'));
    if (source.includes('/explicit_big_endian/')) {
      // Same exception as json-pydicom.test.ts: pydicom byte-swaps the UN private elements of the big-endian
      // original (copied unchanged, little endian, by dcmconv); our copy holds the little-endian source's values.
      differences = differences.filter((line) => !line.startsWith('/0045'));
    }
    if (differences.length) failures.push(`${source}: ${differences.slice(0, 3).join('; ')}`);
  }
  assert.deepEqual(failures, []);
});

test('dcmdump reads every file medvox wrote without error', (t) => {
  if (!requirePeers(t, 'dcmdump')) return;
  const failures: string[] = [];
  for (const { source, copy } of written) {
    const result = spawnSync('dcmdump', ['-q', '+E', copy], { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (result.status !== 0 || /^E: /m.test(result.stderr)) failures.push(`${source}: ${result.stderr.slice(0, 200)}`);
  }
  assert.deepEqual(failures, []);
});

/** dciodvfy's error lines, without the parts that name the file or differ only by position. */
function dciodvfyErrors(path: string): Set<string> {
  if (readDicom(new Uint8Array(readFileSync(path))).transferSyntaxUID === '1.2.840.10008.1.2.1.99') {
    // dciodvfy cannot read deflated files: the baseline is dcmtk's inflated copy of the original.
    const inflated = join(outDir, 'inflated.dcm');
    execFileSync('dcmconv', ['+te', path, inflated]);
    path = inflated;
  }
  const result = spawnSync('dciodvfy', [path], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const lines = `${result.stdout}\n${result.stderr}`.split('\n').filter((line) => line.startsWith('Error'));
  return new Set(lines.map((line) => line.trim()));
}

test('dciodvfy reports no error on our copy that it does not report on the original', (t) => {
  if (!requirePeers(t, 'dciodvfy')) return;
  const failures: string[] = [];
  for (const { source, copy } of written) {
    const before = dciodvfyErrors(source);
    let introduced = [...dciodvfyErrors(copy)].filter((line) => !before.has(line));
    if (source.includes('Deflated')) {
      // The deflated baseline is dcmconv's copy, whose File Meta dcmconv rewrote; ours keeps the original's
      // (here an invalid Source AE Title (0002,0016)), so meta-header findings are not ours.
      introduced = introduced.filter((line) => !/\(0x0002,|invalid data values for Value Representations/.test(line));
    }
    if (introduced.length) failures.push(`${source}: ${introduced.slice(0, 3).join(' | ')}`);
  }
  assert.deepEqual(failures, []);
});
