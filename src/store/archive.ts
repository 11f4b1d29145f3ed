/** The archive at a data folder: `index.sqlite` + `blobs/` (+ `staging/` for uploads waiting for their job). */
import { join } from 'node:path';
import { ensureDirectory } from '../io/atomic.ts';
import { FolderBlobStore } from './folder-blob-store.ts';
import { SqliteIndex } from './sqlite-index.ts';
import type { BlobStore, Index } from './types.ts';

export interface Archive {
  root: string;
  index: Index;
  blobs: BlobStore;
  /** Uploaded files kept here (under generated names) until their job has stored them. */
  staging: string;
  close(): void;
}

export async function openArchive(root: string): Promise<Archive> {
  await ensureDirectory(root);
  const staging = join(root, 'staging');
  await ensureDirectory(staging);
  const blobs = new FolderBlobStore(join(root, 'blobs'));
  await ensureDirectory(blobs.root);
  await blobs.sweepTemporaries();
  const index = new SqliteIndex(join(root, 'index.sqlite'));
  return {
    root,
    index,
    blobs,
    staging,
    close: () => {
      index.close();
      void blobs.close();
    },
  };
}
