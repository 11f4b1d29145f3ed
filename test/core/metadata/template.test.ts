/** Tag templates: paths (keywords, tags, private blocks, sequences), typed cells, and the errors a user can act on. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Dataset } from '../../../src/core/dicom/model.ts';
import { MedvoxError } from '../../../src/core/errors.ts';
import { elementCell, formatTM, parseDA, parseDT } from '../../../src/core/metadata/cells.ts';
import { parseAttributePath } from '../../../src/core/metadata/path.ts';
import { columnValue, parseTemplate, TemplateSet, templateNamesFor } from '../../../src/core/metadata/template.ts';

/** A dataset with standard, private, nested and functional-group values. */
function sample(): Dataset {
  const ds = new Dataset();
  ds.setStrings('Modality', 'MR')
    .setStrings('StudyDate', '20240229')
    .setStrings('AcquisitionDateTime', '20240229134501.25')
    .setStrings('StudyTime', '134501.123')
    .setStrings('RepetitionTime', '2250')
    .setStrings('ImageType', ['ORIGINAL', 'PRIMARY', 'M'])
    .setStrings('PixelSpacing', ['0.5', '0.75'])
    .setStrings('SliceThickness', 'abc')
    .setStrings('PatientName', '')
    .setNumbers('Rows', 256);
  // Two private blocks in group 0019: the creator decides which one (0019,xx0C) means (PS3.5 7.8.1).
  ds.setStrings(0x00190010, 'OTHER VENDOR', 'LO').setStrings(0x0019100c, 'wrong block', 'LO');
  ds.setStrings(0x00190011, 'SIEMENS MR HEADER', 'LO').setStrings(0x0019110c, '1000', 'IS');
  const code = (meaning: string) => new Dataset().setStrings('CodeMeaning', meaning);
  ds.setItems('ViewCodeSequence', [code('cranio-caudal'), code('medio-lateral')]);
  const timing = new Dataset().setStrings('EchoTrainLength', '48').setNumbers('FlipAngle', 9, 'FD');
  const shared = new Dataset().setItems('MRTimingAndRelatedParametersSequence', [timing]);
  ds.setItems('SharedFunctionalGroupsSequence', [shared]);
  return ds;
}

const template = (columns: unknown[]) => parseTemplate({ columns }, 'test', 'test.json');
const value = (columns: unknown[], ds = sample()) => columnValue(ds, template(columns).columns[0]!);

describe('template columns read the values they name', () => {
  test('keywords give typed cells: numbers, dates, text; multi-valued numbers stay text', () => {
    assert.equal(value(['RepetitionTime']), 2250);
    assert.equal(value(['Rows']), 256);
    assert.deepEqual(value(['StudyDate']), new Date(Date.UTC(2024, 1, 29)));
    assert.deepEqual(value(['AcquisitionDateTime']), new Date(Date.UTC(2024, 1, 29, 13, 45, 1, 250)));
    assert.equal(value(['StudyTime']), '13:45:01.123');
    assert.equal(value(['ImageType']), 'ORIGINAL\\PRIMARY\\M');
    assert.equal(value(['PixelSpacing']), '0.5\\0.75');
  });

  test('missing, empty and unparsable values are empty cells or kept as text, never an error', () => {
    assert.equal(value(['EchoTime']), null);
    assert.equal(value(['PatientName']), null);
    assert.equal(value(['SliceThickness']), 'abc');
  });

  test('a (gggg,xxee) private element is found in the block of its creator', () => {
    assert.equal(value([{ path: '(0019,xx0C)', creator: 'SIEMENS MR HEADER' }]), 1000);
    assert.equal(value([{ path: '(0019,xx0C)', creator: 'OTHER VENDOR' }]), 'wrong block');
    assert.equal(value([{ path: '(0019,xx0C)', creator: 'NOBODY' }]), null);
    assert.equal(value(['0019110C']), 1000, 'a full tag reads that exact element');
    assert.equal(
      value([{ path: '(0019,100C)', creator: 'SIEMENS MR HEADER' }]),
      1000,
      'full tag + creator: re-blocked',
    );
  });

  test('nested paths, [*] and functional-group fallback', () => {
    assert.equal(value(['ViewCodeSequence[1].CodeMeaning']), 'medio-lateral');
    assert.equal(value(['ViewCodeSequence.CodeMeaning']), 'cranio-caudal', 'no index means item 0');
    assert.equal(value(['ViewCodeSequence[*].CodeMeaning']), 'cranio-caudal\\medio-lateral');
    assert.equal(value(['ViewCodeSequence[5].CodeMeaning']), null);
    assert.equal(value(['ViewCodeSequence']), '2 item(s)');
    assert.equal(
      value(['FlipAngle']),
      9,
      'enhanced MR: a keyword absent at the top is read from the functional groups',
    );
    assert.equal(
      value(['SharedFunctionalGroupsSequence[0].MRTimingAndRelatedParametersSequence[0].EchoTrainLength']),
      48,
    );
  });

  test('alternative paths: the first with a value wins, under the given header', () => {
    const columns = template([{ path: ['EchoTime', 'RepetitionTime'], header: 'Timing' }]).columns;
    assert.equal(columns[0]!.header, 'Timing');
    assert.equal(columnValue(sample(), columns[0]!), 2250);
  });

  test('headers default to the keyword (standard tags too), or to the tag for private ones', () => {
    const headers = template(['Rows', '00280011', { path: '(0019,xx0C)', creator: 'X' }]).columns.map((c) => c.header);
    assert.deepEqual(headers, ['Rows', 'Columns', '(0019,xx0C)']);
    assert.equal(template(['(0019,100C)']).columns[0]!.header, '(0019,100C)');
  });
});

describe('template errors name the file, the entry and the problem', () => {
  const rejects = (json: unknown, pattern: RegExp) =>
    assert.throws(
      () => parseTemplate(json, 'mr', '/home/me/.config/medvox/templates/mr.json'),
      (error: unknown) =>
        error instanceof MedvoxError &&
        error.code === 'TEMPLATE_INVALID' &&
        error.file === '/home/me/.config/medvox/templates/mr.json' &&
        pattern.test(error.message + (error.hint ?? '')),
    );

  test('an unknown keyword is named, with the nearest real one', () => {
    rejects(
      { columns: ['Rows', 'RepetitonTime'] },
      /columns\[1\]: unknown DICOM keyword "RepetitonTime".*RepetitionTime/,
    );
    rejects(
      { columns: [{ path: ['EchoTime', 'EchoTim'] }] },
      /columns\[0\]\.path\[1\]: unknown DICOM keyword "EchoTim"/,
    );
  });

  test('malformed entries and files', () => {
    rejects([], /a template is a JSON object/);
    rejects({ colums: [] }, /colums: unknown key/);
    rejects({ columns: [42] }, /columns\[0\]: a column is a keyword/);
    rejects({ columns: ['(0019,xx0C)'] }, /needs a "creator"/);
    rejects({ columns: ['Rows', 'Rows'] }, /duplicate column "Rows"/);
    rejects({ columns: ['Rows[0]'] }, /index is only allowed on a sequence/);
    rejects({ columns: [{ path: 'Rows', heading: 'x' }] }, /columns\[0\]\.heading: unknown key/);
  });

  test('path syntax', () => {
    assert.throws(() => parseAttributePath('Foo..Bar'), /empty segment/);
    assert.throws(() => parseAttributePath('(001,0010)'), /not a keyword/);
  });
});

test('modalities choose their template; DX, DR and CR share dx.json; others fall back to default.json', () => {
  const set = TemplateSet.build();
  assert.deepEqual(templateNamesFor('CR'), ['dx', 'default']);
  assert.equal(set.forModality('MR').name, 'mr');
  assert.equal(set.forModality('DR').name, 'dx');
  assert.equal(set.forModality('MG').name, 'mg');
  assert.equal(set.forModality('PT').name, 'default');
  assert.equal(set.forModality(undefined).name, 'default');
  assert.ok(
    set.forModality('MR').columns.some((column) => column.header === 'ImageType'),
    'mr.json includes ImageType',
  );
  const custom = TemplateSet.build([{ name: 'pt', source: 'pt.json', json: { columns: ['Units'] } }]);
  assert.deepEqual(
    custom.forModality('PT').columns.map((c) => c.header),
    ['Units'],
  );
});

test('cells: DA / DT / TM forms, impossible dates and binary values', () => {
  assert.deepEqual(parseDA('1999.12.31'), new Date(Date.UTC(1999, 11, 31)));
  assert.equal(parseDA('20230231'), undefined);
  assert.equal(parseDA('***'), undefined);
  assert.deepEqual(parseDT('2021'), new Date(Date.UTC(2021, 0, 1)));
  assert.deepEqual(parseDT('20210102030405+0100'), new Date(Date.UTC(2021, 0, 2, 3, 4, 5)));
  assert.equal(formatTM('0930'), '09:30:00');
  assert.equal(formatTM('12:00:01'), '12:00:01');
  const ds = new Dataset();
  ds.setStrings('StudyDate', '20230231').setBytes(0x00091001, Uint8Array.of(1, 2, 250, 4), 'OB');
  ds.setBytes(
    0x00091002,
    Uint8Array.from('GE text\0', (ch) => ch.charCodeAt(0)),
    'UN',
  );
  assert.equal(elementCell(ds.get(0x00080020), ds), '20230231', 'an impossible date stays the text it is');
  assert.equal(elementCell(ds.get(0x00091001), ds), '<4 bytes>');
  assert.equal(elementCell(ds.get(0x00091002), ds), 'GE text', 'private text sent as UN is shown as text');
});
