/**
 * The routes of the two original apps, as thin aliases over the API (docs/api.md, "Aliases"):
 * `POST /upload`, `GET /studies`, `GET /studies/{id}/status`, `GET /studies/{id}/instances`,
 * `GET /uploads/{study_id}/previews/{slice}.png`, `GET /slice/{vol_id}/{idx}`, `POST /save_mask/{vol_id}/{idx}`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MedvoxError } from '../core/errors.ts';
import { segmentColours } from '../ops/archive-derive.ts';
import { renderSlice } from '../ops/render.ts';
import { sendPreview, upload } from './api.ts';
import type { ServerContext } from './context.ts';

type Query = Record<string, string | undefined>;

export function registerAliases(app: FastifyInstance, context: ServerContext): void {
  const { archive } = context;
  const index = archive.index;

  app.post('/upload', async (request, reply) => upload(context, request, reply));

  app.get('/studies', async () =>
    index.studies().map((study) => ({
      study_id: study.studyInstanceUID,
      patient_id: study.patientID,
      patient_name: study.patientName,
      study_date: study.studyDate,
      description: study.studyDescription,
      modalities: study.modalities,
      series: study.seriesCount,
      instances: study.instanceCount,
      status: index.jobs({ studyInstanceUID: study.studyInstanceUID }).at(-1)?.state ?? 'done',
    })),
  );

  app.get('/studies/:id/status', async (request: FastifyRequest<{ Params: { id: string } }>) => {
    const job = index.jobs({ studyInstanceUID: request.params.id }).at(-1);
    if (!job && !index.study(request.params.id)) throw new MedvoxError('NOT_FOUND', `no study ${request.params.id}`);
    return {
      study_id: request.params.id,
      status: job?.state ?? 'done',
      progress: job?.percent ?? 100,
      step: job?.step ?? 'done',
      job_id: job?.id,
      error: job?.error,
    };
  });

  app.get('/studies/:id/instances', async (request: FastifyRequest<{ Params: { id: string } }>) => {
    if (!index.study(request.params.id)) throw new MedvoxError('NOT_FOUND', `no study ${request.params.id}`);
    return index.instances({ studyInstanceUID: request.params.id }).map((row) => ({
      sop_instance_uid: row.sopInstanceUID,
      series_instance_uid: row.seriesInstanceUID,
      sop_class_uid: row.sopClassUID,
      instance_number: row.instanceNumber,
      url: `/api/instances/${row.sopInstanceUID}/file`,
    }));
  });

  app.get(
    '/uploads/:study/previews/:slice',
    async (request: FastifyRequest<{ Params: { study: string; slice: string } }>, reply) =>
      sendPreview(context, request.params.study, request.params.slice, reply),
  );

  app.get(
    '/slice/:volume/:index',
    async (request: FastifyRequest<{ Params: { volume: string; index: string }; Querystring: Query }>, reply) => {
      const volume = index.volume(request.params.volume);
      if (!volume) throw new MedvoxError('NOT_FOUND', `no volume ${request.params.volume}`);
      const overlay = index
        .volumes({ studyInstanceUID: volume.studyInstanceUID })
        .find((v) => v.imageVolumeId === volume.id);
      const png = await renderSlice(archive.blobs, volume, Number(request.params.index), {
        windowCenter: request.query.wc === undefined ? undefined : Number(request.query.wc),
        windowWidth: request.query.ww === undefined ? undefined : Number(request.query.ww),
        overlay:
          overlay && request.query.overlay !== '0'
            ? { volume: overlay, colours: segmentColours(archive, overlay.segmentationUID) }
            : undefined,
      });
      return reply.type('image/png').send(Buffer.from(png));
    },
  );

  /**
   * An edited mask slice: raw bytes (application/octet-stream, columns x rows labels, rows top to bottom) or JSON
   * `{ "mask": [..] }` / `{ "mask": "<base64>" }`. Kept as an annotation of the volume (docs/api.md).
   */
  app.post(
    '/save_mask/:volume/:index',
    async (request: FastifyRequest<{ Params: { volume: string; index: string } }>, reply) => {
      const volume = index.volume(request.params.volume);
      if (!volume) throw new MedvoxError('NOT_FOUND', `no volume ${request.params.volume}`);
      const slice = Number(request.params.index);
      const [nx, ny, nz] = volume.header.dims;
      if (!Number.isInteger(slice) || slice < 0 || slice >= nz)
        throw new MedvoxError('NOT_FOUND', `slice ${request.params.index} is not in the volume (0..${nz - 1})`);
      let labels: Uint8Array;
      if (Buffer.isBuffer(request.body)) labels = new Uint8Array(request.body);
      else {
        const mask = (request.body as { mask?: unknown } | undefined)?.mask;
        if (typeof mask === 'string') labels = new Uint8Array(Buffer.from(mask, 'base64'));
        else if (Array.isArray(mask) && mask.every((value) => Number.isInteger(value) && value >= 0 && value < 256))
          labels = Uint8Array.from(mask as number[]);
        else throw new MedvoxError('BAD_REQUEST', 'send the mask as raw bytes or JSON { "mask": [...] | "<base64>" }');
      }
      if (labels.length !== nx * ny)
        throw new MedvoxError(
          'BAD_REQUEST',
          `the mask has ${labels.length} values, the slice ${nx}x${ny} = ${nx * ny}`,
        );
      const annotation = index.addAnnotation({
        studyInstanceUID: volume.studyInstanceUID,
        volumeId: volume.id,
        slice,
        kind: 'mask-slice',
        data: { columns: nx, rows: ny, labels: Buffer.from(labels).toString('base64') },
      });
      return reply.status(201).send({ saved: true, annotation: annotation.id, volume: volume.id, slice });
    },
  );
}
