/**
 * The writer's shortcuts give the bytes of the plain path: an item object used in several places (encoded once,
 * then repeated) writes as distinct copies of it would, in explicit and implicit VR; a sequence whose items were
 * encoded ahead (encodedSequence, from encodeElements pieces) writes as its items would; a deferred value kept as a
 * part by writeDicomParts produces the bytes writeDicom reads in.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Dataset, type DeferredValue, type DicomFile, TransferSyntax } from '../../../src/core/dicom/model.ts';
import { encodedSequence, encodeElements, writeDicom, writeDicomParts } from '../../../src/core/dicom/writer.ts';

function code(value: string, large = false): Dataset {
  const item = new Dataset();
  item.setStrings('CodeValue', value).setStrings('CodingSchemeDesignator', 'DCM').setStrings('CodeMeaning', 'Odd');
  // Larger than the scratch of the sink that encodes shared items: values copied into it, and one kept apart.
  if (large) {
    item.setBytes(
      0x00091010,
      Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff),
      'OB',
    );
    item.setBytes(
      0x00091011,
      Uint8Array.from({ length: 3000 }, (_, i) => (i * 3) & 0xff),
      'OB',
    );
    item.setBytes(
      0x00091012,
      Uint8Array.from({ length: 9000 }, (_, i) => (i * 5) & 0xff),
      'OB',
    );
    item.setStrings(0x00091013, 'after', 'LO');
  }
  return item;
}

/** Per-frame items that share (or, with `copies`, duplicate) their code and position items. */
function multiFrame(copies: boolean): DicomFile {
  const ds = new Dataset();
  ds.setStrings('SOPClassUID', '1.2.840.10008.5.1.4.1.1.66.4').setStrings('SOPInstanceUID', '1.2.3.4');
  const shared = code('113076', true);
  const positions = [0, 1, 2].map((k) => new Dataset().setNumbers('ImagePositionPatient', [0, 0, k], 'DS'));
  const frames: Dataset[] = [];
  for (let f = 0; f < 9; f++) {
    const k = f % 3;
    const derivation = new Dataset();
    derivation.setItems('DerivationCodeSequence', [copies ? code('113076', true) : shared]);
    const position = copies ? new Dataset().setNumbers('ImagePositionPatient', [0, 0, k], 'DS') : positions[k]!;
    const item = new Dataset();
    item.setItems('DerivationImageSequence', [derivation]);
    item.setItems('PlanePositionSequence', [position]);
    frames.push(item);
  }
  ds.setItems('PerFrameFunctionalGroupsSequence', frames);
  ds.setBytes('PixelData', new Uint8Array([1, 2, 3, 4]), 'OB');
  return {
    meta: new Dataset(),
    dataset: ds,
    transferSyntaxUID: TransferSyntax.ExplicitVRLittleEndian,
    hasPreamble: true,
  };
}

test('an item object used in several places is written as distinct copies of it are (explicit and implicit VR)', () => {
  for (const transferSyntaxUID of [TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian]) {
    assert.deepEqual(
      writeDicom(multiFrame(false), { transferSyntaxUID }),
      writeDicom(multiFrame(true), { transferSyntaxUID }),
    );
  }
});

test('a sequence of items encoded ahead is written as its items are (explicit and implicit VR)', () => {
  const plain = multiFrame(false);
  const tag = 0x52009230;
  const items = plain.dataset.items(tag);
  // Each item from its elements encoded on their own (as the SEG writer assembles them).
  const encoded = items.map((item) => encodeElements([...item.elements.values()]));
  const ahead = multiFrame(false);
  ahead.dataset.set(encodedSequence(tag, encoded));
  for (const transferSyntaxUID of [TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian])
    assert.deepEqual(writeDicom(ahead, { transferSyntaxUID }), writeDicom(plain, { transferSyntaxUID }));
});

test('writeDicomParts keeps a deferred value as a part that produces the bytes writeDicom writes', () => {
  const file = multiFrame(false);
  const pixels = Uint8Array.from({ length: 10001 }, (_, i) => (i * 13) & 0xff);
  const deferred: DeferredValue = {
    length: pixels.length,
    readInto: (offset, targets) => {
      let at = offset;
      for (const target of targets) {
        target.set(pixels.subarray(at, at + target.length));
        at += target.length;
      }
    },
    read: () => pixels.slice(),
  };
  file.dataset.set({ tag: 0x7fe00010, vr: 'OB', deferred });
  const parts = writeDicomParts(file);
  assert.ok(parts.includes(deferred), 'the value stays deferred');
  const joined = Buffer.concat(parts.map((part) => (part instanceof Uint8Array ? part : part.read())));
  // writeDicom reads the value in (and drops the deferred value): the same bytes, odd length padded.
  const whole = writeDicom(file);
  assert.ok(joined.equals(whole));
  assert.equal(whole.length % 2, 0);
});
