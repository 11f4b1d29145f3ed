import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Dataset } from '../../../src/core/dicom/model.ts';
import { expandPattern, sanitiseName, UniqueNames } from '../../../src/core/sidecar/naming.ts';

test('pattern expands series number and description, sanitised', () => {
  const ds = new Dataset()
    .setStrings('SeriesNumber', '3', 'IS')
    .setStrings('SeriesDescription', 'EPI PE=AP / run 1')
    .setStrings('PatientName', 'Doe^Jane');
  assert.equal(expandPattern('%s_%d', ds), '3_EPI_PE_AP_run_1');
  assert.equal(expandPattern('%n-%s-%%-%y', ds), 'Doe_Jane-3-_-_y');
});

test('empty or hostile names never escape the output folder', () => {
  assert.equal(sanitiseName('../../etc/passwd'), 'etc_passwd');
  assert.equal(sanitiseName(''), 'medvox');
  assert.equal(sanitiseName('Überschrift'), 'Uberschrift');
});

test('unique names get numeric suffixes, case-insensitively', () => {
  const names = new UniqueNames(['a']);
  assert.equal(names.take('A'), 'A_2');
  assert.equal(names.take('b'), 'b');
  assert.equal(names.take('b'), 'b_2');
  assert.equal(names.take('b'), 'b_3');
});
