/** Report outputs read back by independent readers: openpyxl for .xlsx, Python's csv and json modules. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createReportSink } from '../../src/io/report-sink.ts';
import { hasCommand, python, requirePeers } from '../support/env.ts';

const OPENPYXL_DUMP = `
import json, sys, datetime
import openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
out = {}
for ws in wb.worksheets:
    def cell(v):
        if isinstance(v, datetime.datetime): return {'date': v.isoformat()}
        return v
    out[ws.title] = {
        'rows': [[cell(v) for v in row] for row in ws.iter_rows(values_only=True)],
        'types': [[type(v).__name__ for v in row] for row in ws.iter_rows(values_only=True)],
        'freeze': ws.freeze_panes, 'filter': ws.auto_filter.ref,
        'bold': [c.font.b for c in ws[1]] if ws.max_row >= 1 else [],
    }
print(json.dumps(out))
`;

async function writeSample(format: 'xlsx' | 'csv' | 'json', output: string): Promise<void> {
  const sink = await createReportSink(format, output);
  const table = sink.table('DICOM_Metadata');
  table.setColumns(['File', 'Rows']);
  await table.addRow(['a.dcm', 512]);
  // A new modality brings new columns while rows stream in: earlier rows leave them empty.
  table.setColumns(['File', 'Rows', 'StudyDate', 'Note']);
  await table.addRow(['b<&>"c".dcm', 1.5, new Date(Date.UTC(2024, 1, 29)), 'x,y\n"z"\u0001']);
  await table.addRow(['c.dcm', null, new Date(Date.UTC(2024, 1, 29, 13, 45, 1)), true]);
  sink.table('Empty');
  assert.throws(() => table.setColumns(['Rows']), /columns may only be appended/);
  await sink.close();
}

test('xlsx: typed cells, bold frozen header, autofilter, escaped text, columns added mid-stream', async (t) => {
  if (!requirePeers(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'medvox-sink-'));
  try {
    const path = join(dir, 'out.xlsx');
    await writeSample('xlsx', path);
    assert.deepEqual(readdirSync(dir), ['out.xlsx'], 'no temporary file left beside the output');
    const book = JSON.parse(python(OPENPYXL_DUMP, [path]));
    assert.deepEqual(Object.keys(book), ['DICOM_Metadata', 'Empty']);
    const sheet = book.DICOM_Metadata;
    assert.deepEqual(sheet.rows, [
      ['File', 'Rows', 'StudyDate', 'Note'],
      ['a.dcm', 512, null, null],
      ['b<&>"c".dcm', 1.5, { date: '2024-02-29T00:00:00' }, 'x,y\n"z"'],
      ['c.dcm', null, { date: '2024-02-29T13:45:01' }, true],
    ]);
    assert.deepEqual(sheet.types[1], ['str', 'int', 'NoneType', 'NoneType']);
    assert.equal(sheet.freeze, 'A2');
    assert.equal(sheet.filter, 'A1:D4');
    assert.deepEqual(sheet.bold, [true, true, true, true]);
    assert.deepEqual(book.Empty.rows, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('xlsx: LibreOffice converts the workbook without error (when installed)', async (t) => {
  if (!hasCommand('soffice')) return t.skip('LibreOffice is not installed (optional peer)');
  const dir = mkdtempSync(join(tmpdir(), 'medvox-sink-'));
  try {
    const path = join(dir, 'out.xlsx');
    await writeSample('xlsx', path);
    const profile = join(dir, 'profile');
    const { execFileSync } = await import('node:child_process');
    execFileSync(
      'soffice',
      [`-env:UserInstallation=file://${profile}`, '--headless', '--convert-to', 'csv', '--outdir', dir, path],
      { stdio: 'pipe', timeout: 120_000 },
    );
    assert.ok(existsSync(join(dir, 'out.csv')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('csv: one RFC 4180 file per table with its header; json: columns and rows per table', async (t) => {
  if (!requirePeers(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'medvox-sink-'));
  try {
    await writeSample('csv', join(dir, 'csv'));
    const rows = JSON.parse(
      python(
        `import csv, json, sys
with open(sys.argv[1], newline='', encoding='utf-8-sig') as f: print(json.dumps(list(csv.reader(f))))`,
        [join(dir, 'csv', 'DICOM_Metadata.csv')],
      ),
    );
    assert.deepEqual(rows, [
      ['File', 'Rows', 'StudyDate', 'Note'],
      ['a.dcm', '512'],
      ['b<&>"c".dcm', '1.5', '2024-02-29', 'x,y\n"z"\u0001'],
      ['c.dcm', '', '2024-02-29T13:45:01', 'true'],
    ]);
    assert.ok(existsSync(join(dir, 'csv', 'Empty.csv')));
    await writeSample('json', join(dir, 'out.json'));
    const json = JSON.parse(
      python('import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))', [join(dir, 'out.json')]),
    );
    assert.deepEqual(json.DICOM_Metadata.columns, ['File', 'Rows', 'StudyDate', 'Note']);
    assert.deepEqual(json.DICOM_Metadata.rows[2], { File: 'c.dcm', StudyDate: '2024-02-29T13:45:01', Note: true });
    assert.deepEqual(json.Empty, { columns: [], rows: [] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
