/**
 * Metadata downloads over real HTTP: corpus MR singles (35 files, many studies and vendors) and a CT + SEG study
 * imported into a temporary archive; the workbook of a study, of a search result and of a dataset read back by
 * openpyxl (three sheets, one DICOM_Metadata row per stored instance, compared with pydicom's reading of the corpus
 * files); csv (zip, one table) and json; unknown ids, empty selections and bad parameters answered with JSON error
 * codes while the server goes on; download file names that cannot become paths or headers.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { MedvoxError } from '../../src/core/errors.ts';
import { contentDisposition, downloadFileName } from '../../src/server/metadata-download.ts';
import { corpus, hasCorpus, inCI, python, requirePeers } from '../support/env.ts';
import { json, startTestServer, type TestServer } from '../support/server.ts';

const MR = corpus('mr', 'sequence_classifier_singles');
const CT = corpus('seg', 'dcmqi_liver_ct3', 'source_ct');
const SEG = corpus('seg', 'dcmqi_liver_ct3', 'seg');
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const scratch = mkdtempSync(join(tmpdir(), 'medvox-metadata-download-'));
let server: TestServer | undefined;

interface Study {
  studyInstanceUID: string;
  patientID: string;
  studyDate: string;
  modalities: string[];
  seriesCount: number;
  instanceCount: number;
}

before(async () => {
  if (!hasCorpus()) return;
  server = await startTestServer();
  const job = server.runner.submit('import', { inputs: [MR, CT, SEG] });
  const done = await server.runner.waitFor(job.id);
  assert.equal(done.state, 'done', JSON.stringify(done.error));
});
after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

type Cell = string | number | boolean | null;
/** Sheets as openpyxl reads them: title -> rows (header first). */
function readWorkbook(bytes: Uint8Array): Record<string, Cell[][]> {
  const path = join(scratch, `${Math.random().toString(36).slice(2)}.xlsx`);
  writeFileSync(path, bytes);
  return JSON.parse(
    python(
      `import json, sys, datetime, openpyxl
wb = openpyxl.load_workbook(sys.argv[1], read_only=True)
cell = lambda v: v.isoformat() if isinstance(v, (datetime.datetime, datetime.date)) else v
print(json.dumps({ws.title: [[cell(v) for v in row] for row in ws.iter_rows(values_only=True)] for ws in wb.worksheets}))`,
      [path],
    ),
  );
}

function column(sheet: Cell[][], header: string): Cell[] {
  const index = sheet[0]!.indexOf(header);
  assert.ok(index >= 0, `column ${header}`);
  return sheet.slice(1).map((row) => row[index] ?? null);
}

/** SOP Instance UIDs of the corpus files, by pydicom (the independent side). */
function pydicomInstances(folders: string[]): Array<{ sop: string; study: string; modality: string }> {
  return JSON.parse(
    python(
      `import json, os, sys, pydicom
out = []
for root in sys.argv[1:]:
    for folder, _, names in os.walk(root):
        for name in sorted(names):
            try:
                ds = pydicom.dcmread(os.path.join(folder, name), stop_before_pixels=True)
            except Exception:
                continue
            out.append({'sop': str(ds.SOPInstanceUID), 'study': str(ds.StudyInstanceUID), 'modality': str(ds.get('Modality', ''))})
print(json.dumps(out))`,
      folders,
    ),
  );
}

async function download(path: string, init?: RequestInit): Promise<{ response: Response; bytes: Uint8Array }> {
  const response = await fetch(`${server!.url}${path}`, init);
  return { response, bytes: new Uint8Array(await response.arrayBuffer()) };
}

async function studies(query = ''): Promise<Study[]> {
  return json<Study[]>(await fetch(`${server!.url}/api/studies${query}`));
}

async function studyInstances(uid: string): Promise<string[]> {
  const series = await json<Array<{ seriesInstanceUID: string }>>(
    await fetch(`${server!.url}/api/studies/${uid}/series`),
  );
  const out: string[] = [];
  for (const { seriesInstanceUID } of series) {
    const detail = await json<{ instances: Array<{ sopInstanceUID: string }> }>(
      await fetch(`${server!.url}/api/series/${seriesInstanceUID}`),
    );
    out.push(...detail.instances.map((instance) => instance.sopInstanceUID));
  }
  return out.sort();
}

function ready(t: import('node:test').TestContext): boolean {
  return requirePeers(t, '/usr/bin/python3') && server !== undefined;
}

describe('metadata downloads', () => {
  test('a study: the workbook has one DICOM_Metadata row per stored instance, one Series_Summary row per series', async (t) => {
    if (!ready(t)) return;
    const ct = (await studies()).find((study) => study.modalities.includes('CT'))!;
    const { response, bytes } = await download(`/api/studies/${ct.studyInstanceUID}/metadata.xlsx`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), XLSX);
    assert.equal(
      response.headers.get('content-disposition'),
      `attachment; filename="metadata-${ct.studyInstanceUID}.xlsx"`,
    );
    assert.equal(response.headers.get('content-length'), String(bytes.length));
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const workbook = readWorkbook(bytes);
    assert.deepEqual(Object.keys(workbook), ['DICOM_Metadata', 'Series_Summary'], 'no MR_Cleaned without MR');
    const metadata = workbook.DICOM_Metadata!;
    assert.equal(metadata.length - 1, ct.instanceCount);
    assert.deepEqual(column(metadata, 'SOPInstanceUID').sort(), await studyInstances(ct.studyInstanceUID));
    assert.deepEqual(new Set(column(metadata, 'StudyInstanceUID')), new Set([ct.studyInstanceUID]));
    assert.equal(workbook.Series_Summary!.length - 1, ct.seriesCount);
    assert.equal(
      column(workbook.Series_Summary!, 'Instances').reduce((sum: number, n) => sum + Number(n), 0),
      ct.instanceCount,
    );
    // The File column says where each instance is fetched from.
    const file = String(column(metadata, 'File')[0]);
    assert.match(file, /^\/api\/instances\/[\d.]+\/file$/);
    const instance = await fetch(`${server!.url}${file}`);
    assert.equal(instance.status, 200);
    assert.equal(instance.headers.get('content-type'), 'application/dicom');
    await instance.arrayBuffer();
    // The alias without extension and an explicit format give the same workbook.
    const again = await download(`/api/studies/${ct.studyInstanceUID}/metadata?format=xlsx`);
    assert.equal(again.response.headers.get('content-type'), XLSX);
    assert.deepEqual(readWorkbook(again.bytes).DICOM_Metadata, metadata);
  });

  test('a search result: the studies the list shows for the same search, every instance of them', async (t) => {
    if (!ready(t)) return;
    const shown = await studies('?modality=MR');
    assert.ok(shown.length > 10, `${shown.length} MR studies`);
    assert.ok(shown.every((study) => study.modalities.includes('MR')));
    const { response, bytes } = await download('/api/metadata.xlsx?modality=MR');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), XLSX);
    assert.equal(
      response.headers.get('content-disposition'),
      `attachment; filename="metadata-${shown.length}-studies.xlsx"`,
    );
    const workbook = readWorkbook(bytes);
    assert.deepEqual(Object.keys(workbook), ['DICOM_Metadata', 'Series_Summary', 'MR_Cleaned']);
    const metadata = workbook.DICOM_Metadata!;
    const expected = pydicomInstances([MR]).filter((instance) =>
      shown.some((study) => study.studyInstanceUID === instance.study),
    );
    assert.equal(metadata.length - 1, expected.length);
    assert.deepEqual(column(metadata, 'SOPInstanceUID').sort(), expected.map((instance) => instance.sop).sort());
    assert.equal(metadata.length - 1, Number(response.headers.get('x-medvox-instances')));
    assert.ok(workbook.MR_Cleaned!.length > 10, 'MR_Cleaned rows');
    assert.ok(column(workbook.MR_Cleaned!, 'sequenceClass').includes('T1'));

    // Patient (name or ID, any case) and the date range narrow it like the page does.
    const one = shown.find((study) => /^\d{8}$/.test(study.studyDate))!;
    const date = one.studyDate;
    const iso = `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6)}`;
    const query = `?patient=${encodeURIComponent(one.patientID.toLowerCase())}&from=${iso}&to=${iso}`;
    const narrowed = await studies(query);
    assert.ok(narrowed.some((study) => study.studyInstanceUID === one.studyInstanceUID));
    const small = await download(`/api/metadata.xlsx${query}`);
    assert.equal(small.response.status, 200);
    const rows = readWorkbook(small.bytes).DICOM_Metadata!;
    assert.equal(
      rows.length - 1,
      narrowed.reduce((sum, study) => sum + study.instanceCount, 0),
    );
  });

  test('a dataset: explicit studies and series, by GET or POST, each instance once', async (t) => {
    if (!ready(t)) return;
    const all = await studies();
    const ct = all.find((study) => study.modalities.includes('CT'))!;
    const mr = all.find((study) => study.modalities.includes('MR') && study.instanceCount > 1)!;
    const series = await json<Array<{ seriesInstanceUID: string; instanceCount: number }>>(
      await fetch(`${server!.url}/api/studies/${mr.studyInstanceUID}/series`),
    );
    const picked = series[0]!;
    const expected = [...(await studyInstances(ct.studyInstanceUID))];
    const get = await download(
      `/api/metadata.xlsx?study=${ct.studyInstanceUID}&series=${picked.seriesInstanceUID}&study=${ct.studyInstanceUID}`,
    );
    assert.equal(get.response.status, 200);
    assert.equal(
      get.response.headers.get('content-disposition'),
      'attachment; filename="metadata-dataset-2-studies.xlsx"',
    );
    const rows = readWorkbook(get.bytes).DICOM_Metadata!;
    assert.equal(rows.length - 1, ct.instanceCount + picked.instanceCount);
    for (const sop of expected) assert.ok(column(rows, 'SOPInstanceUID').includes(sop));

    const post = await download('/api/metadata', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // A series inside a listed study is not listed twice.
      body: JSON.stringify({ studies: [mr.studyInstanceUID], series: [picked.seriesInstanceUID], name: 'my dataset' }),
    });
    assert.equal(post.response.status, 200);
    assert.equal(post.response.headers.get('content-disposition'), 'attachment; filename="my_dataset.xlsx"');
    assert.equal(readWorkbook(post.bytes).DICOM_Metadata!.length - 1, mr.instanceCount);
  });

  test('csv (a zip of the three tables, or one table) and json', async (t) => {
    if (!ready(t)) return;
    const zip = await download('/api/metadata?format=csv&modality=MR');
    assert.equal(zip.response.status, 200);
    assert.equal(zip.response.headers.get('content-type'), 'application/zip');
    assert.match(zip.response.headers.get('content-disposition')!, /filename="metadata-\d+-studies-csv\.zip"$/);
    const path = join(scratch, 'tables.zip');
    writeFileSync(path, zip.bytes);
    const tables = JSON.parse(
      python(
        `import csv, io, json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps({n: list(csv.reader(io.StringIO(z.read(n).decode('utf-8-sig')))) for n in z.namelist()}))`,
        [path],
      ),
    ) as Record<string, string[][]>;
    assert.deepEqual(Object.keys(tables).sort(), ['DICOM_Metadata.csv', 'MR_Cleaned.csv', 'Series_Summary.csv']);
    const instances = Number(zip.response.headers.get('x-medvox-instances'));
    assert.equal(tables['DICOM_Metadata.csv']!.length - 1, instances);

    const one = await download('/api/metadata?format=csv&sheet=Series_Summary&modality=MR');
    assert.equal(one.response.headers.get('content-type'), 'text/csv; charset=utf-8');
    assert.match(one.response.headers.get('content-disposition')!, /-Series_Summary\.csv"$/);
    assert.equal(Buffer.from(one.bytes).toString('utf8'), `\ufeff${toCsv(tables['Series_Summary.csv']!)}`);

    const jsonDownload = await download('/api/metadata.xlsx?format=json&modality=MR');
    assert.equal(jsonDownload.response.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.match(jsonDownload.response.headers.get('content-disposition')!, /\.json"$/);
    const report = JSON.parse(Buffer.from(jsonDownload.bytes).toString('utf8')) as Record<
      string,
      { columns: string[]; rows: unknown[] }
    >;
    assert.deepEqual(Object.keys(report), ['DICOM_Metadata', 'Series_Summary', 'MR_Cleaned']);
    assert.equal(report.DICOM_Metadata!.rows.length, instances);
    assert.equal(report.Series_Summary!.rows.length, tables['Series_Summary.csv']!.length - 1);
  });

  test('unknown ids, empty selections and bad parameters: JSON errors with codes, and the server goes on', async (t) => {
    if (!ready(t)) return;
    const ct = (await studies('?modality=CT'))[0]!;
    const cases: Array<[string, number, string, RequestInit?]> = [
      ['/api/studies/1.2.3.999/metadata.xlsx', 404, 'NOT_FOUND'],
      ['/api/metadata.xlsx?study=1.2.3.999', 404, 'NOT_FOUND'],
      [`/api/metadata.xlsx?study=${ct.studyInstanceUID}&series=1.2.3.998`, 404, 'NOT_FOUND'],
      ['/api/metadata.xlsx?patient=nobody-has-this-name', 404, 'EMPTY_SELECTION'],
      ['/api/metadata.xlsx?from=2100-01-01', 404, 'EMPTY_SELECTION'],
      [`/api/studies/${ct.studyInstanceUID}/metadata.xlsx?format=pdf`, 400, 'BAD_REQUEST'],
      [`/api/studies/${ct.studyInstanceUID}/metadata.xlsx?format=xlsx&sheet=DICOM_Metadata`, 400, 'BAD_REQUEST'],
      [`/api/studies/${ct.studyInstanceUID}/metadata?format=csv&sheet=Other`, 400, 'BAD_REQUEST'],
      [`/api/studies/${ct.studyInstanceUID}/metadata?format=csv&sheet=MR_Cleaned`, 404, 'NOT_FOUND'],
      ['/api/metadata.xlsx?from=2020-13-45x', 400, 'BAD_REQUEST'],
      [`/api/metadata.xlsx?study=${ct.studyInstanceUID}&modality=CT`, 400, 'BAD_REQUEST'],
      [
        '/api/metadata',
        400,
        'BAD_REQUEST',
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
      ],
      [
        '/api/metadata',
        400,
        'BAD_REQUEST',
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1]' },
      ],
      [
        '/api/metadata',
        400,
        'BAD_REQUEST',
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"studies":[1]}' },
      ],
      [
        '/api/metadata',
        404,
        'NOT_FOUND',
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"series":["1.2.3.997"]}' },
      ],
    ];
    for (const [path, status, code, init] of cases) {
      const response = await fetch(`${server!.url}${path}`, init);
      assert.equal(response.status, status, path);
      assert.match(response.headers.get('content-type')!, /^application\/json/);
      const body = await json<{ error: { code: string; message: string } }>(response);
      assert.equal(body.error.code, code, `${path}: ${body.error.message}`);
    }
    assert.equal((await fetch(`${server!.url}/api/health`)).status, 200);
  });
});

test('medvox serve --templates / --mr-config: downloads use them; a broken template stops the start', async (t) => {
  if (!requirePeers(t, '/usr/bin/python3')) return;
  const config = join(scratch, 'config');
  mkdirSync(join(config, 'templates'), { recursive: true });
  writeFileSync(
    join(config, 'templates', 'ct.json'),
    JSON.stringify({ description: 'site CT', columns: [{ path: 'KVP', header: 'Tube voltage' }, 'SliceThickness'] }),
  );
  const rules = join(config, 'rules.json');
  writeFileSync(
    rules,
    JSON.stringify({ rules: [{ id: 'site-everything-is-t2', class: 'T2', pattern: '.', fields: ['ImageType'] }] }),
  );
  const empty = join(scratch, 'no-user-config');
  const custom = await startTestServer({ templates: join(config, 'templates'), mrConfig: rules, configDir: empty });
  try {
    const done = await custom.runner.waitFor(
      custom.runner.submit('import', { inputs: [CT, join(MR, 'ge_pioneer_t1_mprage.dcm')] }).id,
    );
    assert.equal(done.state, 'done');
    const answer = await fetch(`${custom.url}/api/metadata.xlsx`);
    assert.equal(answer.status, 200);
    const workbook = readWorkbook(new Uint8Array(await answer.arrayBuffer()));
    const header = workbook.DICOM_Metadata![0]!;
    assert.ok(header.includes('Tube voltage'), header.join(', '));
    assert.deepEqual(column(workbook.MR_Cleaned!, 'sequenceClassRule'), ['site-everything-is-t2']);
  } finally {
    await custom.stop();
  }
  writeFileSync(join(config, 'templates', 'mr.json'), JSON.stringify({ columns: ['SliceThicknes'] }));
  await assert.rejects(
    startTestServer({ templates: join(config, 'templates'), configDir: empty }),
    (error: MedvoxError) =>
      error.code === 'TEMPLATE_INVALID' && /mr\.json$/.test(error.file ?? '') && /SliceThicknes"/.test(error.message),
  );
});

test('download file names: no path, quote, control character or header break survives', () => {
  assert.deepEqual(downloadFileName('../../etc/passwd', 'xlsx'), {
    ascii: 'etc_passwd.xlsx',
    unicode: 'etc_passwd.xlsx',
  });
  assert.deepEqual(downloadFileName('a"b\r\nSet-Cookie: x=1', 'csv'), {
    ascii: 'a_b_Set-Cookie_x_1.csv',
    unicode: 'a_b_Set-Cookie_x_1.csv',
  });
  assert.deepEqual(downloadFileName('...', 'json'), { ascii: 'metadata.json', unicode: 'metadata.json' });
  assert.deepEqual(downloadFileName('CON', 'xlsx'), { ascii: 'metadata-CON.xlsx', unicode: 'metadata-CON.xlsx' });
  assert.equal(downloadFileName('x'.repeat(500), 'xlsx').ascii.length, 105);
  assert.equal(
    contentDisposition('Études Müller 東京', 'xlsx'),
    `attachment; filename="Etudes_Muller.xlsx"; filename*=UTF-8''${encodeURIComponent('Études_Müller_東京.xlsx')}`,
  );
  assert.equal(contentDisposition('plain-name', 'zip'), 'attachment; filename="plain-name.zip"');
  if (inCI) assert.ok(hasCorpus(), 'the corpus is needed in CI');
});

function toCsv(rows: string[][]): string {
  return rows
    .map((row) => row.map((value) => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value)).join(','))
    .map((line) => `${line}\r\n`)
    .join('');
}
