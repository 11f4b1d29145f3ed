/** REST under /api (docs/api.md): studies, series, instances, volumes (binary), segmentations, previews, jobs. */
import { createReadStream } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MedvoxError } from '../core/errors.ts';
import { isTerminal, type JobEvent } from '../jobs/runner.ts';
import { previewVolumes, renderStudyPreview, segmentColours } from '../ops/archive-derive.ts';
import { renderSlice } from '../ops/render.ts';
import type { JobRow, VolumeRow } from '../store/types.ts';
import type { ServerContext } from './context.ts';
import { matchesStudy, parseStudySearch } from './study-search.ts';
import { stageUpload } from './upload.ts';

type Query = Record<string, string | undefined>;

export function jobView(job: JobRow): Record<string, unknown> {
  return {
    id: job.id,
    type: job.type,
    state: job.state,
    percent: job.percent,
    step: job.step,
    studyInstanceUID: job.studyInstanceUID,
    result: job.result,
    error: job.error,
    attempts: job.attempts,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  };
}

function number(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new MedvoxError('BAD_REQUEST', `${name} must be a number (got "${value}")`);
  return parsed;
}

function sliceIndex(text: string): number {
  const index = Number(text);
  if (!Number.isInteger(index) || index < 0) throw new MedvoxError('BAD_REQUEST', `"${text}" is not a slice index`);
  return index;
}

export function registerApi(app: FastifyInstance, context: ServerContext): void {
  const { archive, runner } = context;
  const index = archive.index;

  const volumeOr404 = (id: string): VolumeRow => {
    const volume = index.volume(id);
    if (!volume) throw new MedvoxError('NOT_FOUND', `no volume ${id}`);
    return volume;
  };
  const studyOr404 = (uid: string) => {
    const study = index.study(uid);
    if (!study) throw new MedvoxError('NOT_FOUND', `no study ${uid}`);
    return study;
  };

  app.get('/api/health', async () => ({ ok: true }));

  // ---- uploads ----
  app.post('/api/uploads', async (request, reply) => upload(context, request, reply));

  // ---- studies / series / instances ----
  app.get('/api/studies', async (request: FastifyRequest<{ Querystring: Query }>) => {
    const search = parseStudySearch(request.query);
    return index
      .studies()
      .filter((study) => matchesStudy(study, search))
      .map(({ attributes: _attributes, ...study }) => study);
  });
  app.get('/api/studies/:study', async (request: FastifyRequest<{ Params: { study: string } }>) => {
    const { attributes, ...study } = studyOr404(request.params.study);
    const uid = study.studyInstanceUID;
    return {
      ...study,
      attributes,
      series: index.series({ studyInstanceUID: uid }).map(({ attributes: _a, ...series }) => ({
        ...series,
        volumes: index.volumes({ seriesInstanceUID: series.seriesInstanceUID }).map((volume) => volume.id),
      })),
      segmentations: index.segmentations({ studyInstanceUID: uid }).map((segmentation) => ({
        ...segmentation,
        labelmapVolume: index
          .volumes({ seriesInstanceUID: segmentation.seriesInstanceUID })
          .find((v) => v.kind === 'labelmap')?.id,
      })),
      volumes: index.volumes({ studyInstanceUID: uid }).map((volume) => volumeSummary(volume)),
      jobs: index.jobs({ studyInstanceUID: uid }).map(jobView),
    };
  });
  app.get('/api/studies/:study/series', async (request: FastifyRequest<{ Params: { study: string } }>) => {
    studyOr404(request.params.study);
    return index.series({ studyInstanceUID: request.params.study }).map(({ attributes: _a, ...series }) => series);
  });
  app.get('/api/series/:series', async (request: FastifyRequest<{ Params: { series: string } }>) => {
    const row = index.series({ seriesInstanceUID: request.params.series })[0];
    if (!row) throw new MedvoxError('NOT_FOUND', `no series ${request.params.series}`);
    return {
      ...row,
      instances: index.instances({ seriesInstanceUID: row.seriesInstanceUID }).map(instanceSummary),
      volumes: index.volumes({ seriesInstanceUID: row.seriesInstanceUID }).map((volume) => volumeSummary(volume)),
    };
  });
  app.get(
    '/api/series/:series/thumbnail.png',
    async (request: FastifyRequest<{ Params: { series: string } }>, reply) => {
      const volume = index.volumes({ seriesInstanceUID: request.params.series }).find((row) => row.kind === 'image');
      if (!volume) throw new MedvoxError('NOT_FOUND', `series ${request.params.series} has no image volume`);
      const png = await renderSlice(archive.blobs, volume, Math.floor(volume.header.dims[2] / 2), { maxSize: 128 });
      return reply.type('image/png').send(Buffer.from(png));
    },
  );
  app.get(
    '/api/studies/:study/thumbnail.png',
    async (request: FastifyRequest<{ Params: { study: string } }>, reply) => {
      studyOr404(request.params.study);
      const { image, labelmap } = previewVolumes(archive, request.params.study);
      const png = await renderSlice(archive.blobs, image, Math.floor(image.header.dims[2] / 2), {
        maxSize: 128,
        overlay: labelmap && { volume: labelmap, colours: segmentColours(archive, labelmap.segmentationUID) },
      });
      return reply.type('image/png').header('Cache-Control', 'max-age=60').send(Buffer.from(png));
    },
  );
  app.get('/api/instances/:instance', async (request: FastifyRequest<{ Params: { instance: string } }>) => {
    const row = index.instance(request.params.instance);
    if (!row) throw new MedvoxError('NOT_FOUND', `no instance ${request.params.instance}`);
    return { ...instanceSummary(row), attributes: row.attributes };
  });
  app.get('/api/instances/:instance/file', async (request: FastifyRequest<{ Params: { instance: string } }>, reply) => {
    const row = index.instance(request.params.instance);
    if (!row) throw new MedvoxError('NOT_FOUND', `no instance ${request.params.instance}`);
    return reply.type('application/dicom').send(Buffer.from(await archive.blobs.get(row.blob)));
  });

  // ---- volumes (binary for the viewer) ----
  app.get('/api/volumes/:volume', async (request: FastifyRequest<{ Params: { volume: string } }>) =>
    volumeSummary(volumeOr404(request.params.volume), true),
  );
  app.get('/api/volumes/:volume/data', async (request: FastifyRequest<{ Params: { volume: string } }>, reply) => {
    const volume = volumeOr404(request.params.volume);
    const path = archive.blobs.path(volume.blob);
    void reply
      .type('application/octet-stream')
      .header('Accept-Ranges', 'bytes')
      .header('X-Medvox-Datatype', volume.header.datatype)
      .header('X-Medvox-Dims', volume.header.dims.join(','));
    // One byte range (`Range: bytes=a-b`): the viewer fetches the slice it shows first, then the whole volume.
    const size = volume.header.byteLength;
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = Math.min(range[2] ? Number(range[2]) : size - 1, size - 1);
      if (start > end) return reply.status(416).header('Content-Range', `bytes */${size}`).send();
      void reply
        .status(206)
        .header('Content-Range', `bytes ${start}-${end}/${size}`)
        .header('Content-Length', end - start + 1);
      if (path) return reply.send(createReadStream(path, { start, end }));
      return reply.send(Buffer.from(await archive.blobs.read(volume.blob, start, end - start + 1)));
    }
    void reply.header('Content-Length', size);
    if (path) return reply.send(createReadStream(path, { highWaterMark: 4 * 1024 * 1024 }));
    return reply.send(Buffer.from(await archive.blobs.get(volume.blob)));
  });
  app.get(
    '/api/volumes/:volume/slices/:slice',
    async (request: FastifyRequest<{ Params: { volume: string; slice: string }; Querystring: Query }>, reply) => {
      const volume = volumeOr404(request.params.volume);
      const overlayId = request.query.overlay;
      const overlay = overlayId ? volumeOr404(overlayId) : undefined;
      const png = await renderSlice(archive.blobs, volume, sliceIndex(request.params.slice.replace(/\.png$/, '')), {
        windowCenter: number(request.query.wc, 'wc'),
        windowWidth: number(request.query.ww, 'ww'),
        overlay: overlay && { volume: overlay, colours: segmentColours(archive, overlay.segmentationUID) },
      });
      return reply.type('image/png').send(Buffer.from(png));
    },
  );

  // ---- segmentations ----
  app.get('/api/segmentations', async (request: FastifyRequest<{ Querystring: Query }>) =>
    index.segmentations({ studyInstanceUID: request.query.study }),
  );
  app.get('/api/segmentations/:seg', async (request: FastifyRequest<{ Params: { seg: string } }>) => {
    const row = index.segmentations({ sopInstanceUID: request.params.seg })[0];
    if (!row) throw new MedvoxError('NOT_FOUND', `no segmentation ${request.params.seg}`);
    const labelmap = index
      .volumes({ seriesInstanceUID: row.seriesInstanceUID })
      .find((v) => v.segmentationUID === row.sopInstanceUID);
    return { ...row, labelmapVolume: labelmap?.id };
  });

  // ---- previews ----
  app.get(
    '/api/studies/:study/previews/:slice',
    async (request: FastifyRequest<{ Params: { study: string; slice: string } }>, reply) =>
      sendPreview(context, request.params.study, request.params.slice, reply),
  );

  // ---- jobs ----
  app.get('/api/jobs', async (request: FastifyRequest<{ Querystring: Query }>) =>
    index
      .jobs({ studyInstanceUID: request.query.study, state: request.query.state as JobRow['state'] | undefined })
      .map(jobView),
  );
  app.get('/api/jobs/:job', async (request: FastifyRequest<{ Params: { job: string } }>) => {
    const job = index.job(request.params.job);
    if (!job) throw new MedvoxError('NOT_FOUND', `no job ${request.params.job}`);
    return jobView(job);
  });
  const cancel = async (request: FastifyRequest<{ Params: { job: string } }>) =>
    jobView(await runner.cancel(request.params.job));
  app.post('/api/jobs/:job/cancel', cancel);
  app.delete('/api/jobs/:job', cancel);
  app.get('/api/jobs/:job/events', async (request: FastifyRequest<{ Params: { job: string } }>, reply) =>
    streamJobEvents(context, request.params.job, request, reply),
  );
}

function volumeSummary(volume: VolumeRow, full = false): Record<string, unknown> {
  const { sopInstanceUIDs, ...header } = volume.header;
  return {
    id: volume.id,
    kind: volume.kind,
    seriesInstanceUID: volume.seriesInstanceUID,
    studyInstanceUID: volume.studyInstanceUID,
    imageVolumeId: volume.imageVolumeId,
    segmentationUID: volume.segmentationUID,
    ...header,
    ...(full ? { sopInstanceUIDs } : {}),
    data: `/api/volumes/${volume.id}/data`,
  };
}

function instanceSummary(row: {
  sopInstanceUID: string;
  sopClassUID: string;
  seriesInstanceUID: string;
  studyInstanceUID: string;
  instanceNumber: number | undefined;
  size: number;
  transferSyntaxUID: string;
}) {
  return {
    sopInstanceUID: row.sopInstanceUID,
    sopClassUID: row.sopClassUID,
    seriesInstanceUID: row.seriesInstanceUID,
    studyInstanceUID: row.studyInstanceUID,
    instanceNumber: row.instanceNumber,
    transferSyntaxUID: row.transferSyntaxUID,
    size: row.size,
    file: `/api/instances/${row.sopInstanceUID}/file`,
  };
}

/** A stored preview (NIfTI uploads store every slice), else rendered now. */
export async function sendPreview(context: ServerContext, study: string, sliceText: string, reply: FastifyReply) {
  const slice = sliceIndex(sliceText.replace(/\.png$/, ''));
  if (!context.archive.index.study(study)) throw new MedvoxError('NOT_FOUND', `no study ${study}`);
  const stored = context.archive.index.preview(study, slice);
  const png = stored
    ? await context.archive.blobs.get(stored.blob)
    : await renderStudyPreview(context.archive, study, slice);
  return reply.type('image/png').send(Buffer.from(png));
}

export async function upload(context: ServerContext, request: FastifyRequest, reply: FastifyReply) {
  const staged = await stageUpload(request, context.archive, context.limits);
  const job =
    staged.kind === 'dicom'
      ? context.runner.submit(
          'import',
          {
            inputs: staged.hasStagedFiles ? [staged.staging] : [],
            blobs: staged.stored.map(({ key, size, name }) => ({ key, size, name })),
            staging: staged.staging,
          },
          staged.studies[0],
        )
      : context.runner.submit('nifti', { ...staged }, staged.studyInstanceUID);
  const study = job.studyInstanceUID;
  return reply.status(202).send({
    jobId: job.id,
    studyInstanceUID: study,
    study_id: study,
    studies: staged.kind === 'dicom' ? staged.studies : [study],
    status: `/api/jobs/${job.id}`,
    events: `/api/jobs/${job.id}/events`,
  });
}

/** Server-sent events: every event so far (replayed in order), then live ones, until the job ends. */
export async function streamJobEvents(
  context: ServerContext,
  id: string,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const job = context.archive.index.job(id);
  if (!job) throw new MedvoxError('NOT_FOUND', `no job ${id}`);
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache',
    Connection: 'keep-alive',
    'X-Content-Type-Options': 'nosniff',
  });
  const lastSeen = Number(request.headers['last-event-id'] ?? 0) || 0;
  let last = lastSeen;
  const write = (event: JobEvent): void => {
    if (event.seq <= last) return;
    last = event.seq;
    raw.write(
      `id: ${event.seq}\nevent: ${isTerminal(event.state) ? event.state : 'progress'}\ndata: ${JSON.stringify(event)}\n\n`,
    );
  };
  const history = context.runner.events(id);
  if (history.length === 0) {
    // A job of an earlier process: its stored state is all there is.
    write({
      jobId: id,
      seq: 1,
      state: job.state,
      percent: job.percent,
      step: job.step,
      result: job.result,
      error: job.error,
    });
  } else for (const event of history) write(event);
  const current = context.archive.index.job(id)!;
  if (isTerminal(current.state)) {
    raw.end();
    return;
  }
  const listener = (event: JobEvent): void => {
    if (event.jobId !== id) return;
    write(event);
    if (isTerminal(event.state)) finish();
  };
  const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), 15_000);
  const finish = (): void => {
    clearInterval(heartbeat);
    context.runner.off('event', listener);
    raw.end();
  };
  context.runner.on('event', listener);
  raw.on('close', finish);
}
