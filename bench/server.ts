/**
 * `npm run bench:server`, medvox beside Orthanc in the same run:
 * - ingest of the same 300 synthetic 512x512 CT instances, files/s and the ratio to Orthanc (target >= 2x):
 *   `medvox import DIR` (the CLI as a child process, a fresh data folder each run: from spawn until it says every
 *   instance is stored and indexed; also until it exits, the viewer volume built too), medvox HTTP upload (one
 *   multipart request sent by curl, until the import job has stored and indexed every instance; also until it has
 *   built the viewer volume) vs `storescu` into Orthanc (TCP_NODELAY=1, until every C-STORE is answered);
 * - the volume endpoint for that 300x512x512 series (raw voxels) vs Orthanc's WADO-RS retrieval of the same series:
 *   time to first byte (target < 50 ms) and MB/s (target >= 500 MB/s).
 * Medians of BENCH_RUNS runs (default 3).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildCli, median, writeSyntheticCt } from './support.ts';

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

const project = join(import.meta.dirname, '..');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** bin/medvox.js runs dist/ when it is current, else the sources through tsx (~0.3 s more start-up): build first. */
function ensureCompiled(): void {
  const compiled = join(project, 'dist', 'src', 'cli', 'main.js');
  if (existsSync(compiled) && statSync(compiled).mtimeMs >= newestSource(join(project, 'src'))) return;
  console.log('dist/ is older than src/: npm run build');
  buildCli();
}

/**
 * `medvox import DIR --data DATA` as a child process: ms from spawn until it says every instance is stored and
 * indexed, and until it exits (the viewer volume built too).
 */
function importChild(dir: string, data: string): Promise<{ storedMs: number; exitMs: number; out: string }> {
  const started = performance.now();
  const child = spawn(process.execPath, [join(project, 'bin', 'medvox.js'), 'import', dir, '--data', data], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let storedMs = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (storedMs === 0 && out.includes('instances stored and indexed')) storedMs = performance.now() - started;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0 || storedMs === 0) reject(new Error(`medvox import exited with ${code}: ${out}`));
      else resolve({ storedMs, exitMs: performance.now() - started, out });
    });
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
  ensureCompiled();
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
  const imported: number[] = [];
  const importedWithVolume: number[] = [];
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

      // medvox import: the CLI in its own process, into a fresh data folder.
      const cli = await importChild(series, join(root, `import-${run}`));
      if (!cli.out.includes(`stored ${slices}, duplicates 0`)) throw new Error(`medvox import: ${cli.out}`);
      imported.push(cli.storedMs);
      importedWithVolume.push(cli.exitMs);
      rmSync(join(root, `import-${run}`), { recursive: true, force: true });

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
    const orthancMs = median(orthancIngest);
    const orthancRate = slices / (orthancMs / 1000);
    const range = (list: number[]): string => `${Math.min(...list).toFixed(0)}-${Math.max(...list).toFixed(0)} ms`;
    const line = (label: string, list: number[], note: string): number => {
      const ms = median(list);
      const rate = slices / (ms / 1000);
      console.log(
        `  ${label}: ${ms.toFixed(0).padStart(5)} ms ${rate.toFixed(0).padStart(4)} files/s  ${(rate / orthancRate).toFixed(2)}x Orthanc  (runs ${range(list)}; ${note})`,
      );
      return rate;
    };
    console.log("\ningest of %d instances (median of %d runs; ratio = files/s over Orthanc's)", slices, runs);
    console.log(
      `  Orthanc storescu      : ${orthancMs.toFixed(0).padStart(5)} ms ${orthancRate.toFixed(0).padStart(4)} files/s  (runs ${range(orthancIngest)}; until every C-STORE is answered)`,
    );
    const importRate = line(
      'medvox import (CLI)   ',
      imported,
      'from spawn until every instance is stored and indexed',
    );
    line('medvox import + volume', importedWithVolume, 'until the process exits: the viewer volume built too');
    const uploadRate = line('medvox HTTP upload    ', mine, 'every instance stored and indexed');
    line('medvox upload + volume', mineWithVolume, 'job done: the viewer volume built too');
    console.log(
      `  ratio to Orthanc: import ${(importRate / orthancRate).toFixed(2)}x, HTTP upload ${(uploadRate / orthancRate).toFixed(2)}x (target >= 2)`,
    );

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
