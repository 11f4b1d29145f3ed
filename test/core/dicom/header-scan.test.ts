/**
 * The header index (header-scan.ts, indexed-dataset.ts) on DICOM bytes written by hand (dicom-bytes.ts): each test
 * feeds the same bytes to `readDicom` and checks the index reads exactly what the reader reads.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { HeaderScanner, type IndexedHeader, scanDicomHeader } from '../../../src/core/dicom/header-scan.ts';
import { readDicom } from '../../../src/core/dicom/reader.ts';
import { MedvoxError } from '../../../src/core/errors.ts';
import {
  ascii,
  concat,
  explicit,
  f64,
  implicit,
  item,
  part10,
  sequenceDelimiter,
  text,
  UNDEFINED,
  u16,
  u32,
} from './dicom-bytes.ts';
import { assertSameDataset } from './same-dataset.ts';

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const IMPLICIT_LE = '1.2.840.10008.1.2';
const BIG_ENDIAN = '1.2.840.10008.1.2.2';
const DEFLATED = '1.2.840.10008.1.2.1.99';
const PIXEL_DATA = 0x7fe00010;

function sampleExplicit(le: boolean): Uint8Array {
  return concat(
    explicit(0x00080060, 'CS', text('CT'), { le }),
    explicit(0x00100010, 'PN', text('Doe^John'), { le }),
    explicit(0x00180050, 'DS', text('1.25'), { le }),
    explicit(0x00200032, 'DS', text('-12.5\\0\\ 7 '), { le }),
    explicit(0x00280010, 'US', u16([512], le), { le }),
    explicit(0x00209165, 'AT', u16([0x0020, 0x0032], le), { le }),
    explicit(0x00181310, 'US', u16([0, 512, 256, 0], le), { le }),
    explicit(0x00189087, 'FD', f64([1000.5], le), { le }),
    explicit(0x00186020, 'SL', u32([-5 >>> 0], le), { le }),
    explicit(PIXEL_DATA, 'OW', u16([1, 2, 0x1234, 0xfffe], le), { le }),
  );
}

/** The scan's header; fails the test when the index did not take the file. */
function scanned(bytes: Uint8Array, untilTag?: number): IndexedHeader {
  const scan = scanDicomHeader(bytes, { source: 'x.dcm', untilTag });
  assert.equal(scan.kind, 'header', scan.kind === 'parse' ? scan.reason : scan.kind);
  return (scan as { header: IndexedHeader }).header;
}

/** The index and the reader agree on every element, File Meta included. */
function sameAsReader(bytes: Uint8Array, untilTag?: number): IndexedHeader {
  const header = scanned(bytes, untilTag);
  const file = readDicom(bytes, { untilTag });
  assert.equal(header.transferSyntaxUID, file.transferSyntaxUID);
  assert.equal(header.hasPreamble, file.hasPreamble);
  assertSameDataset(header.meta, file.meta, 'meta');
  assertSameDataset(header.dataset, file.dataset);
  return header;
}

describe('transfer syntaxes', () => {
  test('explicit VR little endian: values, and a stop before Pixel Data', () => {
    const bytes = part10(EXPLICIT_LE, sampleExplicit(true));
    const header = sameAsReader(bytes, PIXEL_DATA);
    assert.equal(header.dataset.has(PIXEL_DATA), false);
    assert.deepEqual(header.dataset.numbers('ImagePositionPatient'), [-12.5, 0, 7]);
    assert.equal(header.dataset.string('PatientName'), 'Doe^John');
    sameAsReader(bytes);
  });

  test('implicit VR little endian: VRs from the dictionary and the private dictionary', () => {
    const bytes = part10(
      IMPLICIT_LE,
      concat(
        implicit(0x00080060, text('MR')),
        implicit(0x00280010, u16([256])),
        implicit(0x00280103, u16([1])),
        implicit(0x00280106, u16([0xfff6])),
        implicit(0x00290010, text('SIEMENS CSA HEADER')),
        implicit(0x00291008, text('IMAGE NUM 4')),
        implicit(0x00291077, u16([1, 2])),
      ),
    );
    const header = sameAsReader(bytes);
    assert.equal(header.dataset.get(0x00291008)?.vr, 'CS', 'private element: VR of its creator');
    assert.equal(header.dataset.get(0x00291077)?.vr, 'UN');
    assert.equal(header.dataset.number(0x00280106), -10, 'US or SS: SS under Pixel Representation 1');
  });

  test('explicit VR big endian: binary values swapped to little endian, the given bytes left as they were', () => {
    const bytes = part10(BIG_ENDIAN, sampleExplicit(false));
    const before = bytes.slice();
    const header = sameAsReader(bytes);
    assert.deepEqual(bytes, before, 'the scan swaps in a copy');
    assert.equal(header.dataset.number('Rows'), 512);
    assert.equal(header.dataset.number(0x00186020), -5);
    assert.deepEqual(header.dataset.numbers(0x00209165), [0x00200032]);
  });

  test('deflated explicit VR little endian', () => {
    const bytes = concat(part10(DEFLATED, new Uint8Array()), new Uint8Array(deflateRawSync(sampleExplicit(true))));
    assert.equal(sameAsReader(bytes).dataset.string('Modality'), 'CT');
  });
});

describe('sequences and private elements', () => {
  const code = (value: string, le = true): Uint8Array =>
    concat(explicit(0x00080100, 'SH', text(value), { le }), explicit(0x00080102, 'SH', text('DCM'), { le }));

  test('undefined-length sequences and items, nested, then the elements after them', () => {
    const inner = concat(
      explicit(0x00400260, 'SQ', new Uint8Array(), { length: UNDEFINED }),
      item(code('INNER'), { undefinedLength: true }),
      sequenceDelimiter(),
    );
    const bytes = concat(
      explicit(0x00080060, 'CS', text('CT')),
      explicit(0x00081032, 'SQ', new Uint8Array(), { length: UNDEFINED }),
      item(concat(code('A'), inner), { undefinedLength: true }),
      item(code('B')),
      sequenceDelimiter(),
      explicit(0x00100010, 'PN', text('After^Sequence')),
    );
    const header = sameAsReader(bytes);
    const items = header.dataset.items(0x00081032);
    assert.deepEqual(
      items.map((entry) => entry.string(0x00080100)),
      ['A', 'B'],
    );
    assert.equal(items[0]?.items(0x00400260)[0]?.string(0x00080100), 'INNER');
    assert.equal(items[0]?.parent, header.dataset);
    assert.equal(header.dataset.string('PatientName'), 'After^Sequence');
  });

  test('undefined lengths in implicit VR, and a UN sequence of undefined length (PS3.5 6.2.2)', () => {
    const implicitBytes = concat(
      implicit(0x00080060, text('CT')),
      implicit(0x00081140, new Uint8Array(), UNDEFINED),
      item(implicit(0x00081155, text('1.2.3', '\0')), { undefinedLength: true }),
      sequenceDelimiter(),
      implicit(0x00100010, text('After^Sequence')),
    );
    assert.equal(sameAsReader(implicitBytes).dataset.items(0x00081140)[0]?.string(0x00081155), '1.2.3');
    const unBytes = concat(
      explicit(0x00081150, 'UN', new Uint8Array(), { length: UNDEFINED }),
      item(implicit(0x00081155, text('1.2.3', '\0')), { undefinedLength: true }),
      sequenceDelimiter(),
    );
    const element = sameAsReader(unBytes).dataset.get(0x00081150);
    assert.equal(element?.vr, 'SQ');
    assert.equal(element?.originalVR, 'UN');
  });

  test('defined-length sequences in big endian are indexed when asked for, values swapped', () => {
    const items = concat(
      item(concat(code('X', false), explicit(0x00280010, 'US', u16([3], false), { le: false })), { le: false }),
      item(code('Y', false), { le: false }),
    );
    const bytes = part10(
      BIG_ENDIAN,
      concat(
        explicit(0x00081032, 'SQ', items, { le: false }),
        explicit(0x00280010, 'US', u16([9], false), { le: false }),
      ),
    );
    const header = sameAsReader(bytes);
    assert.equal(header.dataset.items(0x00081032)[0]?.number('Rows'), 3);
  });

  test('private elements: creator blocks, a private implicit sequence, UN given back its VR', () => {
    const implicitBytes = concat(
      implicit(0x00080060, text('MR')),
      implicit(0x00710011, text('AGFA-AG_HPState')),
      implicit(0x00711118, item(implicit(0x00080100, text('ITEM')))),
    );
    assert.equal(sameAsReader(implicitBytes).dataset.items(0x00711118)[0]?.string(0x00080100), 'ITEM');
    const explicitBytes = concat(
      explicit(0x00080060, 'CS', text('MR')),
      explicit(0x00190010, 'LO', text('SIEMENS MR HEADER')),
      explicit(0x0019100c, 'UN', text('1000')),
      explicit(0x00280010, 'UN', u16([12])),
    );
    const header = sameAsReader(explicitBytes);
    assert.equal(header.dataset.get(0x0019100c)?.vr, 'IS');
    assert.equal(header.dataset.get(0x00280010)?.originalVR, 'UN');
    assert.equal(header.dataset.number('Rows'), 12);
  });

  test('items inherit the Specific Character Set and may override it', () => {
    const bytes = concat(
      explicit(0x00080005, 'CS', text('ISO_IR 100')),
      explicit(
        0x00081032,
        'SQ',
        concat(
          item(explicit(0x00100010, 'PN', text('J\xe9r\xf4me'))),
          item(
            concat(
              explicit(0x00080005, 'CS', text('ISO_IR 192')),
              explicit(0x00100010, 'PN', new Uint8Array([0xe7, 0x8e, 0x8b, 0x20])),
            ),
          ),
        ),
      ),
    );
    const [inherits, overrides] = sameAsReader(bytes).dataset.items(0x00081032);
    assert.equal(inherits?.string('PatientName'), 'Jérôme');
    assert.equal(overrides?.string('PatientName'), '王');
  });

  test('a defined-length UN that may hold a sequence is left to the reader (it tries, and backs off)', () => {
    const bytes = concat(explicit(0x00081140, 'UN', item(implicit(0x00081155, text('1.2.3', '\0')))));
    assert.equal(scanDicomHeader(bytes).kind, 'parse');
  });
});

describe('prefixes, errors, reuse', () => {
  test('a prefix that ends before the header does asks for more; a longer one gives the header', () => {
    const bytes = part10(
      EXPLICIT_LE,
      concat(explicit(0x00291010, 'OB', new Uint8Array(5000).fill(7)), sampleExplicit(true)),
    );
    const pixelStart = bytes.length - 8 - 12;
    const options = { untilTag: PIXEL_DATA, complete: false };
    // The prefix ends inside the 5000-byte private value, then inside the element before Pixel Data.
    assert.equal(scanDicomHeader(bytes.subarray(0, 1000), options).kind, 'more');
    assert.equal(scanDicomHeader(bytes.subarray(0, pixelStart - 3), options).kind, 'more');
    const scan = scanDicomHeader(bytes.subarray(0, pixelStart + 4), options);
    assert.equal(scan.kind, 'header');
    assert.equal((scan as { header: IndexedHeader }).header.dataset.number('Rows'), 512);
  });

  test('typed errors naming the file: empty, not DICOM, truncated, bad VR', () => {
    const code = (bytes: Uint8Array): string => {
      try {
        scanDicomHeader(bytes, { source: 'x.dcm' });
      } catch (error) {
        assert.ok(error instanceof MedvoxError, `not a MedvoxError: ${error}`);
        assert.equal(error.file, 'x.dcm');
        return error.code;
      }
      return 'read';
    };
    assert.equal(code(new Uint8Array()), 'EMPTY_FILE');
    assert.equal(code(ascii('just some text, not DICOM at all')), 'NOT_DICOM');
    const bytes = part10(EXPLICIT_LE, sampleExplicit(true));
    assert.equal(code(bytes.subarray(0, bytes.length - 5)), 'TRUNCATED');
    assert.equal(code(concat(explicit(0x00080060, 'CS', text('CT')), explicit(0x00100010, 'Q?', text('X')))), 'BAD_VR');
  });

  test('every truncation and random corruption: what the reader reads, a hand-over, or a typed error', () => {
    const bytes = part10(
      EXPLICIT_LE,
      concat(
        sampleExplicit(true).subarray(0, 60),
        explicit(0x00081032, 'SQ', new Uint8Array(), { length: UNDEFINED }),
        item(explicit(0x00080100, 'SH', text('A')), { undefinedLength: true }),
        sequenceDelimiter(),
        explicit(0x00081140, 'SQ', item(explicit(0x00081155, 'UI', text('1.2', '\0')))),
      ),
    );
    const check = (candidate: Uint8Array): void => {
      let scan: ReturnType<typeof scanDicomHeader>;
      try {
        scan = scanDicomHeader(candidate, { source: 'x.dcm' });
      } catch (error) {
        assert.ok(error instanceof MedvoxError, `not a MedvoxError: ${error}`);
        return;
      }
      if (scan.kind !== 'header') return;
      const file = readDicom(candidate);
      assertSameDataset(scan.header.dataset, file.dataset);
    };
    for (let length = 1; length < bytes.length; length++) check(bytes.subarray(0, length));
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let trial = 0; trial < 2000; trial++) {
      const damaged = bytes.slice();
      for (let n = 0; n < 3; n++) damaged[Math.floor(random() * damaged.length)] = Math.floor(random() * 256);
      check(damaged);
    }
  });

  test('one scanner over many files: each header holds its own file only', () => {
    const scanner = new HeaderScanner();
    const first = part10(EXPLICIT_LE, sampleExplicit(true));
    const second = part10(
      IMPLICIT_LE,
      concat(implicit(0x00080005, text('ISO_IR 100')), implicit(0x00080060, text('MR'))),
    );
    const a = scanner.scan(first, { untilTag: PIXEL_DATA });
    assert.equal(a.kind === 'header' && a.header.dataset.number('Rows'), 512);
    const b = scanner.scan(second, { untilTag: PIXEL_DATA });
    assert.ok(b.kind === 'header');
    assert.equal(b.header.dataset.string('Modality'), 'MR');
    assert.equal(b.header.dataset.has(0x00280010), false, 'nothing left of the previous file');
    assert.deepEqual(b.header.dataset.characterSet, ['ISO_IR 100']);
    assertSameDataset(b.header.dataset, readDicom(second).dataset);
  });
});
