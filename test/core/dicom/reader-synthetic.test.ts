/** The reader on DICOM bytes written by hand in the test (dicom-bytes.ts): one behaviour per test. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deflateRawSync, deflateSync } from 'node:zlib';
import type { Dataset } from '../../../src/core/dicom/model.ts';
import { readDicom, readDicomPrefix } from '../../../src/core/dicom/reader.ts';
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

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const IMPLICIT_LE = '1.2.840.10008.1.2';
const BIG_ENDIAN = '1.2.840.10008.1.2.2';
const DEFLATED = '1.2.840.10008.1.2.1.99';
const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';

/** A small dataset in explicit VR (either byte order) exercising each binary VR that needs swapping. */
function sampleExplicit(le: boolean): Uint8Array {
  return concat(
    explicit(0x00080060, 'CS', text('CT'), { le }),
    explicit(0x00100010, 'PN', text('Doe^John'), { le }),
    explicit(0x00180050, 'DS', text('1.25'), { le }),
    explicit(0x00200013, 'IS', text('7'), { le }),
    explicit(0x00280010, 'US', u16([512], le), { le }),
    explicit(0x00280011, 'US', u16([256], le), { le }),
    explicit(0x00281052, 'DS', text('-1024'), { le }),
    explicit(0x00209165, 'AT', u16([0x0020, 0x0032], le), { le }),
    explicit(0x00181310, 'US', u16([0, 512, 256, 0], le), { le }),
    explicit(0x00189087, 'FD', f64([1000.5], le), { le }),
    explicit(0x00540081, 'US', u16([3], le), { le }),
    explicit(0x00186020, 'SL', u32([-5 >>> 0], le), { le }),
    explicit(0x7fe00010, 'OW', u16([1, 2, 0x1234, 0xfffe], le), { le }),
  );
}

function summary(ds: Dataset): Record<string, unknown> {
  return {
    modality: ds.string('Modality'),
    name: ds.string('PatientName'),
    thickness: ds.number('SliceThickness'),
    instance: ds.number('InstanceNumber'),
    rows: ds.number('Rows'),
    columns: ds.number('Columns'),
    intercept: ds.number('RescaleIntercept'),
    pointer: ds.numbers(0x00209165),
    matrix: ds.numbers('AcquisitionMatrix'),
    bValue: ds.numbers('DiffusionBValue'),
    slices: ds.number('NumberOfSlices'),
    sl: ds.numbers(0x00186020),
    pixels: Array.from(ds.get(0x7fe00010)?.bytes ?? []),
  };
}

describe('transfer syntaxes and file framing', () => {
  const expected = summary(readDicom(part10(EXPLICIT_LE, sampleExplicit(true))).dataset);

  test('explicit VR little endian with preamble and meta', () => {
    const file = readDicom(part10(EXPLICIT_LE, sampleExplicit(true)));
    assert.equal(file.hasPreamble, true);
    assert.equal(file.transferSyntaxUID, EXPLICIT_LE);
    assert.equal(expected.name, 'Doe^John');
    assert.deepEqual(expected.pointer, [0x00200032]);
    assert.deepEqual(expected.sl, [-5]);
    assert.deepEqual(expected.pixels, [1, 0, 2, 0, 0x34, 0x12, 0xfe, 0xff]);
  });

  test('explicit VR big endian: every binary value swapped to little endian (US, SL, FD, AT, OW pixel data)', () => {
    const file = readDicom(part10(BIG_ENDIAN, sampleExplicit(false)));
    assert.equal(file.transferSyntaxUID, BIG_ENDIAN);
    assert.deepEqual(summary(file.dataset), expected);
  });

  test('explicit VR big endian without meta header is recognised from the first element', () => {
    const file = readDicom(sampleExplicit(false));
    assert.equal(file.transferSyntaxUID, BIG_ENDIAN);
    assert.equal(file.hasPreamble, false);
    assert.deepEqual(summary(file.dataset), expected);
  });

  test('explicit VR little endian without preamble or meta header', () => {
    const file = readDicom(sampleExplicit(true));
    assert.equal(file.transferSyntaxUID, EXPLICIT_LE);
    assert.equal(file.meta.size, 0);
    assert.deepEqual(summary(file.dataset), expected);
  });

  test('deflated explicit VR little endian (raw DEFLATE, and a zlib-wrapped stream some writers produce)', () => {
    const raw = readDicom(part10(DEFLATED, new Uint8Array(deflateRawSync(sampleExplicit(true)))));
    assert.equal(raw.transferSyntaxUID, DEFLATED);
    assert.deepEqual(summary(raw.dataset), expected);
    const zlib = readDicom(part10(DEFLATED, new Uint8Array(deflateSync(sampleExplicit(true)))));
    assert.deepEqual(summary(zlib.dataset), expected);
  });

  test('a deflated dataset that does not inflate is BAD_VALUE', () => {
    assert.throws(() => readDicom(part10(DEFLATED, ascii('this is not deflate data'))), { code: 'BAD_VALUE' });
  });

  test('DICM without preamble, and a meta header without group length', () => {
    const withoutPreamble = part10(EXPLICIT_LE, sampleExplicit(true)).subarray(128);
    assert.deepEqual(summary(readDicom(withoutPreamble).dataset), expected);
    const noGroupLength = readDicom(part10(EXPLICIT_LE, sampleExplicit(true), { groupLength: false }));
    assert.equal(noGroupLength.meta.has(0x00020000), false);
    assert.equal(noGroupLength.meta.string('TransferSyntaxUID'), EXPLICIT_LE);
    assert.deepEqual(summary(noGroupLength.dataset), expected);
  });

  test('implicit VR little endian without meta: VRs from the dictionary', () => {
    const bytes = concat(
      implicit(0x00080060, text('MR')),
      implicit(0x00280010, u16([64])),
      implicit(0x00280103, u16([1])),
      implicit(0x00280106, u16([0xfff0])), // SmallestImagePixelValue: "US or SS" -> SS (PixelRepresentation 1)
      implicit(0x7fe00010, u16([7, 8])),
    );
    const file = readDicom(bytes);
    assert.equal(file.transferSyntaxUID, IMPLICIT_LE);
    assert.equal(file.dataset.get(0x00080060)?.vr, 'CS');
    assert.equal(file.dataset.get(0x00280106)?.vr, 'SS');
    assert.deepEqual(file.dataset.numbers(0x00280106), [-16]);
    assert.equal(file.dataset.get(0x7fe00010)?.vr, 'OW');
  });

  test('a meta header claiming explicit VR over an implicit dataset is read as implicit (and the reverse)', () => {
    const implicitData = concat(implicit(0x00080060, text('MR')), implicit(0x00280010, u16([64])));
    const lying = readDicom(part10(EXPLICIT_LE, implicitData));
    assert.equal(lying.dataset.number('Rows'), 64);
    const explicitData = concat(explicit(0x00080060, 'CS', text('MR')), explicit(0x00280010, 'US', u16([64])));
    const reverse = readDicom(part10(IMPLICIT_LE, explicitData));
    assert.equal(reverse.dataset.number('Rows'), 64);
  });
});

describe('sequences', () => {
  const code = (value: string, le = true): Uint8Array =>
    concat(explicit(0x00080100, 'SH', text(value), { le }), explicit(0x00080102, 'SH', text('DCM'), { le }));

  test('undefined-length sequence with undefined-length items, nested, and the elements after it', () => {
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
    const ds = readDicom(bytes).dataset;
    const items = ds.items(0x00081032);
    assert.equal(ds.get(0x00081032)?.undefinedLength, true);
    assert.deepEqual(
      items.map((entry) => entry.string(0x00080100)),
      ['A', 'B'],
    );
    assert.equal(items[0]?.items(0x00400260)[0]?.string(0x00080100), 'INNER');
    assert.equal(items[0]?.parent, ds);
    assert.equal(ds.string('PatientName'), 'After^Sequence');
  });

  test('defined-length sequences and items in big endian', () => {
    const items = concat(item(code('X', false), { le: false }), item(code('Y', false), { le: false }));
    const bytes = concat(
      explicit(0x00081032, 'SQ', items, { le: false }),
      explicit(0x00280010, 'US', u16([9], false), { le: false }),
    );
    const ds = readDicom(part10(BIG_ENDIAN, bytes)).dataset;
    assert.deepEqual(
      ds.items(0x00081032).map((entry) => entry.string(0x00080100)),
      ['X', 'Y'],
    );
    assert.equal(ds.number('Rows'), 9);
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
    const [inherits, overrides] = readDicom(bytes).dataset.items(0x00081032);
    assert.equal(inherits?.string('PatientName'), 'Jérôme');
    assert.equal(overrides?.string('PatientName'), '王');
  });
});

describe('UN and private elements', () => {
  test('UN with undefined length is a sequence in implicit VR little endian (PS3.5 6.2.2)', () => {
    const content = concat(
      explicit(0x00081150, 'UN', new Uint8Array(), { length: UNDEFINED }),
      item(implicit(0x00081155, text('1.2.3', '\0')), { undefinedLength: true }),
      sequenceDelimiter(),
    );
    const element = readDicom(content).dataset.get(0x00081150);
    assert.equal(element?.vr, 'SQ');
    assert.equal(element?.originalVR, 'UN');
    assert.equal(element?.items?.[0]?.string(0x00081155), '1.2.3');
  });

  test('defined-length UN of a standard SQ is re-parsed; a standard US gets its VR back', () => {
    const sequence = item(implicit(0x00081155, text('1.2.3', '\0')));
    const ds = readDicom(concat(explicit(0x00081140, 'UN', sequence), explicit(0x00280010, 'UN', u16([12])))).dataset;
    assert.equal(ds.get(0x00081140)?.vr, 'SQ');
    assert.equal(ds.items(0x00081140)[0]?.string(0x00081155), '1.2.3');
    assert.equal(ds.get(0x00280010)?.vr, 'US');
    assert.equal(ds.get(0x00280010)?.originalVR, 'UN');
    assert.equal(ds.number('Rows'), 12);
  });

  test('implicit private elements: creator LO, known elements from the private dictionary, others UN', () => {
    const bytes = concat(
      implicit(0x00080060, text('MR')),
      implicit(0x00290010, text('SIEMENS CSA HEADER')),
      implicit(0x00291008, text('IMAGE NUM 4')),
      implicit(0x00291077, u16([1, 2])),
      implicit(0x00710011, text('AGFA-AG_HPState')),
      implicit(0x00711118, item(implicit(0x00080100, text('ITEM')))),
    );
    const ds = readDicom(bytes).dataset;
    assert.equal(ds.get(0x00290010)?.vr, 'LO');
    assert.equal(ds.get(0x00291008)?.vr, 'CS');
    assert.equal(ds.get(0x00291077)?.vr, 'UN');
    assert.equal(ds.get(0x00711118)?.vr, 'SQ');
    assert.equal(ds.items(0x00711118)[0]?.string(0x00080100), 'ITEM');
  });

  test('a private UN whose dictionary VR is SQ but whose bytes are not a sequence stays UN, with a warning', () => {
    const bytes = concat(
      explicit(0x00080060, 'CS', text('MR')),
      explicit(0x00710011, 'LO', text('AGFA-AG_HPState')),
      explicit(0x00711118, 'UN', ascii('garbage!')),
    );
    const file = readDicom(bytes);
    assert.equal(file.dataset.get(0x00711118)?.vr, 'UN');
    assert.deepEqual(Array.from(file.dataset.get(0x00711118)?.bytes ?? []), Array.from(ascii('garbage!')));
    assert.equal(file.warnings?.length, 1);
  });
});

describe('pixel data', () => {
  test('native Pixel Data is a view into the input (no copy)', () => {
    const bytes = part10(EXPLICIT_LE, sampleExplicit(true));
    const pixels = readDicom(bytes).dataset.get(0x7fe00010)?.bytes;
    assert.equal(pixels?.buffer, bytes.buffer);
  });

  test('encapsulated Pixel Data: fragments [BOT, ...] are views into the input', () => {
    const fragments = concat(
      item(new Uint8Array()),
      item(new Uint8Array([0xff, 0xd8, 1, 2])),
      item(new Uint8Array([3, 4, 0xff, 0xd9])),
      sequenceDelimiter(),
    );
    const bytes = part10(JPEG_BASELINE, concat(explicit(0x7fe00010, 'OB', fragments, { length: UNDEFINED })));
    const element = readDicom(bytes).dataset.get(0x7fe00010);
    assert.deepEqual(
      element?.fragments?.map((fragment) => Array.from(fragment)),
      [[], [0xff, 0xd8, 1, 2], [3, 4, 0xff, 0xd9]],
    );
    assert.ok(element?.fragments?.every((fragment) => fragment.buffer === bytes.buffer));
  });

  test('untilTag stops before Pixel Data; readDicomPrefix asks for more bytes until it gets there', () => {
    const bytes = part10(EXPLICIT_LE, sampleExplicit(true));
    const header = readDicom(bytes, { untilTag: 0x7fe00010 });
    assert.equal(header.dataset.has(0x7fe00010), false);
    assert.equal(header.dataset.number('Rows'), 512);
    const pixelStart = bytes.length - 8 - 12;
    assert.equal(readDicomPrefix(bytes.subarray(0, pixelStart - 3), 0x7fe00010), undefined);
    assert.equal(readDicomPrefix(bytes.subarray(0, pixelStart + 4), 0x7fe00010)?.dataset.number('Rows'), 512);
  });
});

describe('errors', () => {
  const code = (bytes: Uint8Array): string | undefined => {
    try {
      readDicom(bytes, { source: 'x.dcm' });
      return undefined;
    } catch (error) {
      assert.ok(error instanceof MedvoxError, `not a MedvoxError: ${error}`);
      assert.equal(error.file, 'x.dcm');
      return error.code;
    }
  };

  test('typed codes for the basic failures', () => {
    assert.equal(code(new Uint8Array()), 'EMPTY_FILE');
    assert.equal(code(ascii('just some text, not DICOM at all')), 'NOT_DICOM');
    assert.equal(code(concat(new Uint8Array(128), ascii('DICM'))), 'TRUNCATED');
    assert.equal(code(concat(explicit(0x00080060, 'CS', text('CT')), explicit(0x00100010, 'Q?', text('X')))), 'BAD_VR');
    const overrun = concat(explicit(0x00081032, 'SQ', item(explicit(0x00080100, 'SH', text('ABCD'))).subarray(0, 12)));
    assert.equal(code(concat(overrun, explicit(0x00100010, 'PN', text('A^B')))), 'BAD_LENGTH');
  });

  test('every truncation of a valid file either parses or throws a typed error (no crash, no hang)', () => {
    const bytes = part10(
      EXPLICIT_LE,
      concat(
        sampleExplicit(true).subarray(0, 40),
        explicit(0x00081032, 'SQ', new Uint8Array(), { length: UNDEFINED }),
        item(explicit(0x00080100, 'SH', text('A')), { undefinedLength: true }),
        sequenceDelimiter(),
      ),
    );
    for (let length = 1; length < bytes.length; length++) code(bytes.subarray(0, length));
  });

  test('random byte corruption gives a dataset or a typed error, never another exception', () => {
    const bytes = part10(
      EXPLICIT_LE,
      concat(sampleExplicit(true), explicit(0x00081032, 'SQ', item(explicit(0x00080100, 'SH', text('A'))))),
    );
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let trial = 0; trial < 3000; trial++) {
      const damaged = bytes.slice();
      for (let k = 0; k < 3; k++)
        damaged[132 + Math.floor(random() * (bytes.length - 132))] = Math.floor(random() * 256);
      code(damaged);
    }
  });
});
