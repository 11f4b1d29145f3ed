/**
 * Metadata workbooks over HTTP (docs/api.md, docs/metadata.md): the report of `medvox metadata` for a study, a
 * search result (the studies page's search) or a dataset (an explicit set of studies and series), made from the
 * stored instances' files. The report is written to a temporary folder (its rows are spooled to disk, so memory
 * stays bounded whatever the number of instances), then streamed with its length and removed once sent; any
 * failure before the first byte is an ordinary JSON error.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MedvoxError } from '../core/errors.ts';
import type { MrCleanConfig } from '../core/metadata/mr-config.ts';
import type { TemplateSet } from '../core/metadata/template.ts';
import type { ReportFormat } from '../io/report-sink.ts';
import type { InputFile } from '../io/scan.ts';
import { ZipWriter } from '../io/zip-writer.ts';
import { metadataReport, SHEETS } from '../ops/metadata-report.ts';
import type { InstanceFileRow } from '../store/types.ts';
import type { ServerContext } from './context.ts';
import { hasSearch, matchesStudy, parseStudySearch } from './study-search.ts';

/** Templates and MR rules in force for downloads (`medvox serve --templates / --mr-config`, else the defaults). */
export interface MetadataSettings {
  templates?: TemplateSet;
  mrConfig?: MrCleanConfig;
}

const FORMATS: readonly ReportFormat[] = ['xlsx', 'csv', 'json'];
const SHEET_NAMES: readonly string[] = Object.values(SHEETS);
const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
/** Ids in one dataset request: far more than a person selects, few enough to answer an error quickly. */
const MAX_IDS = 10_000;

interface DownloadRequest {
  format: ReportFormat;
  /** With csv: one table as a .csv file instead of a zip of the three. */
  sheet?: string;
  /** The file name the user asked for (sanitised). */
  name?: string;
}

interface Selection {
  files: InstanceFileRow[];
  /** Base of the file name when none was asked for. */
  baseName: string;
}

type Query = Record<string, unknown>;

// ---- file names ----

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)$/i;

function tidy(name: string, allowed: RegExp): string {
  let out = '';
  for (const character of name) out += allowed.test(character) ? character : '_';
  out = out
    .replace(/_+/g, '_')
    .replace(/^[._-]+/, '')
    .replace(/[._-]+$/, '');
  out = [...out].slice(0, 100).join('');
  if (out === '' || WINDOWS_RESERVED.test(out)) out = `metadata${out ? `-${out}` : ''}`;
  return out;
}

/**
 * A download's file name in two forms: `ascii` (letters, digits, `.`, `_`, `-`) for `filename=`, and `unicode`
 * (any letter or digit kept) for `filename*=`. No path separator, quote, control character or leading dot survives.
 */
export function downloadFileName(base: string, extension: string): { ascii: string; unicode: string } {
  const normal = base.normalize('NFC');
  const unicode = tidy(normal, /[\p{L}\p{N}._-]/u);
  const ascii = tidy(normal.normalize('NFKD').replace(/\p{M}/gu, ''), /[A-Za-z0-9._-]/);
  return { ascii: `${ascii}.${extension}`, unicode: `${unicode}.${extension}` };
}

/** RFC 6266 with the RFC 8187 form when the name is not plain ASCII. */
export function contentDisposition(base: string, extension: string): string {
  const { ascii, unicode } = downloadFileName(base, extension);
  if (unicode === ascii) return `attachment; filename="${ascii}"`;
  const encoded = encodeURIComponent(unicode).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

// ---- parameters ----

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new MedvoxError('BAD_REQUEST', `${name} must be a single text value`);
  return value;
}

function downloadRequest(source: Query): DownloadRequest {
  const formatText = optionalString(source.format, 'format') ?? 'xlsx';
  if (!(FORMATS as readonly string[]).includes(formatText))
    throw new MedvoxError('BAD_REQUEST', `format must be xlsx, csv or json (got "${formatText.slice(0, 40)}")`, {
      hint: 'e.g. ?format=csv',
    });
  const format = formatText as ReportFormat;
  const sheet = optionalString(source.sheet, 'sheet');
  if (sheet !== undefined) {
    if (format !== 'csv') throw new MedvoxError('BAD_REQUEST', 'sheet is for format=csv (one table as one .csv file)');
    if (!SHEET_NAMES.includes(sheet))
      throw new MedvoxError(
        'BAD_REQUEST',
        `sheet must be one of ${SHEET_NAMES.join(', ')} (got "${sheet.slice(0, 40)}")`,
      );
  }
  const name = optionalString(source.name, 'name');
  return { format, ...(sheet ? { sheet } : {}), ...(name ? { name } : {}) };
}

/** `study=a&study=b`, `study=a,b`, or a JSON array: the ids, trimmed, without repeats. */
function idList(value: unknown, name: string): string[] {
  if (value === undefined) return [];
  const items = Array.isArray(value) ? value : [value];
  const ids: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') throw new MedvoxError('BAD_REQUEST', `${name} must hold UIDs (text)`);
    for (const id of item.split(',')) if (id.trim()) ids.push(id.trim());
  }
  if (ids.length > MAX_IDS) throw new MedvoxError('BAD_REQUEST', `at most ${MAX_IDS} ${name} ids in one request`);
  return [...new Set(ids)];
}

function notFound(kind: string, ids: string[]): MedvoxError {
  const shown = ids.slice(0, 5).join(', ') + (ids.length > 5 ? ` and ${ids.length - 5} more` : '');
  return new MedvoxError('NOT_FOUND', `no ${kind} ${shown}`, { hint: `GET /api/studies lists the archive's studies` });
}

// ---- selections ----

function selectStudy(context: ServerContext, studyInstanceUID: string): Selection {
  const index = context.archive.index;
  if (!index.study(studyInstanceUID)) throw notFound('study', [studyInstanceUID]);
  return { files: index.instanceFiles({ studyInstanceUID }), baseName: `metadata-${studyInstanceUID}` };
}

function selectSearch(context: ServerContext, query: Query): Selection {
  const search = parseStudySearch(query);
  const studies = context.archive.index.studies().filter((study) => matchesStudy(study, search));
  if (studies.length === 0)
    throw new MedvoxError('EMPTY_SELECTION', 'no study matches the search', {
      hint: 'widen the search (patient, from, to, modality)',
    });
  return {
    files: studies.flatMap((study) =>
      context.archive.index.instanceFiles({ studyInstanceUID: study.studyInstanceUID }),
    ),
    baseName: studies.length === 1 ? `metadata-${studies[0]!.studyInstanceUID}` : `metadata-${studies.length}-studies`,
  };
}

function selectDataset(context: ServerContext, studies: string[], series: string[]): Selection {
  const index = context.archive.index;
  if (studies.length === 0 && series.length === 0)
    throw new MedvoxError('BAD_REQUEST', 'the dataset is empty: give studies and / or series', {
      hint: '{ "studies": ["<StudyInstanceUID>"], "series": ["<SeriesInstanceUID>"] } or ?study=<uid>&series=<uid>',
    });
  const unknownStudies = studies.filter((uid) => !index.study(uid));
  if (unknownStudies.length > 0) throw notFound('study', unknownStudies);
  const seriesFiles = series.map((uid) => index.instanceFiles({ seriesInstanceUID: uid }));
  const unknownSeries = series.filter((_uid, i) => seriesFiles[i]!.length === 0);
  if (unknownSeries.length > 0) throw notFound('series', unknownSeries);
  const seen = new Set<string>();
  const files: InstanceFileRow[] = [];
  for (const rows of [...studies.map((uid) => index.instanceFiles({ studyInstanceUID: uid })), ...seriesFiles])
    for (const row of rows) {
      if (seen.has(row.sopInstanceUID)) continue;
      seen.add(row.sopInstanceUID);
      files.push(row);
    }
  const studyCount = new Set(files.map((row) => row.studyInstanceUID)).size;
  return {
    files,
    baseName:
      studies.length === 1 && series.length === 0
        ? `metadata-${studies[0]}`
        : `metadata-dataset-${studyCount}-stud${studyCount === 1 ? 'y' : 'ies'}`,
  };
}

/** GET /api/metadata: explicit `study` / `series` ids make a dataset; otherwise the search parameters a result. */
function selectFromQuery(context: ServerContext, query: Query): Selection {
  const studies = idList(query.study, 'study');
  const series = idList(query.series, 'series');
  if (studies.length === 0 && series.length === 0) return selectSearch(context, query);
  if (hasSearch(query))
    throw new MedvoxError('BAD_REQUEST', 'give either study / series ids or search parameters, not both');
  return selectDataset(context, studies, series);
}

// ---- the report ----

async function send(
  context: ServerContext,
  selection: Selection,
  download: DownloadRequest,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  if (selection.files.length === 0)
    throw new MedvoxError('EMPTY_SELECTION', 'the selection holds no instance', { hint: 'select other studies' });
  const blobs = context.archive.blobs;
  const files: InputFile[] = selection.files.map((row) => {
    const path = blobs.path(row.blob);
    return {
      // What the File column shows: where the instance can be fetched from this server.
      name: `/api/instances/${row.sopInstanceUID}/file`,
      size: row.size,
      ...(path !== undefined ? { path } : {}),
      read: () => blobs.get(row.blob),
    };
  });
  const folder = await mkdtemp(join(tmpdir(), 'medvox-download-'));
  const cleanup = (): void => void rm(folder, { recursive: true, force: true });
  try {
    const { format, sheet } = download;
    const output = join(folder, format === 'csv' ? 'csv' : `metadata.${format}`);
    const socket = request.raw.socket;
    const result = await metadataReport({
      inputs: [],
      files,
      output,
      format,
      ...(context.metadata?.templates ? { templates: context.metadata.templates } : {}),
      ...(context.metadata?.mrConfig ? { mrConfig: context.metadata.mrConfig } : {}),
      onProgress: () => {
        // Nobody is waiting any more: stop reading headers.
        if (socket.destroyed) throw new MedvoxError('CANCELLED', 'the client closed the connection');
      },
    });
    let path = output;
    let type = format === 'xlsx' ? XLSX_TYPE : 'application/json; charset=utf-8';
    let extension: string = format;
    let base = download.name ?? selection.baseName;
    if (format === 'csv') {
      if (sheet) {
        path = join(output, `${sheet}.csv`);
        if (!result.outputs.includes(path))
          throw new MedvoxError('NOT_FOUND', `no ${sheet} table: the selection holds no MR instance`);
        type = 'text/csv; charset=utf-8';
        extension = 'csv';
        base = `${base}-${sheet}`;
      } else {
        path = join(folder, 'metadata-csv.zip');
        await zipFiles(path, result.outputs);
        type = 'application/zip';
        extension = 'zip';
        base = `${base}-csv`;
      }
    }
    const size = (await stat(path)).size;
    reply.raw.once('close', cleanup);
    return reply
      .type(type)
      .header('Content-Disposition', contentDisposition(base, extension))
      .header('Content-Length', size)
      .header('Cache-Control', 'no-store')
      .header('X-Medvox-Instances', result.instances)
      .header('X-Medvox-Series', result.series)
      .header('X-Medvox-Unreadable', result.errors.length + result.notDicom.length)
      .send(createReadStream(path));
  } catch (error) {
    cleanup();
    throw error;
  }
}

async function zipFiles(path: string, files: string[]): Promise<void> {
  const handle = await open(path, 'w');
  try {
    const zip = new ZipWriter(handle, path, 6);
    for (const file of files) await zip.addEntry(file.slice(file.lastIndexOf('/') + 1), createReadStream(file));
    await zip.finish();
  } finally {
    await handle.close();
  }
}

export function registerMetadataDownloads(app: FastifyInstance, context: ServerContext): void {
  const study = async (
    request: FastifyRequest<{ Params: { study: string }; Querystring: Query }>,
    reply: FastifyReply,
  ) => send(context, selectStudy(context, request.params.study), downloadRequest(request.query), request, reply);
  app.get('/api/studies/:study/metadata.xlsx', study);
  app.get('/api/studies/:study/metadata', study);

  const query = async (request: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply) => {
    const download = downloadRequest(request.query);
    return send(context, selectFromQuery(context, request.query), download, request, reply);
  };
  app.get('/api/metadata.xlsx', query);
  app.get('/api/metadata', query);

  app.post('/api/metadata', async (request: FastifyRequest<{ Body: unknown }>, reply) => {
    const body = request.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new MedvoxError(
        'BAD_REQUEST',
        'send a JSON object: { "studies": [...], "series": [...], "format": "xlsx" }',
      );
    const fields = body as Query;
    const download = downloadRequest(fields);
    const selection = selectDataset(context, idList(fields.studies, 'studies'), idList(fields.series, 'series'));
    return send(context, selection, download, request, reply);
  });
}
