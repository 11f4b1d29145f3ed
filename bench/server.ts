/**
 * `npm run bench:server`, medvox beside Orthanc in the same run:
 * - ingest of the same 300 synthetic 512x512 CT instances: medvox HTTP upload (one multipart request, until the
 *   import job has stored every instance and built the viewer volume) vs `storescu` into Orthanc (TCP_NODELAY=1);
 *   files/s and the ratio (target >= 2x Orthanc);
 * - the volume endpoint for that 300x512x512 series (raw voxels) vs Orthanc's WADO-RS retrieval of the same series:
 *   time to first byte (target < 50 ms) and MB/s (target >= 500 MB/s).
 * Medians of BENCH_RUNS runs (default 3).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startServer } from '../src/server/serve.ts';
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

async function main(): Promise<void> {
  mkdirSync(series, { recursive: true });
  writeSyntheticCt(series, slices);
  const names = readdirSync(series).sort();
  const bytes = names.map((name) => readFileSync(join(series, name)));
  const totalMB = bytes.reduce((sum, b) => sum + b.length, 0) / 1e6;
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
  let volumeUrl = '';
  let wadoUrl = '';
  const medvoxServers: Array<Awaited<ReturnType<typeof startServer>>> = [];
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

      // medvox: a fresh archive, one multipart upload, until the job is done.
      const server = await startServer({ port: 0, data: join(root, `medvox-${run}`), demo: false });
      medvoxServers.push(server);
      const form = new FormData();
      for (const [n, name] of names.entries()) form.append('files', new Blob([bytes[n]!]), name);
      started = performance.now();
      const response = await fetch(`${server.url}/api/uploads`, { method: 'POST', body: form });
      const { jobId, studyInstanceUID } = (await response.json()) as { jobId: string; studyInstanceUID: string };
      const job = await server.runner.waitFor(jobId);
      mine.push(performance.now() - started);
      if (job.state !== 'done' || (job.result as { stored: number }).stored !== slices)
        throw new Error(`medvox job ${job.state}: ${JSON.stringify(job.error ?? job.result)}`);
      const volume = server.archive.index.volumes({ studyInstanceUID }).find((row) => row.kind === 'image')!;
      volumeUrl = `${server.url}/api/volumes/${volume.id}/data`;
      wadoUrl = `${orthanc}/dicom-web/studies/${studyInstanceUID}/series/${volume.seriesInstanceUID}`;
      if (run < runs - 1) await server.close();
    }
    const orthancRate = slices / (median(orthancIngest) / 1000);
    const medvoxRate = slices / (median(mine) / 1000);
    console.log('\ningest (median of %d runs)', runs);
    console.log(`  Orthanc storescu : ${median(orthancIngest).toFixed(0)} ms  ${orthancRate.toFixed(0)} files/s`);
    console.log(
      `  medvox upload    : ${median(mine).toFixed(0)} ms  ${medvoxRate.toFixed(0)} files/s (stored + viewer volume built)`,
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
    for (const server of medvoxServers) await server.close().catch(() => undefined);
    execFileSync('bash', [join(peers, 'stop-pid.sh'), pid], { stdio: 'ignore' });
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
