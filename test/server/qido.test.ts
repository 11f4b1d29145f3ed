import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DicomJsonObject } from '../../src/core/dicom/json.ts';
import { answerQido, matchesFilter, parseQido } from '../../src/server/qido.ts';

const study: DicomJsonObject = {
  '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] },
  '00100020': { vr: 'LO', Value: ['PID-42'] },
  '00080020': { vr: 'DA', Value: ['20240315'] },
  '00080030': { vr: 'TM', Value: ['101500.25'] },
  '00080061': { vr: 'CS', Value: ['CT', 'SEG'] },
  '0020000D': { vr: 'UI', Value: ['1.2.3.4'] },
};

test('QIDO matching: single value, wildcards * and ?, PN case-insensitive, UID lists, date and time ranges, multi-valued', () => {
  const match = (key: string, value: string) => matchesFilter(study, parseQido({ [key]: value }).filters[0]!);
  assert.ok(match('PatientID', 'PID-42'));
  assert.ok(!match('PatientID', 'PID-4'));
  assert.ok(match('PatientID', 'PID-?2'));
  assert.ok(match('PatientID', '*42'));
  assert.ok(match('PatientName', 'doe^jane'));
  assert.ok(match('PatientName', 'DOE*'));
  assert.ok(!match('PatientName', 'Smith*'));
  assert.ok(match('StudyInstanceUID', '9.9,1.2.3.4'));
  assert.ok(match('0020000D', '9.9\\1.2.3.4'));
  assert.ok(!match('StudyInstanceUID', '1.2.3'));
  assert.ok(match('StudyDate', '20240101-20241231'));
  assert.ok(match('StudyDate', '-20240315'));
  assert.ok(match('StudyDate', '20240315-'));
  assert.ok(!match('StudyDate', '20240316-'));
  assert.ok(match('StudyTime', '1000-1100'));
  assert.ok(match('ModalitiesInStudy', 'SEG'));
  assert.ok(match('ModalitiesInStudy', 'MR\\CT'));
  assert.ok(match('AccessionNumber', ''), 'an empty value is a universal match');
  assert.ok(!match('AccessionNumber', 'A1'), 'a missing attribute matches no value');
});

test('QIDO answers: default fields, includefield, limit and offset; unknown keywords are BAD_REQUEST', () => {
  const records = [study, { ...study, '0020000D': { vr: 'UI', Value: ['5.6'] } } as DicomJsonObject];
  const answer = answerQido(records, parseQido({ limit: '1', offset: '1', includefield: 'PatientAge' }), 'study');
  assert.equal(answer.length, 1);
  assert.deepEqual(answer[0]!['0020000D']!.Value, ['5.6']);
  assert.equal(answerQido(records, parseQido({ includefield: 'all' }), 'study')[0], study);
  assert.throws(() => parseQido({ NotAKeyword: 'x' }), { code: 'BAD_REQUEST' });
  assert.throws(() => parseQido({ limit: '-1' }), { code: 'BAD_REQUEST' });
});
