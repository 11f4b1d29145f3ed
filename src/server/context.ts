/** What every route sees: the archive, the job runner and the configured limits. */
import type { JobRunner } from '../jobs/runner.ts';
import type { Archive } from '../store/archive.ts';
import type { UploadLimits } from './upload.ts';

export interface ServerContext {
  archive: Archive;
  runner: JobRunner;
  limits: UploadLimits;
}
