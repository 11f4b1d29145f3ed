/**
 * DICOMweb at /dicom-web: QIDO-RS (studies, series, instances), WADO-RS (instances, series and studies as
 * multipart/related application/dicom with the stored bytes unchanged; metadata; frames; rendered PNG) and
 * STOW-RS (multipart/related application/dicom). Enough for OHIF or any DICOMweb client to use the archive.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decodeFrame, encodedFrame, pixelInfo } from '../core/codecs/index.ts';
import type { DicomJsonObject } from '../core/dicom/json.ts';
import { readDicom } from '../core/dicom/reader.ts';
import { MedvoxError, toMedvoxError } from '../core/errors.ts';
import { encodePng } from '../io/png.ts';
import { type CheckedInstance, checkInstance, storeInstances } from '../ops/ingest.ts';
import type { InstanceRow } from '../store/types.ts';
import type { ServerContext } from './context.ts';
import { boundaryOf, multipartStream, newBoundary, parseMultipart } from './multipart-related.ts';
import { answerQido, parseQido, type QidoLevel } from './qido.ts';

type Params = { study?: string; series?: string; instance?: string; frames?: string };
type Query = Record<string, string | string[] | undefined>;

const DICOM_JSON = 'application/dicom+json';

export function registerDicomweb(app: FastifyInstance, context: ServerContext): void {
  const { archive } = context;
  const base = (request: FastifyRequest): string => `${request.protocol}://${request.host}/dicom-web`;

  const studyRecords = (request: FastifyRequest): DicomJsonObject[] =>
    archive.index.studies().map((study) => ({
      ...study.attributes,
      '00080056': { vr: 'CS', Value: ['ONLINE'] },
      '00080061': { vr: 'CS', Value: study.modalities },
      '00081190': { vr: 'UR', Value: [`${base(request)}/studies/${study.studyInstanceUID}`] },
      '00201206': { vr: 'IS', Value: [study.seriesCount] },
      '00201208': { vr: 'IS', Value: [study.instanceCount] },
    }));

  const seriesRecords = (request: FastifyRequest, studyInstanceUID?: string): DicomJsonObject[] => {
    const studies = new Map(archive.index.studies().map((study) => [study.studyInstanceUID, study.attributes]));
    return archive.index.series({ studyInstanceUID }).map((series) => ({
      ...(studies.get(series.studyInstanceUID) ?? {}),
      ...series.attributes,
      '00081190': {
        vr: 'UR',
        Value: [`${base(request)}/studies/${series.studyInstanceUID}/series/${series.seriesInstanceUID}`],
      },
      '00201209': { vr: 'IS', Value: [series.instanceCount] },
    }));
  };

  const instanceRecords = (
    request: FastifyRequest,
    filter: { studyInstanceUID?: string; seriesInstanceUID?: string },
  ) =>
    archive.index.instances(filter).map((row) => ({
      ...row.attributes,
      '00080056': { vr: 'CS', Value: ['ONLINE'] },
      '00081190': {
        vr: 'UR',
        Value: [
          `${base(request)}/studies/${row.studyInstanceUID}/series/${row.seriesInstanceUID}/instances/${row.sopInstanceUID}`,
        ],
      },
    })) as DicomJsonObject[];

  const qido =
    (level: QidoLevel, records: (request: FastifyRequest<{ Params: Params }>) => DicomJsonObject[]) =>
    async (request: FastifyRequest<{ Params: Params; Querystring: Query }>, reply: FastifyReply) => {
      const query = parseQido(request.query);
      const answer = answerQido(records(request), query, level);
      // PS3.18 8.3.4.4: 204 No Content when nothing matches... 200 with [] is what most archives send; Orthanc too.
      return reply.type(DICOM_JSON).send(answer);
    };

  const root = '/dicom-web';
  app.get(`${root}/studies`, qido('study', studyRecords));
  app.get(
    `${root}/studies/:study/series`,
    qido('series', (request) => {
      requireStudy(request.params.study!);
      return seriesRecords(request, request.params.study);
    }),
  );
  app.get(
    `${root}/series`,
    qido('series', (request) => seriesRecords(request)),
  );
  app.get(
    `${root}/instances`,
    qido('instance', (request) => instanceRecords(request, {})),
  );
  app.get(
    `${root}/studies/:study/instances`,
    qido('instance', (request) => instanceRecords(request, { studyInstanceUID: requireStudy(request.params.study!) })),
  );
  app.get(
    `${root}/studies/:study/series/:series/instances`,
    qido('instance', (request) =>
      instanceRecords(request, { seriesInstanceUID: requireSeries(request.params.study!, request.params.series!) }),
    ),
  );

  function requireStudy(study: string): string {
    if (!archive.index.study(study)) throw new MedvoxError('NOT_FOUND', `no study ${study}`);
    return study;
  }
  function requireSeries(study: string, series: string): string {
    const row = archive.index.series({ seriesInstanceUID: series })[0];
    if (!row || row.studyInstanceUID !== study)
      throw new MedvoxError('NOT_FOUND', `no series ${series} in study ${study}`);
    return series;
  }
  function requireInstance(params: Params): InstanceRow {
    const row = archive.index.instance(params.instance!);
    if (!row || row.seriesInstanceUID !== params.series || row.studyInstanceUID !== params.study)
      throw new MedvoxError('NOT_FOUND', `no instance ${params.instance} in series ${params.series}`);
    return row;
  }
  function selected(params: Params): InstanceRow[] {
    if (params.instance) return [requireInstance(params)];
    if (params.series)
      return archive.index.instances({ seriesInstanceUID: requireSeries(params.study!, params.series) });
    return archive.index.instances({ studyInstanceUID: requireStudy(params.study!) });
  }

  // ---- WADO-RS ----
  const retrieve = async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    const accept = request.headers.accept ?? '';
    if (accept !== '' && !/multipart\/related|application\/dicom|\*\/\*/.test(accept)) {
      throw new MedvoxError('BAD_REQUEST', `cannot answer Accept: ${accept}`, {
        hint: 'multipart/related; type="application/dicom"',
      });
    }
    const rows = selected(request.params);
    const boundary = newBoundary();
    async function* parts() {
      for (const row of rows) yield { contentType: 'application/dicom', body: await archive.blobs.get(row.blob) };
    }
    return reply
      .type(`multipart/related; type="application/dicom"; boundary=${boundary}`)
      .send(multipartStream(boundary, parts()));
  };
  app.get(`${root}/studies/:study`, retrieve);
  app.get(`${root}/studies/:study/series/:series`, retrieve);
  app.get(`${root}/studies/:study/series/:series/instances/:instance`, retrieve);

  const metadata = async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    const rows = selected(request.params);
    return reply.type(DICOM_JSON).send(
      rows.map((row) => ({
        ...row.attributes,
        '7FE00010': {
          vr: 'OW',
          BulkDataURI: `${base(request)}/studies/${row.studyInstanceUID}/series/${row.seriesInstanceUID}/instances/${row.sopInstanceUID}/frames/1`,
        },
      })),
    );
  };
  app.get(`${root}/studies/:study/metadata`, metadata);
  app.get(`${root}/studies/:study/series/:series/metadata`, metadata);
  app.get(`${root}/studies/:study/series/:series/instances/:instance/metadata`, metadata);

  app.get(
    `${root}/studies/:study/series/:series/instances/:instance/frames/:frames`,
    async (request: FastifyRequest<{ Params: Params }>, reply) => {
      const row = requireInstance(request.params);
      const file = readDicom(await archive.blobs.get(row.blob), { source: row.sopInstanceUID });
      const info = pixelInfo(file.dataset, row.sopInstanceUID);
      const numbers = request.params.frames!.split(',').map((text) => Number(text));
      for (const number of numbers) {
        if (!Number.isInteger(number) || number < 1 || number > info.numberOfFrames)
          throw new MedvoxError('NOT_FOUND', `frame ${number} is not in the instance (1..${info.numberOfFrames})`);
      }
      const pixel = file.dataset.get(0x7fe00010);
      const frameBytes = (info.rows * info.columns * info.samplesPerPixel * info.bitsAllocated) / 8;
      const boundary = newBoundary();
      async function* parts() {
        for (const number of numbers) {
          const encoded = encodedFrame(file, number - 1);
          if (encoded) {
            yield {
              contentType: `application/octet-stream; transfer-syntax=${file.transferSyntaxUID}`,
              body: encoded.encoded,
            };
          } else {
            const bytes = pixel?.bytes ?? new Uint8Array(0);
            yield {
              contentType: 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1',
              body: bytes.subarray((number - 1) * frameBytes, number * frameBytes),
            };
          }
        }
      }
      return reply
        .type(`multipart/related; type="application/octet-stream"; boundary=${boundary}`)
        .send(multipartStream(boundary, parts()));
    },
  );

  const rendered = async (request: FastifyRequest<{ Params: Params; Querystring: Query }>, reply: FastifyReply) => {
    const row = request.params.instance ? requireInstance(request.params) : selected(request.params)[0]!;
    const file = readDicom(await archive.blobs.get(row.blob), { source: row.sopInstanceUID });
    const frameNumber = request.params.frames ? Number(request.params.frames.split(',')[0]) : 1;
    const frame = await decodeFrame(file, frameNumber - 1);
    const slope = file.dataset.number('RescaleSlope') ?? 1;
    const intercept = file.dataset.number('RescaleIntercept') ?? 0;
    const window = String(request.query.window ?? '')
      .split(',')
      .map(Number);
    let center = window[0] ?? file.dataset.numbers('WindowCenter')[0];
    let width = window[1] ?? file.dataset.numbers('WindowWidth')[0];
    if (!Number.isFinite(center) || !Number.isFinite(width) || !width) {
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      for (const value of frame.pixels) {
        const real = Number(value) * slope + intercept;
        if (real < min) min = real;
        if (real > max) max = real;
      }
      center = (min + max) / 2;
      width = Math.max(max - min, 1);
    }
    const channels = frame.samplesPerPixel === 3 ? 3 : 1;
    const out = new Uint8Array(frame.rows * frame.columns * channels);
    if (channels === 3) for (let i = 0; i < out.length; i++) out[i] = Number(frame.pixels[i]);
    else {
      const low = center! - width! / 2;
      const invert = frame.photometricInterpretation === 'MONOCHROME1';
      for (let i = 0; i < out.length; i++) {
        const grey = Math.max(
          0,
          Math.min(255, Math.round(((Number(frame.pixels[i]) * slope + intercept - low) / width!) * 255)),
        );
        out[i] = invert ? 255 - grey : grey;
      }
    }
    return reply.type('image/png').send(Buffer.from(encodePng(frame.columns, frame.rows, channels, out)));
  };
  app.get(`${root}/studies/:study/series/:series/instances/:instance/rendered`, rendered);
  app.get(`${root}/studies/:study/series/:series/instances/:instance/frames/:frames/rendered`, rendered);
  app.get(`${root}/studies/:study/series/:series/rendered`, rendered);

  // ---- STOW-RS ----
  const stow = async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    const body = request.body as Buffer;
    const parts = parseMultipart(body, boundaryOf(request.headers['content-type']));
    const checked: CheckedInstance[] = [];
    const failed: DicomJsonObject[] = [];
    for (const [n, part] of parts.entries()) {
      try {
        const item = checkInstance(
          new Uint8Array(part.body.buffer, part.body.byteOffset, part.body.byteLength),
          `part ${n + 1}`,
        );
        if (request.params.study && item.studyInstanceUID !== request.params.study)
          throw new MedvoxError('BAD_REQUEST', `part ${n + 1} belongs to study ${item.studyInstanceUID}`);
        checked.push(item);
      } catch (error) {
        const typed = toMedvoxError(error);
        failed.push({
          '00081150': { vr: 'UI', Value: [] },
          '00081155': { vr: 'UI', Value: [] },
          // 0xC000: cannot understand (PS3.4 Annex B.2.3)
          '00081197': { vr: 'US', Value: [typed.code === 'BAD_REQUEST' ? 0xa900 : 0xc000] },
        });
      }
    }
    await storeInstances(archive, checked);
    const series = [...new Set(checked.map((item) => item.seriesInstanceUID))];
    const studies = [...new Set(checked.map((item) => item.studyInstanceUID))];
    if (series.length > 0) context.runner.submit('derive', { series, studies }, studies[0]);
    const answer: DicomJsonObject = {
      '00081199': {
        vr: 'SQ',
        Value: checked.map((item) => ({
          '00081150': { vr: 'UI', Value: [item.sopClassUID] },
          '00081155': { vr: 'UI', Value: [item.sopInstanceUID] },
          '00081190': {
            vr: 'UR',
            Value: [
              `${base(request)}/studies/${item.studyInstanceUID}/series/${item.seriesInstanceUID}/instances/${item.sopInstanceUID}`,
            ],
          },
        })),
      },
    };
    if (failed.length > 0) answer['00081198'] = { vr: 'SQ', Value: failed };
    const status = failed.length === 0 ? 200 : checked.length === 0 ? 409 : 202;
    return reply.status(status).type(DICOM_JSON).send(answer);
  };
  app.post(`${root}/studies`, stow);
  app.post(`${root}/studies/:study`, stow);
}
