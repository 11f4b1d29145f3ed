/**
 * `npm run bench:seg`: `medvox seg create` for a synthetic 512x512x300 mask with 20 labels against converting the
 * same synthetic series DICOM -> NIfTI with `medvox convert --dicom2nifti` (default .nii.gz), in the same run,
 * both through the CLI. Seven runs each, back to back (alternating which goes first): medians, and the ratio seg create /
 * convert as the median of the runs' own ratios (target < 1.0; bench/support.ts pairedRatio says why).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeNiftiFile } from '../src/io/nifti-file.ts';
import { loadReferenceGrid } from '../src/io/reference-series.ts';
import { gridNifti } from '../src/ops/seg-to-nifti.ts';
import { buildCli, median, pairedRatio, startupNote, toolEnv, writeSyntheticCt } from './support.ts';

const slices = Number(process.env.BENCH_SLICES ?? 300);
const runs = Number(process.env.BENCH_RUNS ?? 7);
const labels = 20;
const root = mkdtempSync(join(tmpdir(), 'medvox-bench-seg-'));
const series = join(root, 'ct');
const mask = join(root, 'mask.nii.gz');
const cli = join(import.meta.dirname, '..', 'bin', 'medvox.js');
buildCli();

function timed(args: string[]): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: toolEnv });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`medvox ${args.join(' ')} failed: ${result.stderr}`);
  return ms;
}

/** 20 ellipsoids of labels 1..20 spread over the volume, each over ~1/4 of the slices (like organs on a CT). */
function syntheticLabels(nx: number, ny: number, nz: number): Uint8Array {
  const data = new Uint8Array(nx * ny * nz);
  for (let label = 1; label <= labels; label++) {
    const angle = (label / labels) * 2 * Math.PI;
    const [cx, cy, cz] = [
      nx / 2 + Math.cos(angle) * nx * 0.3,
      ny / 2 + Math.sin(angle) * ny * 0.3,
      (label / (labels + 1)) * nz,
    ];
    const [rx, ry, rz] = [nx * 0.08, ny * 0.1, nz * 0.12];
    for (let k = Math.max(0, Math.floor(cz - rz)); k < Math.min(nz, Math.ceil(cz + rz)); k++)
      for (let j = Math.max(0, Math.floor(cy - ry)); j < Math.min(ny, Math.ceil(cy + ry)); j++)
        for (let i = Math.max(0, Math.floor(cx - rx)); i < Math.min(nx, Math.ceil(cx + rx)); i++)
          if (((i - cx) / rx) ** 2 + ((j - cy) / ry) ** 2 + ((k - cz) / rz) ** 2 <= 1)
            data[(k * ny + j) * nx + i] = label;
  }
  return data;
}

try {
  mkdirSync(series);
  writeSyntheticCt(series, slices);
  const { grid } = await loadReferenceGrid(series);
  const [nx, ny, nz] = grid.dims;
  await writeNiftiFile(mask, gridNifti(grid, syntheticLabels(nx, ny, nz), 'bench labels'));
  console.log(
    `${nx}x${ny}x${nz} int16 CT and a ${labels}-label mask on its grid; ${runs} runs each, medians, through the CLI`,
  );
  const create: number[] = [];
  const convert: number[] = [];
  let segBytes = 0;
  for (let run = 0; run < runs; run++) {
    const seg = join(root, `seg-${run}.dcm`);
    const nifti = join(root, `nifti-${run}`);
    // Alternate which goes first, so that neither always meets the colder file cache.
    const runCreate = () => create.push(timed(['seg', 'create', '--image', series, '--mask', mask, '--output', seg]));
    const runConvert = () => convert.push(timed(['convert', '--dicom2nifti', '--input', series, '--output', nifti]));
    if (run % 2 === 0) {
      runCreate();
      runConvert();
    } else {
      runConvert();
      runCreate();
    }
    segBytes = statSync(seg).size;
    rmSync(seg, { force: true });
    rmSync(nifti, { recursive: true, force: true });
  }
  const ratio = pairedRatio(create, convert);
  console.log(
    `seg create (BINARY, ${(segBytes / 2 ** 20).toFixed(0)} MiB SEG)  ${median(create).toFixed(0).padStart(6)} ms`,
  );
  console.log(`convert --dicom2nifti (.nii.gz)   ${median(convert).toFixed(0).padStart(6)} ms`);
  console.log(
    `ratio seg create / convert ${ratio.toFixed(2)} (target < 1.0): median of the ${runs} runs' ratios ${create
      .map((ms, run) => (ms / convert[run]!).toFixed(2))
      .join(' ')}; ratio of the medians ${(median(create) / median(convert)).toFixed(2)}`,
  );
  const note = startupNote();
  if (note) console.log(note);
} finally {
  rmSync(root, { recursive: true, force: true });
}
