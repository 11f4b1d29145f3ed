/** Element-by-element comparison of a dataset read two ways (the header index against the reader's model). */
import assert from 'node:assert/strict';
import type { Dataset, ReadonlyDataset } from '../../../src/core/dicom/model.ts';

/** Same tag order, VRs, original VRs, value bytes, fragments, decoded values and character set, items included. */
export function assertSameDataset(indexed: ReadonlyDataset, parsed: Dataset, where = 'dataset'): void {
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
      assertSameDataset(a.items![index]!, item, `${at}/${index}`);
    });
  }
}
