/**
 * `npm run bench:rtstruct`: RTSTRUCT rasterisation of the corpus' 104-ROI chest CT case (20 slices, one missing),
 * `medvox rtstruct to-nifti` against `plastimatch convert --input RS --referenced-ct CT --output-prefix DIR` in the
 * same run, alternating, several runs each; medians and the ratio medvox / plastimatch (target <= 1.0). Both are
 * whole processes: read the CT and the RTSTRUCT, rasterise every ROI, write one mask per non-empty ROI (plastimatch
 * .mha uncompressed, medvox .nii.gz) plus medvox's labelmap and label table.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median, startupNote, toolEnv } from './support.ts';

const runs = Number(process.env.BENCH_RUNS ?? 5);
const root = resolve(import.meta.dirname, '..');
const corpus = resolve(process.env.MEDVOX_CORPUS ?? join(root, '..', 'shared', 'corpus'));
const caseDir = join(corpus, 'rtstruct', 'gstt_chest_ct_20sl_rtstruct');
const rtstruct = join(caseDir, 'rtstruct', 'rt-struct-test-data-81-100.dcm');
const ct = join(caseDir, 'ct');
const cli = join(root, 'bin', 'medvox.js');
const out = mkdtempSync(join(tmpdir(), 'medvox-bench-rtstruct-'));

function timed(command: string, args: string[]): number {
  const started = performance.now();
  const result = spawnSync(command, args, { encoding: 'utf8', env: toolEnv });
  const ms = performance.now() - started;
  // medvox exits 1 on this case on purpose: one contour plane lies in the missing slice's gap (reported).
  if (result.status !== 0 && !(command === process.execPath && result.status === 1)) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  }
  return ms;
}

try {
  if (!existsSync(rtstruct)) throw new Error(`corpus case missing: ${caseDir} (set MEDVOX_CORPUS)`);
  const compiled = join(root, 'dist', 'src', 'cli', 'main.js');
  // As bin/medvox.js decides: the compiled CLI runs when it is newer than every source file.
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((latest, entry) => {
      const path = join(dir, entry.name);
      return Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
    }, 0);
  const mode = existsSync(compiled) && statSync(compiled).mtimeMs >= newest(join(root, 'src'));
  console.log(
    `rtstruct/gstt_chest_ct_20sl_rtstruct: 104 ROIs, 665 contours, 20 CT slices; ${runs} runs each, medians; medvox ${mode ? 'compiled (dist/)' : 'through tsx (run npm run build for the compiled CLI)'}`,
  );
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let run = 0; run < runs; run++) {
    const a = join(out, `medvox-${run}`);
    const b = join(out, `plastimatch-${run}`);
    ours.push(timed(process.execPath, [cli, 'rtstruct', 'to-nifti', rtstruct, '--reference', ct, '--output', a]));
    theirs.push(timed('plastimatch', ['convert', '--input', rtstruct, '--referenced-ct', ct, '--output-prefix', b]));
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
  const ratio = median(ours) / median(theirs);
  console.log(
    `RTSTRUCT -> masks        medvox ${median(ours).toFixed(0).padStart(6)} ms  plastimatch ${median(theirs).toFixed(0).padStart(6)} ms  ratio ${ratio.toFixed(2)} (target <= 1.0)`,
  );
  console.log(
    `  medvox runs: ${ours.map((ms) => ms.toFixed(0)).join(', ')}; plastimatch runs: ${theirs.map((ms) => ms.toFixed(0)).join(', ')}`,
  );
  const note = startupNote();
  if (note) console.log(note);
} finally {
  rmSync(out, { recursive: true, force: true });
}
