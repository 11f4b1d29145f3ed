/**
 * The workbench's HTTP server (Fastify): REST under /api (docs/api.md), DICOMweb under /dicom-web, and the routes
 * of the two original apps as thin aliases. Safety: a token is required whenever the server is reachable from
 * other machines, uploads are size-limited, CORS is closed (no Access-Control-* header is ever sent).
 */
import { timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import multipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import { MedvoxError } from '../core/errors.ts';
import { DEFAULT_ZIP_LIMITS } from '../io/zip-check.ts';
import type { JobRunner } from '../jobs/runner.ts';
import type { Archive } from '../store/archive.ts';
import { registerAliases } from './aliases.ts';
import { registerApi } from './api.ts';
import type { ServerContext } from './context.ts';
import { registerDicomweb } from './dicomweb.ts';
import { errorBody, installErrorHandlers } from './http-errors.ts';
import { type MetadataSettings, registerMetadataDownloads } from './metadata-download.ts';
import type { UploadLimits } from './upload.ts';

export const DEFAULT_LIMITS: UploadLimits = {
  maxFileSize: 1024 ** 3,
  maxUploadSize: 4 * 1024 ** 3,
  maxFiles: 100_000,
  zip: DEFAULT_ZIP_LIMITS,
};

export interface AppOptions {
  archive: Archive;
  runner: JobRunner;
  /** Every request must carry `Authorization: Bearer <token>` (or `?access_token=` for <img> / EventSource). */
  token?: string;
  limits?: Partial<UploadLimits>;
  logger?: boolean;
  /** The built web app (index.html + assets/), served at `/`; default web/dist of the package. */
  webRoot?: string;
  /** Templates and MR rules for metadata downloads (default: the built-in ones). */
  metadata?: MetadataSettings;
}

const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/dist/', import.meta.url));

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The web workbench (hash routes, so no fallback can hide an API or alias route); a page saying how to build it when missing. */
async function registerWebApp(app: FastifyInstance, root: string): Promise<void> {
  if (existsSync(`${root}/index.html`)) {
    await app.register(fastifyStatic, { root, prefix: '/', wildcard: false, index: 'index.html', maxAge: 0 });
    return;
  }
  app.get('/', async (_request, reply) =>
    reply
      .type('text/html')
      .send(
        '<!doctype html><meta charset="utf-8"><title>medvox</title><h1>medvox workbench</h1>' +
          '<p>The web app is not built: run <code>npm run build:web</code>.</p>' +
          '<p>API: <a href="/api/studies">/api/studies</a> · DICOMweb: <a href="/dicom-web/studies">/dicom-web/studies</a></p>',
      ),
  );
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const limits: UploadLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const app = Fastify({
    logger: options.logger ? { level: 'info' } : false,
    bodyLimit: Math.min(limits.maxUploadSize, 2 ** 31 - 1),
    // Uploads of many files take a while; keep-alive connections from viewers stay open.
    requestTimeout: 0,
  });
  installErrorHandlers(app);
  // Registered for its multipart/form-data content-type hook, which leaves the body unread: uploads are parsed by
  // server/form-data.ts (streaming, limits of its own), not by this plugin's busboy.
  await app.register(multipart, {
    limits: { fileSize: limits.maxFileSize, files: limits.maxFiles, fields: 100, fieldSize: 1024 * 1024 },
    throwFileSizeLimit: false,
  });
  // A single-file upload (POST /api/uploads with a DICOM or zip body) is streamed by upload.ts: left unread here.
  app.addContentTypeParser(
    ['application/dicom', 'application/zip', 'application/x-zip-compressed'],
    (_request, _payload, done) => done(null, undefined),
  );
  // STOW-RS bodies and raw mask slices arrive whole (bounded by bodyLimit).
  app.addContentTypeParser(
    ['multipart/related', 'application/octet-stream'],
    { parseAs: 'buffer' },
    (_request, body, done) => done(null, body),
  );
  app.addHook('onSend', async (_request, reply) => {
    void reply.header('X-Content-Type-Options', 'nosniff');
  });
  if (options.token !== undefined) {
    const expected = options.token;
    app.addHook('onRequest', async (request, reply) => {
      const header = request.headers.authorization ?? '';
      const bearer = /^Bearer\s+(.+)$/i.exec(header)?.[1];
      const query = (request.query as Record<string, unknown>).access_token;
      const given = bearer ?? (typeof query === 'string' ? query : undefined);
      if (given === undefined || !sameToken(given, expected)) {
        const error = new MedvoxError('UNAUTHORIZED', 'this server requires a token', {
          hint: 'send Authorization: Bearer <token> (the token given to medvox serve --token / MEDVOX_TOKEN)',
        });
        return reply.status(401).header('WWW-Authenticate', 'Bearer').send(errorBody(error));
      }
    });
  }
  const context: ServerContext = {
    archive: options.archive,
    runner: options.runner,
    limits,
    ...(options.metadata ? { metadata: options.metadata } : {}),
  };
  registerApi(app, context);
  registerMetadataDownloads(app, context);
  registerAliases(app, context);
  registerDicomweb(app, context);
  await registerWebApp(app, options.webRoot ?? DEFAULT_WEB_ROOT);
  return app;
}
