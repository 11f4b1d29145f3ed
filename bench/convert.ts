/**
 * `npm run bench:convert`: medvox convert --dicom2nifti against dcm2niix in the same run, on a synthetic 300-slice
 * 512x512 int16 CT and its JPEG-lossless copy (made with gdcmconv here). Five runs each (BENCH_RUNS), after a
 * warm-up, back to back, alternating which tool goes first; medians, and ratios as the median of the runs' own
 * ratios (bench/support.ts pairedRatio; the ratio of the medians is printed beside it):
 *   DICOM -> .nii       medvox / dcm2niix -z n   (target <= 1.0)
 *   DICOM -> .nii.gz    medvox / dcm2niix -z y   (target <= 0.5)
 *   JPEG lossless -> .nii  medvox / dcm2niix -z n (target <= 1.0)
 * and medvox's peak memory (RSS of a child process) against the volume size (target <= 2.5x).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { buildCli, median, pairedRatio, startupNote, toolEnv, writeSyntheticCt } from './support.ts';

const slices = Number(process.env.BENCH_SLICES ?? 300);
const runs = Number(process.env.BENCH_RUNS ?? 5);
const root = mkdtempSync(join(tmpdir(), 'medvox-bench-convert-'));
const native = join(root, 'native');
const jpeg = join(root, 'jpeg-lossless');
const cli = join(import.meta.dirname, '..', 'bin', 'medvox.js');

function timed(command: string, args: string[]): { ms: number; maxRssKiB: number } {
  // GNU time gives the child's peak RSS; fall back to wall time only.
  const started = performance.now();
  const result = spawnSync('/usr/bin/time', ['-f', '%M', command, ...args], { encoding: 'utf8', env: toolEnv });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  const lines = result.stderr.trim().split('\n');
  return { ms, maxRssKiB: Number(lines[lines.length - 1]) || 0 };
}

try {
  mkdirSync(native);
  mkdirSync(jpeg);
  writeSyntheticCt(native, slices);
  buildCli();
  for (const name of readdirSync(native))
    execFileSync('gdcmconv', ['-J', join(native, name), join(jpeg, name)], { stdio: 'ignore' });
  const volumeMiB = (slices * 512 * 512 * 2) / 2 ** 20;
  const pigz = spawnSync('sh', ['-c', 'command -v pigz']).status === 0;
  console.log(
    `${slices} slices 512x512 int16 (${volumeMiB.toFixed(0)} MiB), ${runs} runs each, medians; dcm2niix gzip: ${pigz ? 'pigz' : 'internal'}`,
  );

  const cases: Array<[string, string, string[], string[]]> = [
    ['DICOM -> .nii', native, ['--no-gzip'], ['-z', 'n']],
    ['DICOM -> .nii.gz', native, [], ['-z', 'y']],
    ['JPEG lossless -> .nii', jpeg, ['--no-gzip'], ['-z', 'n']],
  ];
  for (const [label, input, ourFlags, theirFlags] of cases) {
    const ours: number[] = [];
    const theirs: number[] = [];
    let rss = 0;
    // Run -1 is a warm-up for both (page cache; medvox's first run also saves its code cache, bin/bundle.js).
    for (let run = -1; run < runs; run++) {
      const outA = join(root, `medvox-${run}`);
      const outB = join(root, `dcm2niix-${run}`);
      mkdirSync(outB, { recursive: true });
      const runOurs = () =>
        timed(process.execPath, [cli, 'convert', '--dicom2nifti', '--input', input, '--output', outA, ...ourFlags]);
      const runTheirs = () => timed('dcm2niix', [...theirFlags, '-o', outB, input]);
      // Alternate which goes first, so that neither always meets the other's page-cache writeback.
      let a: { ms: number; maxRssKiB: number };
      let b: { ms: number; maxRssKiB: number };
      if (run % 2 === 0) {
        a = runOurs();
        b = runTheirs();
      } else {
        b = runTheirs();
        a = runOurs();
      }
      if (run >= 0) {
        ours.push(a.ms);
        theirs.push(b.ms);
        rss = Math.max(rss, a.maxRssKiB);
      }
      rmSync(outA, { recursive: true, force: true });
      rmSync(outB, { recursive: true, force: true });
    }
    const ratio = pairedRatio(ours, theirs);
    console.log(
      `${label.padEnd(24)} medvox ${median(ours).toFixed(0).padStart(6)} ms  dcm2niix ${median(theirs).toFixed(0).padStart(6)} ms  ratio ${ratio.toFixed(2)} (of medians ${(median(ours) / median(theirs)).toFixed(2)})  medvox peak RSS ${(rss / 1024).toFixed(0)} MiB = ${(rss / 1024 / volumeMiB).toFixed(2)}x the volume`,
    );
  }
  const note = startupNote();
  if (note) console.log(note);
} finally {
  rmSync(root, { recursive: true, force: true });
}
