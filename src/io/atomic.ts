/** Atomic file output: write a temporary sibling, then rename over the target (same file system). */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MedvoxError } from '../core/errors.ts';

export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new MedvoxError('IO_ERROR', `cannot write: ${(error as Error).message}`, { file: path, cause: error });
  }
}
