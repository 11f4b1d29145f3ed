/** Shared by the benchmarks: the CLI built, a synthetic CT series on disk and the median of repeated timings. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDicom } from '../src/core/dicom/writer.ts';
import { makePhantomSeries } from '../src/core/phantom/index.ts';

/**
 * Build dist/ (npm run build): bin/medvox.js runs the CLI bundles only when they are current, as an installed medvox
 * does; a stale dist/ would time the TypeScript sources through tsx.
 */
export function buildCli(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: join(import.meta.dirname, '..'), stdio: 'ignore' });
}

export const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** `slices` 512x512 int16 CT slices of the asymmetric phantom, written as explicit VR little endian files. */
export function writeSyntheticCt(dir: string, slices: number): void {
  const files = makePhantomSeries({
    rows: 512,
    columns: 512,
    slices,
    pixelSpacing: 0.7,
    sliceSpacing: 1,
    halfSize: 150,
  });
  files.forEach((file, index) => {
    writeFileSync(join(dir, `CT${String(index).padStart(4, '0')}.dcm`), writeDicom(file));
  });
}
