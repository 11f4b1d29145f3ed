/** compareText orders as localeCompare does: UIDs without the collator, anything else through it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareText } from '../../../src/core/metadata/compare-text.ts';

test('the sign of localeCompare for UIDs, echo numbers and free text', () => {
  let seed = 7;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((seed / 2 ** 31) * n);
  };
  const word = (alphabet: string): string =>
    Array.from({ length: random(10) }, () => alphabet[random(alphabet.length)]).join('');
  for (const alphabet of ['0123456789.', '0123456789.-#', 'aBcÉé .1']) {
    for (let i = 0; i < 5000; i++) {
      const a = word(alphabet);
      const b = random(3) === 0 ? a + word(alphabet) : word(alphabet);
      assert.equal(Math.sign(compareText(a, b)), Math.sign(a.localeCompare(b)), `${a} / ${b}`);
    }
  }
});
