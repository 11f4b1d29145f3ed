/** What every route sees: the archive, the job runner, the configured limits and the metadata settings. */
import type { JobRunner } from '../jobs/runner.ts';
import type { Archive } from '../store/archive.ts';
import type { MetadataSettings } from './metadata-download.ts';
import type { UploadLimits } from './upload.ts';

export interface ServerContext {
  archive: Archive;
  runner: JobRunner;
  limits: UploadLimits;
  /** Templates and MR rules for metadata downloads (default: the built-in ones). */
  metadata?: MetadataSettings;
}
