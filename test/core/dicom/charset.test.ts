/**
 * Specific Character Set decoding agrees with pydicom 2.3: on pydicom's 17 charset test files (every text element,
 * nested items included), and code by code on every single-byte set and every 94x94 / two-byte multi-byte set,
 * through pydicom's own decode_bytes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeText } from '../../../src/core/dicom/charset.ts';
import { tagToHex } from '../../../src/core/dicom/dictionary.ts';
import type { Dataset, VR } from '../../../src/core/dicom/model.ts';
import { readDicom } from '../../../src/core/dicom/reader.ts';
import { encodeStrings } from '../../../src/core/dicom/values.ts';
import { debianPython, hasCommand, inCI, projectRoot, python } from '../../support/env.ts';

const CHARSET_FILES = '/usr/lib/python3/dist-packages/pydicom/data/charset_files';
const TEXT_VRS = new Set<VR>(['PN', 'SH', 'LO', 'ST', 'LT', 'UC', 'UT']);

/** pydicom and its data are a Debian package (python3-pydicom), not the corpus: required in CI, else skipped. */
function requirePydicom(t: { skip(message: string): void }): boolean {
  if (hasCommand(debianPython) && existsSync(CHARSET_FILES)) return true;
  if (inCI) throw new Error('python3-pydicom is missing (CI must install every peer: see .ci/run)');
  t.skip('python3-pydicom is not installed');
  return false;
}

function texts(dataset: Dataset, prefix = '', out: Record<string, string[]> = {}): Record<string, string[]> {
  for (const element of dataset.sorted()) {
    const path = `${prefix}${tagToHex(element.tag)}`;
    element.items?.forEach((item, index) => {
      texts(item, `${path}/${index}/`, out);
    });
    if (TEXT_VRS.has(element.vr) && element.bytes?.length) out[path] = dataset.strings(element.tag);
  }
  return out;
}

/** PS3.5 6.2: leading / trailing spaces are insignificant in SH, LO, UC, PN (pydicom keeps leading ones). */
const significant = (value: string): string => value.trim();

test("pydicom's 17 charset files: every text element decodes to pydicom's string", (t) => {
  if (!requirePydicom(t)) return;
  const files = readdirSync(CHARSET_FILES)
    .filter((name) => name.endsWith('.dcm'))
    .map((name) => join(CHARSET_FILES, name));
  const oracle = JSON.parse(
    execFileSync(debianPython, [join(projectRoot, 'test/support/pydicom_strings.py')], {
      input: files.join('\n'),
      encoding: 'utf8',
    }),
  ) as Record<string, Record<string, string[]>>;
  let compared = 0;
  let nonAscii = 0;
  for (const file of files) {
    const dataset = readDicom(new Uint8Array(readFileSync(file)), { source: file }).dataset;
    const ours = texts(dataset);
    const expected = oracle[file]!;
    assert.deepEqual(Object.keys(ours).sort(), Object.keys(expected).sort(), file);
    for (const [path, values] of Object.entries(expected)) {
      assert.deepEqual(ours[path]?.map(significant), values.map(significant), `${file} ${path}`);
      compared++;
      if (values.some((value) => [...value].some((char) => char.charCodeAt(0) > 0x7f))) nonAscii++;
    }
  }
  t.diagnostic(`${files.length} files, ${compared} text elements equal to pydicom (${nonAscii} non-ASCII)`);
  assert.equal(files.length, 17);
  assert.ok(nonAscii >= 20);
});

test("pydicom's charset files: re-encoding each decoded value gives the file's bytes back (ISO 2022 included)", (t) => {
  if (!requirePydicom(t)) return;
  let checked = 0;
  for (const name of readdirSync(CHARSET_FILES).filter((entry) => entry.endsWith('.dcm'))) {
    const walk = (dataset: Dataset): void => {
      for (const element of dataset.sorted()) {
        element.items?.forEach(walk);
        if (!TEXT_VRS.has(element.vr) || !element.bytes?.length) continue;
        const values = dataset.strings(element.tag);
        const encoded = encodeStrings(values, element.vr, dataset.characterSet);
        // Allowed: padding; empty trailing PN groups ("=", dropped when decoding, PS3.5 6.2.1.1); and, where no
        // multi-byte G0 set is in use, designations of ASCII to G0 while G0 already is ASCII (chrKoreanMulti's
        // writer adds one before each delimiter; the PS3.5 Annex I example, chrI2, does not).
        const g0Redundant = !dataset.characterSet.some(
          (term) => term === 'ISO 2022 IR 87' || term === 'ISO 2022 IR 159',
        );
        // With ISO 2022 IR 13 as value 1, G0 returns to JIS X 0201 Romaji (ESC ( J, as in PS3.5 Annex H, chrH32);
        // chrSQEncoding was written by pydicom, which returns to ASCII (ESC ( B): they differ only for 5/12, 7/14.
        const romaji = dataset.characterSet[0] === 'ISO 2022 IR 13';
        const trim = (bytes: Uint8Array): string => {
          const text = Buffer.from(bytes)
            .toString('latin1')
            .replace(/[ \0]+$/, '');
          if (romaji) return text.split('\u001b(B').join('\u001b(J');
          return g0Redundant ? text.split('\u001b(B').join('') : text;
        };
        const original = trim(element.bytes).replace(/=+$/, '');
        assert.equal(trim(encoded), original, `${name} ${tagToHex(element.tag)}`);
        checked++;
      }
    };
    walk(readDicom(new Uint8Array(readFileSync(join(CHARSET_FILES, name)))).dataset);
  }
  t.diagnostic(`${checked} values re-encoded to their original bytes`);
  assert.ok(checked > 100);
});

/** pydicom's decode_bytes applied to each code of a set (errors -> U+FFFD, as pydicom's fallback gives). */
const ORACLE = `
import json, warnings
from pydicom.charset import convert_encodings, decode_bytes
from pydicom.valuerep import TEXT_VR_DELIMS
warnings.simplefilter("ignore")
spec = json.loads(input())
out = {}
for name, (terms, prefix, codes, suffix) in spec.items():
    encodings = convert_encodings(terms)
    values = []
    for code in codes:
        raw = bytes.fromhex(prefix) + bytes(code) + bytes.fromhex(suffix)
        values.append(decode_bytes(raw, encodings, TEXT_VR_DELIMS))
    out[name] = values
print(json.dumps(out))
`;

type Spec = Record<string, [terms: string[], prefix: string, codes: number[][], suffix: string]>;

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const pairs = (leads: number[], trails: number[]): number[][] =>
  leads.flatMap((lead) => trails.filter((trail) => trail !== 0x7f).map((trail) => [lead, trail]));
const hex = (bytes: number[]): string => Buffer.from(bytes).toString('hex');

test('every code of every set decodes as pydicom decodes it (256 bytes x 13 single-byte sets, 6 multi-byte sets)', (t) => {
  if (!requirePydicom(t)) return;
  const spec: Spec = {};
  const singleByte = ['', 'ISO_IR 100', 'ISO_IR 101', 'ISO_IR 109', 'ISO_IR 110', 'ISO_IR 126', 'ISO_IR 127'];
  singleByte.push('ISO_IR 138', 'ISO_IR 144', 'ISO_IR 148', 'ISO_IR 166', 'ISO_IR 192', 'ISO 2022 IR 100');
  for (const term of singleByte) spec[term || 'default'] = [[term], '', range(0, 255).map((byte) => [byte]), ''];
  const gr94 = pairs(range(0xa1, 0xfe), range(0xa1, 0xfe));
  const g0x94 = pairs(range(0x21, 0x7e), range(0x21, 0x7e));
  // ISO 2022: G0 sets are designated and released around each code, G1 sets designated before it.
  spec['ISO 2022 IR 87'] = [['', 'ISO 2022 IR 87'], '1b2442', g0x94, '1b2842'];
  spec['ISO 2022 IR 159'] = [['', 'ISO 2022 IR 159'], '1b242844', g0x94, '1b2842'];
  spec['ISO 2022 IR 149'] = [['', 'ISO 2022 IR 149'], '1b242943', gr94, ''];
  spec['ISO 2022 IR 13'] = [['ISO 2022 IR 13', 'ISO 2022 IR 87'], '', range(0xa1, 0xdf).map((byte) => [byte]), ''];
  spec.GBK = [['GBK'], '', pairs(range(0x81, 0xfe), range(0x40, 0xfe)), ''];
  spec.GB18030 = [['GB18030'], '', pairs(range(0x81, 0xfe), range(0x40, 0xfe)), ''];
  spec['ISO_IR 13'] = [['ISO_IR 13'], '', pairs([...range(0x81, 0x9f), ...range(0xe0, 0xef)], range(0x40, 0xfc)), ''];
  const expected = JSON.parse(python(ORACLE, [], JSON.stringify(spec))) as Record<string, string[]>;

  const report: string[] = [];
  for (const [name, [terms, prefix, codes, suffix]] of Object.entries(spec)) {
    const differing: string[] = [];
    let undefinedInPython = 0;
    let departures = 0;
    codes.forEach((code, index) => {
      const bytes = Buffer.from(`${prefix}${hex(code)}${suffix}`, 'hex');
      const ours = decodeText(new Uint8Array(bytes), terms, 'LT');
      const theirs = expected[name]![index]!;
      if (ours === theirs) return;
      // A code Python's codec does not define: pydicom falls back to the raw bytes, escape sequence included
      // (with a warning); we give U+FFFD or the character WHATWG's index defines (NEC / IBM extensions).
      if (theirs.includes('\x1b') || theirs.includes('\ufffd')) {
        undefinedInPython++;
        return;
      }
      // Documented departures, each checked to be only what it says:
      // - GB18030: Python keeps the GB 18030-2000 mapping to Private Use code points where GB 18030-2005 (and
      //   WHATWG's TextDecoder) map the same codes to standard characters.
      if (name === 'GB18030' && /^[\ue000-\uf8ff]$/.test(theirs)) {
        departures++;
        return;
      }
      differing.push(`${hex(code)}: pydicom ${JSON.stringify(theirs)} ours ${JSON.stringify(ours)}`);
    });
    const defined = codes.length - undefinedInPython;
    const equal = defined - differing.length - departures;
    report.push(`${name}: ${equal}/${defined}${departures ? ` (+${departures} documented)` : ''}`);
    assert.deepEqual(differing.slice(0, 10), [], name);
  }
  t.diagnostic(report.join(', '));
});

test('ISO 2022 IR 58 (GB 2312): the escape sequence is removed (pydicom 2.3 leaves it in the text: a bug)', () => {
  // ESC $ ) A designates GB 2312 to G1 (PS3.3 Table C.12-4); C4E3 is 你. pydicom decodes the whole fragment with
  // Python's gb2312 codec, which knows no escape sequences, and returns "\x1b$)A你".
  const bytes = new Uint8Array([0x41, 0x5e, 0x1b, 0x24, 0x29, 0x41, 0xc4, 0xe3]);
  assert.equal(decodeText(bytes, ['', 'ISO 2022 IR 58'], 'PN'), 'A^你');
});

test('ISO 2022 details: value delimiters reset, two-byte codes containing "\\" are not split, G1 after JIS', () => {
  const terms = ['', 'ISO 2022 IR 87'];
  // "ぼ" is JIS X 0208 0x245C: its second byte is a backslash, which must not split the value.
  const jisBackslash = new Uint8Array([0x1b, 0x24, 0x42, 0x24, 0x5c, 0x1b, 0x28, 0x42, 0x5c, 0x41]);
  assert.equal(decodeText(jisBackslash, terms, 'LO'), 'ぼ\\A');
  // A Latin-1 G1 designation ends at "\": the next value is back in the initial state (high bytes Latin-1 / none).
  const latin = new Uint8Array([0x1b, 0x2d, 0x4c, 0xbb, 0x5c, 0xbb]);
  assert.equal(decodeText(latin, ['ISO 2022 IR 100', 'ISO 2022 IR 144'], 'LO'), 'Л\\»');
  // Half-width katakana (G1) used while JIS X 0208 is in G0: bytes with the high bit set still mean G1.
  const mixed = new Uint8Array([0x1b, 0x24, 0x42, 0x3b, 0x33, 0xd4, 0x1b, 0x28, 0x4a]);
  assert.equal(decodeText(mixed, ['ISO 2022 IR 13', 'ISO 2022 IR 87'], 'LO'), '山ﾔ');
  // An unknown escape sequence stays in the text (as pydicom leaves it).
  assert.equal(decodeText(new Uint8Array([0x1b, 0x25, 0x47, 0x41]), terms, 'LO'), '\x1b%GA');
});

test('terms: misspellings accepted as pydicom accepts them; stand-alone sets ignore code extensions', () => {
  const latin = new Uint8Array([0xe9]);
  assert.equal(decodeText(latin, ['ISO IR 100'], 'LO'), 'é');
  assert.equal(decodeText(latin, ['ISO-IR 144'], 'LO'), 'щ');
  const utf8 = new Uint8Array([0xe7, 0x8e, 0x8b]);
  assert.equal(decodeText(utf8, ['ISO_IR 192', 'ISO 2022 IR 87'], 'LO'), '王');
  assert.equal(decodeText(latin, ['NO SUCH SET'], 'LO'), 'é');
});

test('encoding: UTF-8, single-byte sets, ISO 2022 with escapes and G0 restored before delimiters', () => {
  const bytes = (values: string[], vr: VR, terms: string[]): string =>
    Buffer.from(encodeStrings(values, vr, terms)).toString('latin1');
  assert.equal(bytes(['王^小東'], 'PN', ['ISO_IR 192']), '\xe7\x8e\x8b^\xe5\xb0\x8f\xe6\x9d\xb1');
  assert.equal(bytes(['Люкceмбypг'], 'PN', ['ISO_IR 144']), '\xbb\xee\xdace\xdc\xd1yp\xd3');
  assert.equal(
    bytes(['Yamada^Tarou=山田^太郎'], 'PN', ['', 'ISO 2022 IR 87']),
    'Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B',
  );
  assert.equal(bytes(['홍^길동'], 'PN', ['', 'ISO 2022 IR 149']), '\x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf ');
  // A G1 set other than value 1's is designated back before the delimiter and at the end.
  assert.equal(bytes(['é^Л'], 'PN', ['ISO 2022 IR 100', 'ISO 2022 IR 144']), '\xe9^\x1b-L\xbb\x1b-A ');
  // Characters no set of the terms has become "?".
  assert.equal(bytes(['a王'], 'LO', ['ISO_IR 100']), 'a?');
});
