/**
 * writeDicomFileAtomic writes a file's deferred Pixel Data at its measured offset while the header is encoded in
 * steps: the file equals writeDicom's bytes, for synthetic datasets (long sequences, odd lengths, a short-length VR
 * over 64 KiB) and for every corpus file with native Pixel Data (so the measurement agrees with the writer on real
 * datasets); without a deferred value it writes the plain encoding.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Dataset, type DeferredValue, type DicomFile, TransferSyntax } from '../../src/core/dicom/model.ts';
import { readDicom } from '../../src/core/dicom/reader.ts';
import { planDicom, writeDicom } from '../../src/core/dicom/writer.ts';
import { writeDicomFileAtomic } from '../../src/io/dicom-write.ts';
import { dicomCorpusFiles } from '../core/dicom/json-compare.ts';
import { corpus, listFiles, requirePeers } from '../support/env.ts';

const dir = mkdtempSync(join(tmpdir(), 'medvox-dicom-write-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function deferredOf(bytes: Uint8Array): DeferredValue {
  return {
    length: bytes.length,
    readInto: (offset, targets) => {
      let at = offset;
      for (const target of targets) {
        target.set(bytes.subarray(at, at + target.length));
        at += target.length;
      }
    },
    read: () => bytes.slice(),
  };
}

/** The file with its Pixel Data made a deferred value (as a SEG built with deferPixelData has it). */
function withDeferredPixels(file: DicomFile): DicomFile | undefined {
  const element = file.dataset.get(0x7fe00010);
  if (!element?.bytes || element.fragments) return undefined;
  file.dataset.set({ tag: element.tag, vr: element.vr, deferred: deferredOf(element.bytes) });
  return file;
}

function synthetic(pixelBytes: number): DicomFile {
  const ds = new Dataset(['ISO_IR 192']);
  ds.setStrings('SpecificCharacterSet', 'ISO_IR 192')
    .setStrings('SOPClassUID', '1.2.840.10008.5.1.4.1.1.66.4')
    .setStrings('SOPInstanceUID', '1.2.3.4.5')
    .setStrings('PatientName', 'Müller^Jörg')
    .setStrings('StudyDescription', 'odd'); // odd length: padded
  // A short-length VR over 64 KiB is written as UN with a long header.
  ds.setBytes(0x00091010, new Uint8Array(70001).fill(0x41), 'LO');
  const shared = new Dataset().setStrings('CodeValue', '113076').setStrings('CodingSchemeDesignator', 'DCM');
  ds.setItems(
    'PerFrameFunctionalGroupsSequence',
    Array.from({ length: 300 }, (_, f) => {
      const item = new Dataset();
      item.setItems('DerivationImageSequence', [new Dataset().setItems('DerivationCodeSequence', [shared])]);
      item.setItems('FrameContentSequence', [new Dataset().setNumbers('DimensionIndexValues', [1, f + 1], 'UL')]);
      return item;
    }),
  );
  ds.setBytes(
    'PixelData',
    Uint8Array.from({ length: pixelBytes }, (_, i) => (i * 31) & 0xff),
    'OB',
  );
  return {
    meta: new Dataset(),
    dataset: ds,
    transferSyntaxUID: TransferSyntax.ExplicitVRLittleEndian,
    hasPreamble: true,
  };
}

async function writtenBytes(file: DicomFile, name: string): Promise<Buffer> {
  const path = join(dir, name);
  await writeDicomFileAtomic(path, file);
  return readFileSync(path);
}

test('a deferred Pixel Data written at its measured offset gives the bytes writeDicom gives', async () => {
  for (const pixelBytes of [9 * 1024 * 1024 + 4, 1001]) {
    const plain = writeDicom(synthetic(pixelBytes));
    const file = withDeferredPixels(synthetic(pixelBytes))!;
    const plan = planDicom(file);
    assert.equal(plan.deferred?.offset, plain.length - pixelBytes - (pixelBytes % 2));
    assert.ok((await writtenBytes(file, `synthetic-${pixelBytes}.dcm`)).equals(plain));
  }
  // No deferred value, or implicit VR: the plain encoding.
  assert.ok((await writtenBytes(synthetic(64), 'plain.dcm')).equals(writeDicom(synthetic(64))));
  const implicit = withDeferredPixels(synthetic(64))!;
  assert.equal(planDicom(implicit, { transferSyntaxUID: TransferSyntax.ImplicitVRLittleEndian }).deferred, undefined);
});

test('every corpus file with native Pixel Data: written by position, the bytes writeDicom gives', async (t) => {
  if (!requirePeers(t)) return;
  let checked = 0;
  for (const source of dicomCorpusFiles(listFiles(corpus()).filter((file) => !file.includes('/malformed/')))) {
    let file: DicomFile;
    try {
      file = readDicom(new Uint8Array(readFileSync(source)), { source });
    } catch {
      continue;
    }
    if (file.transferSyntaxUID !== TransferSyntax.ExplicitVRLittleEndian) continue;
    let plain: Uint8Array;
    try {
      plain = writeDicom(file);
    } catch {
      continue; // not written by medvox (a DICOMDIR)
    }
    const deferred = withDeferredPixels(file);
    if (!deferred || !planDicom(deferred).deferred) continue;
    assert.ok((await writtenBytes(deferred, 'corpus.dcm')).equals(plain), source);
    checked++;
  }
  assert.ok(checked > 10, `${checked} corpus files checked`);
});
