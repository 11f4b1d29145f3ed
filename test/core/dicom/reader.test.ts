/**
 * The reader on the shared corpus: every DICOM file outside malformed/ parses to the element tree pydicom 2.3 reads
 * (same tag paths, nested items included, same File Meta), and the same data stored in different transfer syntaxes
 * (implicit / explicit / big endian / deflated / compressed) gives the same dataset.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tagToHex } from '../../../src/core/dicom/dictionary.ts';
import type { Dataset, DicomFile } from '../../../src/core/dicom/model.ts';
import { readDicom } from '../../../src/core/dicom/reader.ts';
import { corpus, debianPython, listFiles, projectRoot, requirePeers } from '../../support/env.ts';
import { dicomCorpusFiles } from './json-compare.ts';

const read = (path: string): DicomFile => readDicom(new Uint8Array(readFileSync(path)), { source: path });

/** Tag paths as test/support/pydicom_tags.py writes them: "GGGGEEEE", "<sequence>/<item>/GGGGEEEE". */
function tagPaths(dataset: Dataset, prefix = '', out: string[] = []): string[] {
  for (const element of dataset.sorted()) {
    const path = `${prefix}${tagToHex(element.tag)}`;
    out.push(path);
    element.items?.forEach((item, index) => {
      tagPaths(item, `${path}/${index}/`, out);
    });
  }
  return out;
}

interface Oracle {
  meta?: string[];
  tags?: string[];
  forced?: boolean;
  error?: string;
}

test('every corpus DICOM file outside malformed/ parses to the element tree pydicom reads', (t) => {
  if (!requirePeers(t, debianPython)) return;
  const files = dicomCorpusFiles(listFiles(corpus()).filter((file) => !file.includes('/malformed/')));
  const oracle = JSON.parse(
    execFileSync(debianPython, [join(projectRoot, 'test/support/pydicom_tags.py')], {
      input: files.join('\n'),
      maxBuffer: 1 << 30,
      encoding: 'utf8',
    }),
  ) as Record<string, Oracle>;
  const failures: string[] = [];
  let elements = 0;
  let forced = 0;
  for (const file of files) {
    const expected = oracle[file];
    assert.ok(expected?.tags, `pydicom cannot read ${file}: ${expected?.error}`);
    if (expected.forced) forced++;
    const parsed = read(file);
    const ours = tagPaths(parsed.dataset);
    elements += ours.length;
    const missing = expected.tags.filter((path) => !ours.includes(path));
    const extra = ours.filter((path) => !expected.tags!.includes(path));
    const meta = parsed.meta.tags().map(tagToHex);
    if (missing.length || extra.length || ours.length !== expected.tags.length) {
      failures.push(
        `${file}: ${ours.length} vs ${expected.tags.length}; missing ${missing.slice(0, 5)} extra ${extra.slice(0, 5)}`,
      );
    } else if (meta.join() !== expected.meta?.join()) {
      failures.push(`${file}: meta ${meta} vs ${expected.meta}`);
    }
  }
  t.diagnostic(`${files.length} files (${forced} without File Meta, read by pydicom with force), ${elements} elements`);
  assert.ok(files.length > 300, `expected the whole corpus, found ${files.length} files`);
  assert.deepEqual(failures, []);
});

/** Every element of a dataset, flattened: path -> VR and value bytes (hex), or the item / fragment count. */
function flatten(dataset: Dataset, prefix = '', out = new Map<string, { vr: string; value: string }>()) {
  for (const element of dataset.sorted()) {
    const path = `${prefix}${tagToHex(element.tag)}`;
    if (element.items) {
      out.set(path, { vr: 'SQ', value: `${element.items.length} items` });
      element.items.forEach((item, index) => {
        flatten(item, `${path}/${index}/`, out);
      });
    } else if (element.fragments) {
      out.set(path, { vr: element.vr, value: 'encapsulated' });
    } else {
      out.set(path, { vr: element.vr, value: Buffer.from(element.bytes ?? []).toString('hex') });
    }
  }
  return out;
}

interface Allowed {
  /** Paths whose values may differ (identity of the variant, elements a compressor adds). */
  paths?: ReadonlySet<string>;
}

/**
 * Differences between two encodings of the same data, apart from the documented ones: group lengths (a writer
 * recomputes them for its encoding), Pixel Data when either side is encapsulated (decoded pixels are compared in
 * test/core/codecs), and the VR of private elements when one side is implicit VR (the private dictionary decides
 * it there; the value bytes must still be the same).
 */
function differences(a: DicomFile, b: DicomFile, allowed: Allowed = {}): string[] {
  const left = flatten(a.dataset);
  const right = flatten(b.dataset);
  const implicitSide = [a, b].some((file) => file.transferSyntaxUID === '1.2.840.10008.1.2');
  const out: string[] = [];
  for (const path of new Set([...left.keys(), ...right.keys()])) {
    if (allowed.paths?.has(path.split('/')[0]!)) continue;
    if (path.endsWith('0000')) continue;
    const x = left.get(path);
    const y = right.get(path);
    if (x?.value === 'encapsulated' || y?.value === 'encapsulated') continue;
    const privateTag = Number.parseInt(path.slice(-8, -4), 16) % 2 === 1;
    const sameVR = x?.vr === y?.vr || (implicitSide && privateTag);
    if (!x || !y || !sameVR || x.value !== y.value) {
      out.push(`${path}: ${x?.vr} ${x?.value.slice(0, 40)} vs ${y?.vr} ${y?.value.slice(0, 40)}`);
    }
  }
  return out;
}

test('GE CT in implicit LE, explicit big endian, deflated and 4 compressed syntaxes: the same datasets', (t) => {
  if (!requirePeers(t)) return;
  const variants = ['deflated', 'explicit_big_endian', 'j2k_lossless', 'jpeg_lossless', 'jpegls_lossless', 'rle'];
  for (const slice of ['01', '02', '03']) {
    const source = read(corpus('seg/dcmqi_liver_ct3/source_ct', `${slice}.dcm`));
    assert.equal(source.transferSyntaxUID, '1.2.840.10008.1.2');
    for (const variant of variants) {
      const other = read(corpus('compressed/derived_ge_ct_3sl_transcoded', variant, `${slice}.dcm`));
      assert.notEqual(other.transferSyntaxUID, source.transferSyntaxUID);
      assert.deepEqual(differences(source, other), [], `${variant}/${slice}.dcm`);
    }
    // Big endian Pixel Data was swapped back to the little-endian bytes of the source.
    const bigEndian = read(corpus('compressed/derived_ge_ct_3sl_transcoded/explicit_big_endian', `${slice}.dcm`));
    // The comparison sees real differences: another slice differs in position, UIDs and pixels.
    const otherSlice = read(corpus('seg/dcmqi_liver_ct3/source_ct', slice === '01' ? '02.dcm' : '01.dcm'));
    assert.ok(differences(source, otherSlice).length > 5);
    assert.deepEqual(bigEndian.dataset.get(0x7fe00010)?.bytes, source.dataset.get(0x7fe00010)?.bytes);
  }
});

test('Siemens mosaic in 9 transfer syntaxes (explicit, implicit, big endian, RLE, JPEG, JPEG-LS, J2K): same data', (t) => {
  if (!requirePeers(t)) return;
  const dir = corpus('compressed/siemens_trio_mosaic_9_transfer_syntaxes/dicom');
  const reference = read(join(dir, '1.dcm'));
  // Each file of dcm_qa_ts is its own series (SOP Instance UID, Series Number); dcmtk's JPEG encoder (5.dcm) adds
  // Derivation Description and Derivation Code Sequence (PS3.3 C.7.6.1.1.3).
  const paths = new Set(['00080018', '00200011', '00082111', '00089215']);
  const syntaxes = new Set<string>();
  for (let index = 2; index <= 9; index++) {
    const other = read(join(dir, `${index}.dcm`));
    syntaxes.add(other.transferSyntaxUID);
    assert.deepEqual(differences(reference, other, { paths }), [], `${index}.dcm`);
  }
  assert.ok(syntaxes.has('1.2.840.10008.1.2') && syntaxes.has('1.2.840.10008.1.2.2'));
  const bigEndian = read(join(dir, '3.dcm'));
  assert.deepEqual(bigEndian.dataset.get(0x7fe00010)?.bytes, reference.dataset.get(0x7fe00010)?.bytes);
});
