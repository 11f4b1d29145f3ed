/** Shared test plumbing: where the corpus is, how to call the independent peers, and the CI rule for peers. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const corpusRoot = resolve(process.env.MEDVOX_CORPUS ?? join(projectRoot, '..', 'shared', 'corpus'));
export const inCI = Boolean(process.env.CI);

/** Debian's python3 (the first python3 on PATH on these machines is not the one with pydicom / nibabel). */
export const debianPython = '/usr/bin/python3';

export function corpus(...parts: string[]): string {
  return join(corpusRoot, ...parts);
}

export function hasCorpus(): boolean {
  return existsSync(join(corpusRoot, 'MANIFEST.md'));
}

export function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Peer- and corpus-dependent tests: in CI a missing peer is a failure (the CI script installs them all);
 * on a developer machine the test is skipped with the reason. Returns false when the test must stop.
 */
export function requirePeers(t: TestContext, ...commands: string[]): boolean {
  const missing = commands.filter((command) => !hasCommand(command));
  if (!hasCorpus()) missing.push(`corpus at ${corpusRoot} (set MEDVOX_CORPUS)`);
  if (missing.length === 0) return true;
  const message = `missing: ${missing.join(', ')}`;
  if (inCI) throw new Error(`${message} (CI must install every peer: see .ci/run)`);
  t.skip(message);
  return false;
}

/** Run a Python snippet with Debian's python3; returns stdout. Throws with stderr on failure. */
export function python(code: string, args: string[] = [], input?: string): string {
  return execFileSync(debianPython, ['-c', code, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Every regular file below `dir`, sorted. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (current: string): void => {
    for (const name of readdirSync(current).sort()) {
      const path = join(current, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(path);
    }
  };
  walk(dir);
  return out;
}

/**
 * Every folder of the corpus that holds an image series, for the converter's whole-corpus tests. Not series
 * folders: damaged files, references, masks, folders of one image in many transfer syntaxes (same UIDs: covered by
 * the codec tests), folders of SEG / RTSTRUCT objects only (their own tests; the images they refer to are series
 * folders) and the DICOMDIR tree's root.
 */
export function corpusSeriesFolders(): string[] {
  const folders: string[] = [];
  const walk = (dir: string): void => {
    const entries = readdirSync(dir).map((name) => join(dir, name));
    if (entries.some((p) => statSync(p).isFile() && !/\.(nii|gz|json|tsv|md|png|jpg|nrrd|bval|bvec)$/.test(p)))
      folders.push(dir);
    for (const p of entries) if (statSync(p).isDirectory()) walk(p);
  };
  walk(corpusRoot);
  return folders.filter(
    (dir) =>
      !/malformed|\/ref$|masks_nifti|\/mask$|compressed\/|\/seg$|\/rtstruct$|seg_ts_variants|dicomdir_tree$/.test(dir),
  );
}
