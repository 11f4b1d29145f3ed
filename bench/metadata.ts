/**
 * `npm run bench:metadata`: metadata extraction for 3,000 instances to .xlsx, medvox against `dcmdump -q -M` over the
 * same files, in the same run (several runs, medians, ratio; target <= 1.0). The instances are made here: 64x64
 * phantom slices, half CT and half MR, 30 series of 100. Two medvox timings are printed:
 *   CLI      `medvox metadata --input DIR --output x.xlsx` as a process (start-up and module loading included),
 *   library  `metadataReport()` in a process that has already loaded medvox (what a server route or job pays).
 * BENCH_INSTANCES and BENCH_RUNS change the size and the number of runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeDicom } from '../src/core/dicom/writer.ts';
import { makePhantomSeries } from '../src/core/phantom/index.ts';
import { buildCli, median, startupNote, toolEnv } from './support.ts';

const instances = Number(process.env.BENCH_INSTANCES ?? 3000);
const runs = Number(process.env.BENCH_RUNS ?? 5);
const projectRoot = join(import.meta.dirname, '..');
const root = mkdtempSync(join(tmpdir(), 'medvox-bench-metadata-'));
const input = join(root, 'dicom');

function timed(command: string, args: string[]): { ms: number; maxRssKiB: number } {
  const started = performance.now();
  const result = spawnSync('/usr/bin/time', ['-f', '%M', command, ...args], {
    encoding: 'utf8',
    env: toolEnv,
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  const lines = result.stderr.trim().split('\n');
  return { ms, maxRssKiB: Number(lines[lines.length - 1]) || 0 };
}

try {
  mkdirSync(input);
  for (let series = 0, written = 0; written < instances; series++) {
    const files = makePhantomSeries({
      rows: 64,
      columns: 64,
      slices: 100,
      modality: series % 2 ? 'MR' : 'CT',
      seed: `bench-${series}`,
      seriesNumber: series + 1,
      seriesDescription: series % 2 ? 't1_se_tra' : 'Abdomen 1.0',
    });
    for (const file of files) {
      if (written >= instances) break;
      writeFileSync(join(input, `IM${String(written++).padStart(5, '0')}.dcm`), writeDicom(file));
    }
  }
  const names = readdirSync(input)
    .sort()
    .map((name) => join(input, name));
  buildCli();
  const cli = join(projectRoot, 'bin', 'medvox.js');
  const library = join(root, 'library.mjs');
  writeFileSync(
    library,
    `const { metadataReport } = await import(${JSON.stringify(join(projectRoot, 'dist', 'src', 'ops', 'metadata-report.js'))});
const started = performance.now();
await metadataReport({ inputs: [process.argv[2]], output: process.argv[3] });
process.stdout.write(String(performance.now() - started));\n`,
  );
  console.log(`${names.length} instances (64x64 CT / MR phantom slices), ${runs} runs each, medians`);

  const ours: number[] = [];
  const inProcess: number[] = [];
  const theirs: number[] = [];
  let rss = 0;
  // Run -1 is a warm-up for both (page cache; the CLI's first run also saves its code cache, bin/bundle.js).
  for (let run = -1; run < runs; run++) {
    const output = join(root, `report-${run}.xlsx`);
    const a = timed(process.execPath, [cli, 'metadata', '--input', input, '--output', output]);
    const b = timed('dcmdump', ['-q', '-M', ...names]);
    const c = spawnSync(process.execPath, [library, input, join(root, `library-${run}.xlsx`)], {
      encoding: 'utf8',
      env: toolEnv,
    });
    if (c.status !== 0) throw new Error(`library run failed: ${c.stderr}`);
    if (run >= 0) {
      ours.push(a.ms);
      theirs.push(b.ms);
      inProcess.push(Number(c.stdout));
      rss = Math.max(rss, a.maxRssKiB);
    }
    rmSync(output, { force: true });
  }
  const dcmdump = median(theirs);
  console.log(`dcmdump -q -M             ${dcmdump.toFixed(0).padStart(6)} ms`);
  console.log(
    `medvox metadata (CLI)     ${median(ours).toFixed(0).padStart(6)} ms  ratio ${(median(ours) / dcmdump).toFixed(2)}  peak RSS ${(rss / 1024).toFixed(0)} MiB`,
  );
  console.log(
    `metadataReport (library)  ${median(inProcess).toFixed(0).padStart(6)} ms  ratio ${(median(inProcess) / dcmdump).toFixed(2)}`,
  );
  const note = startupNote();
  if (note) console.log(note);
} finally {
  rmSync(root, { recursive: true, force: true });
}
