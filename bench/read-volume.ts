/**
 * Reading a series into a volume, against dcm2niix in the same run: a synthetic 300-slice 512x512 int16 CT
 * (the asymmetric phantom) is written to a temporary folder, then
 *   medvox: read every file + assemble the volume (+ write an uncompressed .nii, like `dcm2niix -z n`)
 *   dcm2niix -z n: the same folder to .nii
 * Each is run several times; the median and the ratio are printed. Not a test: numbers for the closing notes.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { assembleVolumes, volumeToNifti } from '../src/core/volume/index.ts';
import { loadDicomInputs } from '../src/io/load-dicom.ts';
import { writeNiftiFile } from '../src/io/nifti-file.ts';
import { median, writeSyntheticCt } from './support.ts';

const slices = Number(process.env.BENCH_SLICES ?? 300);
const runs = Number(process.env.BENCH_RUNS ?? 5);
const root = mkdtempSync(join(tmpdir(), 'medvox-bench-'));
const dicomDir = join(root, 'dicom');
mkdirSync(dicomDir);

try {
  const started = performance.now();
  writeSyntheticCt(dicomDir, slices);
  console.log(`generated ${slices} slices of 512x512 int16 in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const readOnly: number[] = [];
  const readWrite: number[] = [];
  const dcm2niix: number[] = [];
  for (let run = 0; run < runs; run++) {
    let t0 = performance.now();
    const loaded = await loadDicomInputs([dicomDir]);
    const { volumes } = await assembleVolumes(loaded.files);
    readOnly.push(performance.now() - t0);
    await writeNiftiFile(join(root, 'medvox.nii'), volumeToNifti(volumes[0]!));
    readWrite.push(performance.now() - t0);

    const out = join(root, `dcm2niix-${run}`);
    mkdirSync(out);
    t0 = performance.now();
    execFileSync('dcm2niix', ['-z', 'n', '-o', out, dicomDir], { stdio: 'ignore' });
    dcm2niix.push(performance.now() - t0);
  }
  const peer = median(dcm2niix);
  const line = (label: string, values: number[]) =>
    `${label.padEnd(44)} ${median(values).toFixed(0).padStart(6)} ms   ratio to dcm2niix ${(median(values) / peer).toFixed(2)}x`;
  console.log(
    `median of ${runs} runs, ${slices} x 512x512 int16 slices (${((slices * 512 * 512 * 2) / 2 ** 20).toFixed(0)} MiB of pixels)`,
  );
  console.log(line('medvox read + assemble volume', readOnly));
  console.log(line('medvox read + assemble + write .nii', readWrite));
  console.log(line('dcm2niix -z n (read + write .nii)', dcm2niix));
} finally {
  rmSync(root, { recursive: true, force: true });
}
