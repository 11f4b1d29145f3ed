/**
 * DICOMweb contract against a real Orthanc with its DICOMweb plugin (started here): the same corpus studies stored
 * in both answer the same QIDO-RS queries with the same matches and the same values of the required attributes;
 * WADO-RS returns byte-identical instances; STOW-RS into medvox (through the npm dicomweb-client) and QIDO finds
 * them. Queries go through dicomweb-client.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import XMLHttpRequest from 'xhr2';
import type { DicomJsonObject } from '../../src/core/dicom/json.ts';
import { readDicom } from '../../src/core/dicom/reader.ts';
import { corpus, hasCommand, hasCorpus, inCI, requirePeers } from '../support/env.ts';
import { json, startTestServer, type TestServer } from '../support/server.ts';

// dicomweb-client speaks XMLHttpRequest, which Node does not have.
(globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = XMLHttpRequest;
const { api } = await import('dicomweb-client');

const PEERS = '/work/shared/peers';
const peersDir = (): string => {
  const sibling = join(corpus(), '..', 'peers');
  return hasCorpus() ? sibling : PEERS;
};
const ORTHANC = '/usr/sbin/Orthanc';
const CT4 = corpus('ct', 'ge_lightspeed16_inconsistent_increment_4sl', 'dicom');
const LIVER_CT = corpus('seg', 'dcmqi_liver_ct3', 'source_ct');
const LIVER_SEG = corpus('seg', 'dcmqi_liver_ct3', 'seg', 'liver.dcm');

let medvox: TestServer | undefined;
let orthancPid: string | undefined;
let orthancUrl = '';
const work = mkdtempSync(join(tmpdir(), 'medvox-dicomweb-'));
const ready = hasCommand(ORTHANC) && hasCorpus();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

const files = (dir: string): string[] =>
  readdirSync(dir)
    .sort()
    .map((name) => join(dir, name));

before(async () => {
  if (!ready) return;
  const [dicomPort, httpPort] = [await freePort(), await freePort()];
  const out = execFileSync(
    'bash',
    [join(peersDir(), 'start-orthanc.sh'), join(work, 'orthanc'), String(dicomPort), String(httpPort)],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  orthancPid = out.trim().split('\n').at(-1);
  orthancUrl = `http://127.0.0.1:${httpPort}`;
  // Orthanc: REST upload (stores the bytes as sent). medvox: HTTP upload of the 4-slice CT, STOW-RS of the liver study.
  for (const path of [...files(CT4), ...files(LIVER_CT), LIVER_SEG]) {
    const response = await fetch(`${orthancUrl}/instances`, { method: 'POST', body: readFileSync(path) });
    assert.equal(response.status, 200, await response.text());
  }
  medvox = await startTestServer();
});

after(async () => {
  await medvox?.stop();
  if (orthancPid) execFileSync('bash', [join(peersDir(), 'stop-pid.sh'), orthancPid], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
});

/** The calls used here (the package's own typings require options it does not need). */
interface WebClient {
  searchForStudies(options?: { queryParams?: Record<string, string> }): Promise<unknown>;
  searchForSeries(options?: { studyInstanceUID?: string; queryParams?: Record<string, string> }): Promise<unknown>;
  searchForInstances(options?: {
    studyInstanceUID?: string;
    seriesInstanceUID?: string;
    queryParams?: Record<string, string>;
  }): Promise<unknown>;
  retrieveInstance(options: {
    studyInstanceUID: string;
    seriesInstanceUID: string;
    sopInstanceUID: string;
  }): Promise<unknown>;
  retrieveStudyMetadata(options: { studyInstanceUID: string }): Promise<unknown>;
  retrieveInstanceFrames(options: {
    studyInstanceUID: string;
    seriesInstanceUID: string;
    sopInstanceUID: string;
    frameNumbers: number[];
  }): Promise<unknown>;
  storeInstances(options: { datasets: ArrayBuffer[] }): Promise<unknown>;
}

function client(url: string): WebClient {
  return new api.DICOMwebClient({ url: `${url}/dicom-web`, verbose: false, singlepart: false }) as unknown as WebClient;
}

const REQUIRED: Record<string, string[]> = {
  study: ['0020000D', '00080020', '00080030', '00080050', '00100010', '00100020', '00201206', '00201208', '00080061'],
  series: ['0020000E', '00080060', '00200011', '00201209'],
  instance: ['00080018', '00080016', '00200013'],
};
const KEY: Record<string, string> = { study: '0020000D', series: '0020000E', instance: '00080018' };

function values(record: DicomJsonObject, tag: string): string[] {
  const list = (record[tag]?.Value ?? []).map((value) =>
    value !== null && typeof value === 'object'
      ? String((value as { Alphabetic?: string }).Alphabetic ?? '')
      : String(value),
  );
  return tag === '00080061' ? list.sort() : list;
}

function normalise(records: DicomJsonObject[], level: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  for (const record of records) {
    const key = values(record, KEY[level]!)[0]!;
    out[key] = Object.fromEntries(REQUIRED[level]!.map((tag) => [tag, values(record, tag)]));
  }
  return out;
}

test('STOW-RS into medvox (dicomweb-client), then QIDO-RS finds the stored instances', async (t) => {
  if (!requirePeers(t, ORTHANC)) return;
  const web = client(medvox!.url);
  const datasets = [...files(LIVER_CT), LIVER_SEG].map((path) => {
    const bytes = readFileSync(path);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  });
  await web.storeInstances({ datasets });
  // And the 4-slice CT by the upload API.
  const form = new FormData();
  for (const path of files(CT4)) form.append('files', new Blob([readFileSync(path)]), 'x.dcm');
  const accepted = await json<{ jobId: string }>(
    await fetch(`${medvox!.url}/api/uploads`, { method: 'POST', body: form }),
  );
  await medvox!.runner.waitFor(accepted.jobId);
  const found = (await web.searchForInstances({
    studyInstanceUID: '1.2.392.200103.20080913.113635.0.2009.6.22.21.43.10.22941.1',
  })) as DicomJsonObject[];
  assert.equal(found.length, 4);
});

test('QIDO-RS: the same queries match the same studies, series and instances as Orthanc, with the same values', async (t) => {
  if (!requirePeers(t, ORTHANC)) return;
  const ours = client(medvox!.url);
  const theirs = client(orthancUrl);
  const liver = '1.2.392.200103.20080913.113635.0.2009.6.22.21.43.10.22941.1';
  const ct4 = '1.2.826.0.1.3680043.8.498.172569766509356227417197751';
  const liverSeries = ((await theirs.searchForSeries({ studyInstanceUID: liver })) as DicomJsonObject[]).map(
    (record) => values(record, '0020000E')[0]!,
  );
  const queries: Array<{ level: 'study' | 'series' | 'instance'; run: (c: WebClient) => Promise<unknown> }> = [
    { level: 'study', run: (c) => c.searchForStudies() },
    { level: 'study', run: (c) => c.searchForStudies({ queryParams: { PatientID: 'dicom2nifti' } }) },
    { level: 'study', run: (c) => c.searchForStudies({ queryParams: { PatientName: 'JAN*' } }) },
    // (`?` wildcards are left out: Orthanc's DICOMweb plugin matches `?` literally; test/server/qido.test.ts has them.)
    { level: 'study', run: (c) => c.searchForStudies({ queryParams: { StudyDate: '20100101-' } }) },
    { level: 'study', run: (c) => c.searchForStudies({ queryParams: { StudyDate: '20030101-20031231' } }) },
    { level: 'study', run: (c) => c.searchForStudies({ queryParams: { ModalitiesInStudy: 'SEG' } }) },
    { level: 'study', run: (c) => c.searchForStudies({ queryParams: { StudyInstanceUID: `${liver},${ct4}` } }) },
    { level: 'study', run: (c) => c.searchForStudies({ queryParams: { PatientID: 'nobody' } }) },
    { level: 'series', run: (c) => c.searchForSeries({ studyInstanceUID: liver }) },
    { level: 'series', run: (c) => c.searchForSeries({ studyInstanceUID: liver, queryParams: { Modality: 'SEG' } }) },
    { level: 'series', run: (c) => c.searchForSeries({ queryParams: { Modality: 'CT' } }) },
    { level: 'instance', run: (c) => c.searchForInstances({ studyInstanceUID: ct4 }) },
    {
      level: 'instance',
      run: (c) => c.searchForInstances({ studyInstanceUID: liver, seriesInstanceUID: liverSeries[0]! }),
    },
    {
      level: 'instance',
      run: (c) => c.searchForInstances({ studyInstanceUID: ct4, queryParams: { InstanceNumber: '8' } }),
    },
  ];
  for (const [n, query] of queries.entries()) {
    const [mine, reference] = [(await query.run(ours)) ?? [], (await query.run(theirs)) ?? []] as DicomJsonObject[][];
    assert.deepEqual(normalise(mine!, query.level), normalise(reference!, query.level), `query ${n}`);
  }
  // limit / offset page through the same number of matches; includefield adds the attribute.
  const page = (await ours.searchForStudies({ queryParams: { limit: '1', offset: '1' } })) as DicomJsonObject[];
  assert.equal(page.length, 1);
  const included = (await ours.searchForStudies({
    queryParams: { StudyInstanceUID: liver, includefield: 'StudyDescription' },
  })) as DicomJsonObject[];
  const reference = (await theirs.searchForStudies({
    queryParams: { StudyInstanceUID: liver, includefield: 'StudyDescription' },
  })) as DicomJsonObject[];
  assert.deepEqual(values(included[0]!, '00081030'), values(reference[0]!, '00081030'));
});

test('WADO-RS: instances are byte-identical to Orthanc and to the uploaded files; metadata and frames answer', async (t) => {
  if (!requirePeers(t, ORTHANC)) return;
  const ours = client(medvox!.url);
  const theirs = client(orthancUrl);
  for (const path of [...files(CT4), LIVER_SEG]) {
    const bytes = readFileSync(path);
    const { dataset } = readDicom(new Uint8Array(bytes));
    const ids = {
      studyInstanceUID: dataset.string('StudyInstanceUID')!,
      seriesInstanceUID: dataset.string('SeriesInstanceUID')!,
      sopInstanceUID: dataset.string('SOPInstanceUID')!,
    };
    const mine = Buffer.from((await ours.retrieveInstance(ids)) as ArrayBuffer);
    const reference = Buffer.from((await theirs.retrieveInstance(ids)) as ArrayBuffer);
    assert.ok(mine.equals(bytes), `${path}: medvox returns the stored bytes`);
    assert.ok(mine.equals(reference), `${path}: same bytes as Orthanc`);
  }
  const ct4 = '1.2.826.0.1.3680043.8.498.172569766509356227417197751';
  const metadata = (await ours.retrieveStudyMetadata({ studyInstanceUID: ct4 })) as DicomJsonObject[];
  assert.equal(metadata.length, 4);
  assert.equal(values(metadata[0]!, '00280010')[0], '512');
  const first = metadata[0]!;
  const frames = (await ours.retrieveInstanceFrames({
    studyInstanceUID: ct4,
    seriesInstanceUID: values(first, '0020000E')[0]!,
    sopInstanceUID: values(first, '00080018')[0]!,
    frameNumbers: [1],
  })) as ArrayBuffer[];
  assert.equal(frames[0]!.byteLength, 512 * 512 * 2);
  const rendered = await fetch(
    `${medvox!.url}/dicom-web/studies/${ct4}/series/${values(first, '0020000E')[0]}/instances/${values(first, '00080018')[0]}/rendered`,
  );
  assert.equal(rendered.headers.get('content-type'), 'image/png');
});

test('peers are installed in CI', () => {
  if (inCI) assert.ok(ready, 'Orthanc with the DICOMweb plugin and the corpus are required in CI');
});
