/** Atomic file output: write a temporary sibling, then rename over the target (same file system). */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MedvoxError } from '../core/errors.ts';

export async function writeFileAtomic(path: string, data: Uint8Array | string | Uint8Array[]): Promise<void> {
  await ensureDirectory(dirname(path));
  const temporary = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    if (Array.isArray(data)) {
      const handle = await open(temporary, 'w');
      try {
        await handle.writev(data);
      } finally {
        await handle.close();
      }
    } else {
      await writeFile(temporary, data);
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new MedvoxError('IO_ERROR', `cannot write: ${(error as Error).message}`, { file: path, cause: error });
  }
}

/** Create a folder (and its parents); a typed IO_ERROR naming it when that is impossible. */
export async function ensureDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new MedvoxError('IO_ERROR', `cannot create the output folder: ${(error as Error).message}`, {
      file: dir,
      hint: 'choose an --output folder you can write to',
      cause: error,
    });
  }
}
