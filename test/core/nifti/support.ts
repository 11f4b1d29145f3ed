/** NIfTI test plumbing: nibabel as the oracle (test/support/nibabel_dump.py) and exact comparisons against it. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { NiftiHeader, NiftiImage } from '../../../src/core/nifti/index.ts';
import { debianPython, inCI, projectRoot, python, requirePeers } from '../../support/env.ts';

/** Numbers as the oracle writes them: non-finite ones as strings. */
export type OracleNumber = number | 'nan' | 'inf' | '-inf';

export interface Oracle {
  error?: string;
  version: 1 | 2;
  littleEndian: boolean;
  header: Record<string, OracleNumber | OracleNumber[] | string>;
  extensions: Array<{ code: number; sha256: string | null }>;
  affine: number[][];
  shape?: number[];
  slope?: OracleNumber;
  inter?: OracleNumber;
  sha256?: string;
  scaledSha256?: string | null;
}

/** nibabel's own example files (Debian python3-nibabel), the ones with a NIfTI-1 / NIfTI-2 single file. */
export const nibabelData = '/usr/lib/python3/dist-packages/nibabel/tests/data';

export function nibabelExamples(pattern: RegExp): string[] {
  if (!existsSync(nibabelData)) return [];
  return readdirSync(nibabelData)
    .filter((name) => pattern.test(name))
    .sort()
    .map((name) => join(nibabelData, name));
}

/** Debian's python3 with nibabel, else skip (fail in CI). */
export function requireNibabel(t: TestContext): boolean {
  if (!requirePeers(t, debianPython)) return false;
  try {
    python('import nibabel, numpy');
    return true;
  } catch {
    const message = `${debianPython} has no nibabel / numpy (Debian python3-nibabel)`;
    if (inCI) throw new Error(message);
    t.skip(message);
    return false;
  }
}

export function nibabel(paths: string[]): Record<string, Oracle> {
  const output = execFileSync(debianPython, [join(projectRoot, 'test/support/nibabel_dump.py')], {
    input: paths.join('\n'),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    stdio: ['pipe', 'pipe', 'pipe'], // nibabel's warnings about the unusual test headers stay out of the report
  });
  return JSON.parse(output) as Record<string, Oracle>;
}

export function encodeNumber(value: number): OracleNumber {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return value;
}

/** Every header field nibabel stores equals ours exactly (both are the stored float32 / float64 / int values). */
export function assertHeaderEqual(
  ours: NiftiHeader,
  expected: Oracle,
  where: string,
  ignore: ReadonlyArray<keyof NiftiHeader> = [],
): void {
  assert.equal(ours.version, expected.version, `${where}: version`);
  for (const [name, value] of Object.entries(expected.header)) {
    if (ignore.includes(name as keyof NiftiHeader)) continue;
    const mine = ours[name as keyof NiftiHeader];
    const encoded = Array.isArray(mine)
      ? (mine as number[]).map(encodeNumber)
      : typeof mine === 'number'
        ? encodeNumber(mine)
        : mine;
    assert.deepEqual(encoded, value, `${where}: header field ${name}`);
  }
}

/** Extensions: same codes; contents equal once NUL padding is stripped (nibabel strips it). */
export function assertExtensionsEqual(ours: NiftiHeader, expected: Oracle, where: string): void {
  assert.deepEqual(
    ours.extensions.map((extension) => extension.code),
    expected.extensions.map((extension) => extension.code),
    `${where}: extension codes`,
  );
  ours.extensions.forEach((extension, i) => {
    const theirs = expected.extensions[i]!.sha256;
    if (theirs === null) return; // content parsed by nibabel (CIFTI-2 XML): code and count compared only
    let end = extension.data.length;
    while (end > 0 && extension.data[end - 1] === 0) end--;
    assert.equal(sha256(extension.data.subarray(0, end)), theirs, `${where}: extension ${i} content`);
  });
}

/** Within 1e-6 relative to the value (absolute 1e-6 near zero). */
export function assertAffine(ours: readonly number[], theirs: number[][] | readonly number[], where: string): void {
  const expected = theirs.flat();
  assert.equal(ours.length, 16, `${where}: affine size`);
  expected.forEach((value, i) => {
    assert.ok(
      Math.abs(value - ours[i]!) <= 1e-6 * Math.max(1, Math.abs(value)),
      `${where}: affine[${i}] ${ours[i]} vs ${value}\nours ${ours.join(', ')}\ntheirs ${expected.join(', ')}`,
    );
  });
}

export function sha256(bytes: ArrayBufferView): string {
  return createHash('sha256')
    .update(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    .digest('hex');
}

export function voxelSha256(image: NiftiImage): string {
  return sha256(image.data);
}
