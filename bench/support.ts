/** Shared by the benchmarks: the CLI built, a synthetic CT series on disk and the median of repeated timings. */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
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

/**
 * The ratio of two tools timed back to back in each run: the median of the runs' own ratios. This 2-CPU machine's
 * load moves both tools' times by 10-30% from one run to the next; the two runs of a pair share their moment, so a
 * pair's ratio is steadier than the ratio of two medians taken over different moments (benchmarks print both).
 */
export function pairedRatio(ours: readonly number[], theirs: readonly number[]): number {
  return median(ours.map((ms, run) => ms / theirs[run]!));
}

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

/**
 * The environment every timed tool runs in: this one without NODE_EXTRA_CA_CERTS. Node 20 reads and parses the
 * certificates that file holds at every start, before any script runs (on the development machines it names the
 * system bundle of ~140 certificates: ~35 ms of `node -e 0`'s ~60). medvox opens no TLS connection and the peers do
 * not read the variable, so it would only time Node's set-up for HTTPS. `startupNote()` prints what it costs.
 */
export const toolEnv: NodeJS.ProcessEnv = { ...process.env };
delete toolEnv.NODE_EXTRA_CA_CERTS;

/** A line stating that NODE_EXTRA_CA_CERTS was removed and what it costs a Node start here ('' when unset). */
export function startupNote(): string {
  if (!process.env.NODE_EXTRA_CA_CERTS) return '';
  const start = (env: NodeJS.ProcessEnv): number => {
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const started = performance.now();
      spawnSync(process.execPath, ['-e', '0'], { env, stdio: 'ignore' });
      times.push(performance.now() - started);
    }
    return median(times);
  };
  const withIt = start(process.env);
  const without = start(toolEnv);
  return (
    `NODE_EXTRA_CA_CERTS is set here and was removed for every timed tool: \`node -e 0\` (Node ${process.versions.node}) ` +
    `takes ${withIt.toFixed(0)} ms with it, ${without.toFixed(0)} ms without. Node 20 parses the certificates at every ` +
    'start (later versions when first needed); medvox makes no TLS connection.'
  );
}
