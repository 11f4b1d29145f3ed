/** Atomic file output: write a temporary sibling, then rename over the target (same file system). */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MedvoxError } from '../core/errors.ts';

export async function writeFileAtomic(path: string, data: Uint8Array | string | Uint8Array[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
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
