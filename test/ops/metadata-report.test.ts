/**
 * The metadata report end to end: the workbook read back by openpyxl and checked against pydicom's reading of the
 * same files; templates edited on disk; bad templates, rules and files; 10,000 instances in bounded memory.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Dataset } from '../../src/core/dicom/model.ts';
import { writeDicom } from '../../src/core/dicom/writer.ts';
import { MedvoxError } from '../../src/core/errors.ts';
import { IDENTIFIER_COLUMNS } from '../../src/core/metadata/instance-rows.ts';
import { MR_CLEANED_COLUMNS } from '../../src/core/metadata/mr-series.ts';
import { SERIES_SUMMARY_COLUMNS } from '../../src/core/metadata/series-summary.ts';
import { BUILT_IN_TEMPLATES } from '../../src/core/metadata/template.ts';
import { makePhantomSeries } from '../../src/core/phantom/index.ts';
import { loadMrConfigFile, loadTemplates } from '../../src/io/metadata-config.ts';
import { metadataReport } from '../../src/ops/metadata-report.ts';
import { corpus, projectRoot, python, requirePeers } from '../support/env.ts';

const work = mkdtempSync(join(tmpdir(), 'medvox-metadata-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** The workbook as openpyxl reads it: per sheet, the header and the rows (dates as ISO text, types kept). */
const READ_WORKBOOK = `
import json, sys, datetime
import openpyxl
wb = openpyxl.load_workbook(sys.argv[1], read_only=True)
def cell(v):
    return {'date': v.isoformat()} if isinstance(v, datetime.datetime) else v
print(json.dumps({ws.title: [[cell(v) for v in row] for row in ws.iter_rows(values_only=True)] for ws in wb.worksheets}))
`;
type Cell = string | number | boolean | null | { date: string };
function readWorkbook(path: string): Record<string, Cell[][]> {
  return JSON.parse(python(READ_WORKBOOK, [path]));
}
function column(sheet: Cell[][], header: string): Cell[] {
  const index = sheet[0]!.indexOf(header);
  assert.ok(index >= 0, `column ${header} in ${sheet[0]!.join(', ')}`);
  return sheet.slice(1).map((row) => row[index] ?? null);
}

/** What pydicom reads from every DICOM file below the folders (the independent side of the comparison). */
const READ_INSTANCES = `
import json, os, sys
import pydicom
out = []
for root in sys.argv[1:]:
    for folder, _, names in os.walk(root):
        for name in sorted(names):
            path = os.path.join(folder, name)
            try:
                ds = pydicom.dcmread(path, stop_before_pixels=True)
            except Exception:
                continue
            if 'SOPClassUID' in ds and ds.SOPClassUID == '1.2.840.10008.1.3.10':
                continue
            tr = ds.get('RepetitionTime')
            out.append({'path': path, 'sop': str(ds.get('SOPInstanceUID', '')), 'series': str(ds.get('SeriesInstanceUID', '')),
                        'modality': str(ds.get('Modality', '')), 'tr': float(tr) if tr not in (None, '') else None,
                        'rows': int(ds.Rows) if 'Rows' in ds else None})
print(json.dumps(out))
`;
interface PydicomInstance {
  path: string;
  sop: string;
  series: string;
  modality: string;
  tr: number | null;
  rows: number | null;
}

describe('the workbook of real files, read back by openpyxl', () => {
  const inputs = () => [
    corpus('mr', 'sequence_classifier_singles'),
    corpus('mr', 'siemens_xa30_enhanced'),
    corpus('ct', 'ge_lightspeed16_inconsistent_increment_4sl'),
    corpus('dx_cr'),
  ];

  test('three sheets, the right columns, one DICOM_Metadata row per instance, numbers as numbers', async (t) => {
    if (!requirePeers(t)) return;
    const output = join(work, 'corpus.xlsx');
    const result = await metadataReport({ inputs: inputs(), output });
    const expected = JSON.parse(python(READ_INSTANCES, inputs())) as PydicomInstance[];
    const book = readWorkbook(output);
    assert.deepEqual(Object.keys(book), ['DICOM_Metadata', 'Series_Summary', 'MR_Cleaned']);

    const metadata = book.DICOM_Metadata!;
    assert.equal(metadata.length - 1, expected.length, 'one row per instance pydicom reads');
    assert.equal(result.instances, expected.length);
    const header = metadata[0] as string[];
    assert.deepEqual(header.slice(0, IDENTIFIER_COLUMNS.length), [...IDENTIFIER_COLUMNS]);
    const templateHeaders = (name: string) =>
      (BUILT_IN_TEMPLATES[name] as { columns: Array<string | { header: string }> }).columns.map((c) =>
        typeof c === 'string' ? c : c.header,
      );
    for (const name of ['mr', 'ct', 'dx', 'default'])
      for (const h of templateHeaders(name)) assert.ok(header.includes(h), `${name}.json column ${h}`);
    assert.ok(header.includes('ImageType'));

    // Every row is an instance pydicom found, with its values; numbers are numbers.
    const byPath = new Map(expected.map((instance) => [instance.path, instance]));
    const files = column(metadata, 'File');
    const sops = column(metadata, 'SOPInstanceUID');
    const trs = column(metadata, 'RepetitionTime');
    const rows = column(metadata, 'Rows');
    const templates = column(metadata, 'Template');
    files.forEach((file, i) => {
      const instance = byPath.get(file as string);
      assert.ok(instance, `row ${i + 2}: ${file} is an instance pydicom reads`);
      if (instance.sop) assert.equal(sops[i], instance.sop);
      if (instance.tr !== null) assert.equal(trs[i], instance.tr, `${file} RepetitionTime`);
      if (instance.rows !== null) assert.equal(rows[i], instance.rows);
      const expectedTemplate = { MR: 'mr', CT: 'ct', DX: 'dx', CR: 'dx' }[instance.modality] ?? 'default';
      assert.equal(templates[i], expectedTemplate, `${file} template`);
    });
    assert.ok(trs.some((value) => typeof value === 'number'));
    assert.ok(
      column(metadata, 'StudyDate').some((value) => typeof value === 'object' && value !== null && 'date' in value),
      'dates are dates',
    );

    const series = book.Series_Summary!;
    assert.deepEqual(series[0], [...SERIES_SUMMARY_COLUMNS]);
    assert.equal(series.length - 1, new Set(expected.map((instance) => instance.series)).size);
    const instanceCounts = column(series, 'Instances') as number[];
    assert.equal(
      instanceCounts.reduce((a, b) => a + b, 0),
      expected.length,
    );
    const ctRow = series.slice(1).find((row) => row[series[0]!.indexOf('Modality')] === 'CT')!;
    assert.equal(ctRow[series[0]!.indexOf('Instances')], 4);
    assert.equal(ctRow[series[0]!.indexOf('Orientation')], 'AX');
    assert.equal(typeof ctRow[series[0]!.indexOf('SliceSpacing')], 'number');

    const mr = book.MR_Cleaned!;
    assert.deepEqual(mr[0], [...MR_CLEANED_COLUMNS]);
    const classes = column(mr, 'sequenceClass');
    for (const value of classes) assert.equal(typeof value, 'string');
    assert.ok(classes.includes('T1') && classes.includes('DWI') && classes.includes('field map'));
    assert.ok(column(mr, 'sequenceClassReason').every((reason) => typeof reason === 'string' && reason.length > 0));
    const pd = mr.slice(1).filter((row) => row[mr[0]!.indexOf('SeriesDescription')] === 'pd+t2_tse_sag_ISO_1.8mm');
    assert.deepEqual(
      pd.map((row) => [row[mr[0]!.indexOf('EchoNumbers')], row[mr[0]!.indexOf('sequenceClass')]]),
      [
        ['1', 'PD'],
        ['2', 'T2'],
      ],
      'the echoes of a dual-echo series are two rows when they are two contrasts',
    );
  });

  test('--study keeps one study; csv and json carry the same tables', async (t) => {
    if (!requirePeers(t)) return;
    const folder = corpus('ct', 'ge_lightspeed16_inconsistent_increment_4sl');
    const study = python(
      'import pydicom,sys,os; d=sys.argv[1]; print(pydicom.dcmread(os.path.join(d, sorted(os.listdir(d))[0])).StudyInstanceUID)',
      [join(folder, 'dicom')],
    ).trim();
    const output = join(work, 'study.json');
    const result = await metadataReport({ inputs: inputs(), output, studyInstanceUID: study });
    assert.equal(result.instances, 4);
    assert.ok(result.filteredOut > 30);
    const json = JSON.parse(readFileSync(output, 'utf8'));
    assert.deepEqual(Object.keys(json), ['DICOM_Metadata', 'Series_Summary']);
    assert.equal(json.DICOM_Metadata.rows.length, 4);
    assert.ok(json.DICOM_Metadata.rows.every((row: Record<string, unknown>) => row.StudyInstanceUID === study));
    const csv = await metadataReport({ inputs: [folder], output: join(work, 'csv'), format: 'csv' });
    assert.deepEqual(
      csv.outputs.map((path) => path.split('/').pop()),
      ['DICOM_Metadata.csv', 'Series_Summary.csv'],
    );
    assert.equal(readFileSync(csv.outputs[0]!, 'utf8').trim().split('\r\n').length, 5);
  });
});

describe('templates and rules edited on disk change the report without code changes', () => {
  test('a private tag added to mr.json appears with its value; a removed column disappears', async (t) => {
    if (!requirePeers(t)) return;
    const dir = join(work, 'templates');
    mkdirSync(dir, { recursive: true });
    const mr = structuredClone(BUILT_IN_TEMPLATES.mr) as { columns: unknown[] };
    mr.columns = mr.columns.filter((column) => column !== 'ProtocolName');
    mr.columns.push({ path: '(0051,xx0A)', creator: 'SIEMENS MR HEADER', header: 'SiemensAcquisitionDuration' });
    writeFileSync(join(dir, 'mr.json'), JSON.stringify(mr, null, 2));
    const file = corpus('mr', 'sequence_classifier_singles', 'siemens_prisma_t1_mprage.dcm');
    const before = readWorkbook(
      (await metadataReport({ inputs: [file], output: join(work, 'before.xlsx') })).outputs[0]!,
    );
    const edited = await metadataReport({
      inputs: [file],
      output: join(work, 'after.xlsx'),
      templates: await loadTemplates([{ dir, required: true }]),
    });
    assert.deepEqual(edited.templates, [join(dir, 'mr.json')]);
    const after = readWorkbook(edited.outputs[0]!);
    const expected = python(
      "import pydicom,sys; print(pydicom.dcmread(sys.argv[1]).private_block(0x0051, 'SIEMENS MR HEADER')[0x0A].value)",
      [file],
    ).trim();
    assert.ok(before.DICOM_Metadata![0]!.includes('ProtocolName'));
    assert.ok(!before.DICOM_Metadata![0]!.includes('SiemensAcquisitionDuration'));
    assert.ok(!after.DICOM_Metadata![0]!.includes('ProtocolName'));
    assert.deepEqual(column(after.DICOM_Metadata!, 'SiemensAcquisitionDuration'), [expected]);
    assert.equal(expected, 'TA 06:15');
  });

  test('an unknown keyword in a template file is an error naming the keyword and the file', async () => {
    const dir = join(work, 'bad-templates');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'ct.json'), JSON.stringify({ columns: ['KVP', 'SliceThicknes'] }));
    await assert.rejects(loadTemplates([{ dir, required: true }]), (error: unknown) => {
      assert.ok(error instanceof MedvoxError);
      assert.equal(error.code, 'TEMPLATE_INVALID');
      assert.equal(error.file, join(dir, 'ct.json'));
      assert.match(
        error.describe(),
        /columns\[1\]: unknown DICOM keyword "SliceThicknes" \(did you mean SliceThickness\?\)/,
      );
      return true;
    });
    writeFileSync(join(dir, 'ct.json'), '{ "columns": [ "KVP", ] }');
    await assert.rejects(loadTemplates([{ dir, required: true }]), {
      code: 'TEMPLATE_INVALID',
      file: join(dir, 'ct.json'),
    });
  });

  test('a malformed rules file is an error with the JSON path; an edited rule changes MR_Cleaned', async (t) => {
    const rules = structuredClone((await import('../../src/core/metadata/mr-config.ts')).DEFAULT_MR_CONFIG_JSON) as {
      rules: Array<Record<string, unknown>>;
    };
    rules.rules[3]!.pattern = 7;
    const bad = join(work, 'bad_rules.json');
    writeFileSync(bad, JSON.stringify(rules));
    await assert.rejects(loadMrConfigFile(bad), (error: unknown) => {
      assert.ok(error instanceof MedvoxError);
      assert.equal(error.code, 'RULES_INVALID');
      assert.equal(error.describe().split(' (')[0], `RULES_INVALID: ${bad}: rules[3].pattern: not a string`);
      return true;
    });
    writeFileSync(bad, '{ "rules": [ }');
    await assert.rejects(loadMrConfigFile(bad), { code: 'RULES_INVALID', file: bad });
    if (!requirePeers(t)) return;
    const mine = join(work, 'my_rules.json');
    writeFileSync(mine, JSON.stringify({ rules: [{ id: 'site-dti', class: 'other', pattern: 'dti' }] }));
    const result = await metadataReport({
      inputs: [corpus('mr', 'sequence_classifier_singles', 'canon_galan_dti_ortho.dcm')],
      output: join(work, 'rules.xlsx'),
      mrConfig: await loadMrConfigFile(mine),
    });
    const book = readWorkbook(result.outputs[0]!);
    assert.deepEqual(column(book.MR_Cleaned!, 'sequenceClass'), ['other']);
    assert.deepEqual(column(book.MR_Cleaned!, 'sequenceClassRule'), ['site-dti']);
  });
});

describe('bad input', () => {
  test('missing and odd values give empty or text cells; bad files are listed and the rest goes on', async (t) => {
    if (!requirePeers(t)) return;
    const dir = join(work, 'odd');
    mkdirSync(dir, { recursive: true });
    const [good] = makePhantomSeries({ modality: 'MR', slices: 1, rows: 8, columns: 8, seed: 'odd' });
    const odd = good!.dataset;
    odd.setStrings('RepetitionTime', 'abc').setStrings('EchoTime', '').setStrings('StudyDate', '20231345');
    odd.setStrings('ImageOrientationPatient', ['1', 'x']).setStrings('MagneticFieldStrength', '-');
    odd.delete(0x0020000e);
    odd.setItems('ReferencedImageSequence', [new Dataset()]);
    writeFileSync(join(dir, 'odd.dcm'), writeDicom(good!));
    // An MR object with no image attributes at all (only what a header needs).
    const bare = new Dataset().setStrings('Modality', 'MR').setStrings('SOPInstanceUID', '1.2.3.4');
    writeFileSync(
      join(dir, 'bare.dcm'),
      writeDicom({ meta: new Dataset(), dataset: bare, transferSyntaxUID: '1.2.840.10008.1.2.1', hasPreamble: true }),
    );
    writeFileSync(join(dir, 'notes.txt'), 'not DICOM at all');
    const whole = writeDicom(makePhantomSeries({ modality: 'CT', slices: 1, rows: 8, columns: 8, seed: 'cut' })[0]!);
    writeFileSync(join(dir, 'truncated.dcm'), whole.subarray(0, 300));
    cpSync(corpus('malformed', 'synthetic', 'bad_ds_value_ipp.dcm'), join(dir, 'bad_ds.dcm'));

    const result = await metadataReport({ inputs: [dir], output: join(work, 'odd.xlsx') });
    assert.equal(result.instances, 3);
    assert.deepEqual(result.notDicom, [join(dir, 'notes.txt')]);
    assert.deepEqual(
      result.errors.map((error) => [error.code, error.file]),
      [['TRUNCATED', join(dir, 'truncated.dcm')]],
    );
    const book = readWorkbook(result.outputs[0]!);
    const metadata = book.DICOM_Metadata!;
    const row = (name: string) => metadata.slice(1).find((r) => r[0] === join(dir, name))!;
    const at = (name: string, header: string) => row(name)[metadata[0]!.indexOf(header)] ?? null;
    assert.equal(at('odd.dcm', 'RepetitionTime'), 'abc');
    assert.equal(at('odd.dcm', 'EchoTime'), null);
    assert.equal(at('odd.dcm', 'StudyDate'), '20231345');
    assert.equal(at('odd.dcm', 'SeriesInstanceUID'), null);
    assert.equal(at('bare.dcm', 'Rows'), null);
    assert.equal(at('bare.dcm', 'SOPInstanceUID'), '1.2.3.4');
    const mr = book.MR_Cleaned!;
    assert.equal(mr.length - 1, 2);
    assert.ok(column(mr, 'sequenceClass').every((value) => value === 'unknown'));
    assert.ok(column(mr, 'standardOrientation').every((value) => value === null));
  });

  test('10,000 instances stream through bounded memory', { timeout: 600_000 }, async (t) => {
    if (!requirePeers(t)) return;
    const dir = join(work, 'many');
    mkdirSync(dir, { recursive: true });
    // One small header written 10,000 times with its own UIDs: 20 series of 500.
    const [template] = makePhantomSeries({ modality: 'MR', slices: 1, rows: 4, columns: 4, seed: 'many' });
    const ds = template!.dataset;
    for (let i = 0; i < 10_000; i++) {
      ds.setStrings('SeriesInstanceUID', `1.2.826.0.1.3680043.10.511.2.${Math.floor(i / 500)}`);
      ds.setStrings('SOPInstanceUID', `1.2.826.0.1.3680043.10.511.3.${i}`);
      ds.setStrings('InstanceNumber', String((i % 500) + 1));
      writeFileSync(join(dir, `IM${String(i).padStart(5, '0')}.dcm`), writeDicom(template!));
    }
    // A child process with a 64 MiB heap: keeping the parsed datasets (~15 KB each) would need ~150 MB.
    const output = join(work, 'many.xlsx');
    const script = `const { metadataReport } = await import(${JSON.stringify(join(projectRoot, 'src', 'ops', 'metadata-report.ts'))});
const r = await metadataReport({ inputs: [process.argv[1]], output: process.argv[2] });
process.stdout.write(JSON.stringify({ instances: r.instances, series: r.series, heap: process.memoryUsage().heapUsed }));`;
    const child = spawnSync(
      process.execPath,
      ['--max-old-space-size=64', '--import', 'tsx', '--input-type=module', '-e', script, dir, output],
      {
        cwd: projectRoot,
        encoding: 'utf8',
      },
    );
    assert.equal(child.status, 0, child.stderr);
    const summary = JSON.parse(child.stdout);
    assert.equal(summary.instances, 10_000);
    assert.equal(summary.series, 20);
    const counts = JSON.parse(
      python(
        `import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1], read_only=True)
print(json.dumps({ws.title: sum(1 for _ in ws.iter_rows()) for ws in wb.worksheets}))`,
        [output],
      ),
    );
    assert.deepEqual(counts, { DICOM_Metadata: 10_001, Series_Summary: 21, MR_Cleaned: 21 });
    assert.deepEqual(
      readdirSync(work).filter((name) => name.includes('.tmp-')),
      [],
    );
  });
});

test('medvox metadata: usage errors and --init-config', (t) => {
  if (!requirePeers(t)) return;
  const cli = join(projectRoot, 'bin', 'medvox.js');
  const missing = spawnSync(process.execPath, [cli, 'metadata'], { encoding: 'utf8' });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /USAGE: --input is required/);
  const config = join(work, 'config');
  const listed = execFileSync(process.execPath, [cli, 'metadata', '--init-config', config], { encoding: 'utf8' });
  assert.deepEqual(readdirSync(join(config, 'templates')).sort(), [
    'ct.json',
    'default.json',
    'dx.json',
    'mg.json',
    'mr.json',
  ]);
  assert.match(listed, /mr_clean_config\.json/);
  // The written files are what the built-ins are: a report with them equals the default report.
  const input = corpus('mr', 'sequence_classifier_singles', 'ge_pioneer_dwi.dcm');
  const run = spawnSync(
    process.execPath,
    [
      cli,
      'metadata',
      '--input',
      input,
      '--output',
      join(work, 'cli.xlsx'),
      '--templates',
      join(config, 'templates'),
      '--mr-config',
      join(config, 'mr_clean_config.json'),
    ],
    { encoding: 'utf8', env: { ...process.env, MEDVOX_CONFIG_DIR: join(work, 'no-config') } },
  );
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /1 instances, 1 series, 1 MR_Cleaned rows/);
  const book = readWorkbook(join(work, 'cli.xlsx'));
  assert.deepEqual(column(book.MR_Cleaned!, 'sequenceClass'), ['DWI']);
});
