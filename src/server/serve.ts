/**
 * `medvox serve`: open the archive, re-queue interrupted jobs, import the demo study into an empty archive, listen.
 * A non-loopback host needs a token; loopback may have one (tests force token mode with `requireToken`).
 */
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { MedvoxError } from '../core/errors.ts';
import { loadMrConfigFile, loadTemplates, userConfigDir } from '../io/metadata-config.ts';
import { JOB_HANDLERS } from '../jobs/handlers.ts';
import { JobRunner } from '../jobs/runner.ts';
import { writeDemo } from '../ops/demo.ts';
import { type Archive, openArchive } from '../store/archive.ts';
import { buildApp } from './app.ts';
import type { UploadLimits } from './upload.ts';

export interface ServeOptions {
  port?: number;
  host?: string;
  data?: string;
  token?: string;
  /** Require the token even on loopback. */
  requireToken?: boolean;
  /** Import the demo study when the archive is empty (default true). */
  demo?: boolean;
  limits?: Partial<UploadLimits>;
  concurrency?: number;
  logger?: boolean;
  /** Metadata downloads: a templates folder and an MR rules file (as `medvox metadata --templates / --mr-config`). */
  templates?: string;
  mrConfig?: string;
  /** The user config folder for templates / rules (default: `$MEDVOX_CONFIG_DIR`, ...; docs/metadata.md). */
  configDir?: string;
}

export interface RunningServer {
  app: FastifyInstance;
  archive: Archive;
  runner: JobRunner;
  url: string;
  /** Jobs re-queued from an interrupted run. */
  requeued: string[];
  demoJob: string | undefined;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
}

export async function startServer(options: ServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? process.env.MEDVOX_TOKEN;
  if ((!isLoopback(host) || options.requireToken) && !token) {
    throw new MedvoxError('USAGE', `listening on ${host} needs a token: other machines could reach the archive`, {
      hint: 'pass --token <secret> or set MEDVOX_TOKEN (clients send Authorization: Bearer <secret>)',
    });
  }
  // Templates and rules are checked before anything opens: a broken file stops the start with its error.
  const configDir = options.configDir ?? userConfigDir();
  const metadata = {
    templates: await loadTemplates([
      ...(options.templates ? [{ dir: options.templates, required: true }] : []),
      { dir: join(configDir, 'templates'), required: false },
    ]),
    mrConfig: await loadMrConfigFile(options.mrConfig, configDir),
  };
  const archive = await openArchive(resolve(options.data ?? './medvox-data'));
  const runner = new JobRunner(archive, JOB_HANDLERS, {
    concurrency: options.concurrency,
    onFinished: async (job) => {
      const staging = job.params.staging;
      if (typeof staging === 'string' && staging.startsWith(archive.staging))
        await rm(staging, { recursive: true, force: true });
    },
  });
  const app = await buildApp({
    archive,
    runner,
    token: !isLoopback(host) || options.requireToken ? token : undefined,
    limits: options.limits,
    logger: options.logger,
    metadata,
  });
  const requeued = await runner.start();
  let demoJob: string | undefined;
  if (options.demo !== false && archive.index.studies().length === 0 && archive.index.jobs().length === 0) {
    const folder = join(archive.staging, 'demo');
    await writeDemo({ output: folder });
    demoJob = runner.submit('import', { inputs: [folder], staging: folder, previews: true }).id;
  }
  await app.listen({ port: options.port ?? 8080, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    app,
    archive,
    runner,
    url: `http://${shownHost}:${port}`,
    requeued,
    demoJob,
    close: async () => {
      await app.close();
      await runner.close();
      archive.close();
    },
  };
}
