/**
 * `npm run bench:server`, medvox beside Orthanc in the same run:
 * - ingest of the same 300 synthetic 512x512 CT instances: medvox HTTP upload (one multipart request sent by curl, until the
 *   import job has stored and indexed every instance; also until it has built the viewer volume) vs `storescu`
 *   into Orthanc (TCP_NODELAY=1, until every C-STORE is answered);
 *   files/s and the ratio (target >= 2x Orthanc);
 * - the volume endpoint for that 300x512x512 series (raw voxels) vs Orthanc's WADO-RS retrieval of the same series:
 *   time to first byte (target < 50 ms) and MB/s (target >= 500 MB/s).
 * Medians of BENCH_RUNS runs (default 3).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median, writeSyntheticCt } from './support.ts';

const slices = Number(process.env.BENCH_SLICES ?? 300);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const peers = process.env.MEDVOX_PEERS ?? join(import.meta.dirname, '..', '..', 'shared', 'peers');
const root = mkdtempSync(join(tmpdir(), 'medvox-bench-server-'));
const series = join(root, 'ct');

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

/** Time to first byte and throughput of one GET (the body is read and dropped). */
function download(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ ttfbMs: number; bytes: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let first = 0;
    let bytes = 0;
    get(url, { headers }, (response) => {
      if (response.statusCode !== 200) reject(new Error(`${url}: HTTP ${response.statusCode}`));
      response.on('data', (chunk: Buffer) => {
        if (first === 0) first = performance.now();
        bytes += chunk.length;
      });
      response.on('end', () => resolve({ ttfbMs: first - started, bytes, ms: performance.now() - started }));
      response.on('error', reject);
    }).on('error', reject);
  });
}

/** `medvox serve` as a child process; resolves with its URL once it listens. */
function serveChild(data: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [join(import.meta.dirname, '..', 'bin', 'medvox.js'), 'serve', '--port', '0', '--data', data, '--no-demo'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = /at (http:\/\/\S+)/.exec(out)?.[1];
      if (url) resolve({ child, url });
    });
    child.on('exit', (code) => reject(new Error(`medvox serve exited with ${code}`)));
  });
}

interface JobEventData {
  state: string;
  step: string;
  result?: unknown;
  error?: unknown;
}

/** Follow a job's server-sent events: when its instances were stored, when it ended, its last event. */
async function followJob(
  url: string,
  jobId: string,
): Promise<{ storedAt: number; doneAt: number; last: JobEventData }> {
  const response = await fetch(`${url}/api/jobs/${jobId}/events`);
  let text = '';
  let storedAt = 0;
  let last: JobEventData = { state: 'unknown', step: '' };
  const decoder = new TextDecoder();
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true });
    for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
      const data = text
        .slice(0, end)
        .split('\n')
        .find((line) => line.startsWith('data: '));
      text = text.slice(end + 2);
      if (!data) continue;
      last = JSON.parse(data.slice(6)) as JobEventData;
      if (storedAt === 0 && (last.step === 'instances stored' || last.state === 'done')) storedAt = performance.now();
    }
  }
  return { storedAt, doneAt: performance.now(), last };
}

async function main(): Promise<void> {
  mkdirSync(series, { recursive: true });
  writeSyntheticCt(series, slices);
  const names = readdirSync(series).sort();
  const totalMB = names.reduce((sum, name) => sum + statSync(join(series, name)).size, 0) / 1e6;
  console.log(`${slices} synthetic CT instances, 512x512, ${totalMB.toFixed(1)} MB`);

  // ---- Orthanc ----
  const [dicomPort, httpPort] = [await freePort(), await freePort()];
  const pid = execFileSync(
    'bash',
    [join(peers, 'start-orthanc.sh'), join(root, 'orthanc'), String(dicomPort), String(httpPort)],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  )
    .trim()
    .split('\n')
    .at(-1)!;
  const orthanc = `http://127.0.0.1:${httpPort}`;
  const orthancIngest: number[] = [];
  const mine: number[] = [];
  const mineWithVolume: number[] = [];
  let volumeUrl = '';
  let wadoUrl = '';
  const medvoxServers: Array<{ child: ChildProcess; url: string }> = [];
  try {
    for (let run = 0; run < runs; run++) {
      // Orthanc: empty it, then storescu the folder.
      for (const id of (await (await fetch(`${orthanc}/studies`)).json()) as string[])
        await fetch(`${orthanc}/studies/${id}`, { method: 'DELETE' });
      let started = performance.now();
      execFileSync('storescu', ['-aec', 'ORTHANC', '+sd', '127.0.0.1', String(dicomPort), series], {
        env: { ...process.env, TCP_NODELAY: '1' },
        stdio: 'ignore',
      });
      orthancIngest.push(performance.now() - started);

      // medvox: `medvox serve` in its own process (as Orthanc is), a fresh archive, one multipart upload; timed
      // until the job's SSE stream says every instance is stored, and until the job is done.
      const server = await serveChild(join(root, `medvox-${run}`));
      medvoxServers.push(server);
      // The upload is sent by curl (as a user would; Node's fetch spends more time encoding the form than the
      // server spends storing it), timed from curl's start like storescu.
      const args = ['-s', '-S', '--fail-with-body', '-H', 'Expect:'];
      for (const name of names) args.push('-F', `files=@${join(series, name)}`);
      started = performance.now();
      const answer = execFileSync('curl', [...args, `${server.url}/api/uploads`], {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      });
      const { jobId, studyInstanceUID } = JSON.parse(answer) as { jobId: string; studyInstanceUID: string };
      const { storedAt, doneAt, last } = await followJob(server.url, jobId);
      mine.push(storedAt - started);
      mineWithVolume.push(doneAt - started);
      if (last.state !== 'done' || (last.result as { stored: number }).stored !== slices)
        throw new Error(`medvox job ${last.state}: ${JSON.stringify(last.error ?? last.result)}`);
      const study = (await (await fetch(`${server.url}/api/studies/${studyInstanceUID}`)).json()) as {
        volumes: Array<{ id: string; kind: string; seriesInstanceUID: string }>;
      };
      const volume = study.volumes.find((row) => row.kind === 'image')!;
      volumeUrl = `${server.url}/api/volumes/${volume.id}/data`;
      wadoUrl = `${orthanc}/dicom-web/studies/${studyInstanceUID}/series/${volume.seriesInstanceUID}`;
      if (run < runs - 1) server.child.kill('SIGTERM');
    }
    const orthancRate = slices / (median(orthancIngest) / 1000);
    const medvoxRate = slices / (median(mine) / 1000);
    console.log('\ningest (median of %d runs)', runs);
    console.log(`  Orthanc storescu : ${median(orthancIngest).toFixed(0)} ms  ${orthancRate.toFixed(0)} files/s`);
    console.log(
      `  medvox upload    : ${median(mine).toFixed(0)} ms  ${medvoxRate.toFixed(0)} files/s (every instance stored and indexed)`,
    );
    const withVolume = median(mineWithVolume);
    console.log(
      `  medvox, + volume : ${withVolume.toFixed(0)} ms  ${(slices / (withVolume / 1000)).toFixed(0)} files/s (job done: the viewer volume built too)`,
    );
    console.log(`  ratio medvox / Orthanc: ${(medvoxRate / orthancRate).toFixed(2)}x (target >= 2)`);

    const volumeRuns: Array<{ ttfbMs: number; bytes: number; ms: number }> = [];
    const wadoRuns: Array<{ ttfbMs: number; bytes: number; ms: number }> = [];
    for (let run = 0; run < Math.max(runs, 3); run++) {
      volumeRuns.push(await download(volumeUrl));
      wadoRuns.push(await download(wadoUrl, { Accept: 'multipart/related; type="application/dicom"' }));
    }
    const describe = (label: string, list: typeof volumeRuns) => {
      const ttfb = median(list.map((r) => r.ttfbMs));
      const rate = median(list.map((r) => r.bytes / 1e6 / (r.ms / 1000)));
      console.log(
        `  ${label}: first byte ${ttfb.toFixed(1)} ms, ${(list[0]!.bytes / 1e6).toFixed(1)} MB at ${rate.toFixed(0)} MB/s`,
      );
      return { ttfb, rate };
    };
    console.log('\nvolume retrieval, %dx512x512 (median of %d runs)', slices, volumeRuns.length);
    const ours = describe('medvox /api/volumes/:id/data', volumeRuns);
    const theirs = describe('Orthanc WADO-RS series     ', wadoRuns);
    console.log(`  first byte: medvox ${ours.ttfb.toFixed(1)} ms (target < 50), Orthanc ${theirs.ttfb.toFixed(1)} ms`);
    console.log(
      `  throughput: medvox ${ours.rate.toFixed(0)} MB/s (target >= 500), ratio to Orthanc ${(ours.rate / theirs.rate).toFixed(2)}x`,
    );
  } finally {
    for (const server of medvoxServers) server.child.kill('SIGTERM');
    execFileSync('bash', [join(peers, 'stop-pid.sh'), pid], { stdio: 'ignore' });
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
