/**
 * Metadata report: every DICOM instance below the inputs -> a workbook (or CSV files, or JSON) with
 *   DICOM_Metadata  one row per instance: identifiers + the columns of its modality's template,
 *   Series_Summary  one row per series,
 *   MR_Cleaned      one row per MR series (per echo when echoes differ): normalised sequence class etc.
 * Headers only are read (never Pixel Data) and rows are streamed to the output, so memory does not grow with the
 * number of instances. This is the function the CLI calls, and the one a server route or job calls to produce a
 * download for a study, a query result or a dataset (give the files, or a folder and `studyInstanceUID`).
 */
import { extname } from 'node:path';
import { isNotDicom, type MedvoxError, toMedvoxError } from '../core/errors.ts';
import { InstanceRows } from '../core/metadata/instance-rows.ts';
import { loadMrConfig, type MrCleanConfig } from '../core/metadata/mr-config.ts';
import { MR_CLEANED_COLUMNS, MrSeriesCollector, mrCleanedCells } from '../core/metadata/mr-series.ts';
import { SERIES_SUMMARY_COLUMNS, SeriesSummaryCollector } from '../core/metadata/series-summary.ts';
import { TemplateSet } from '../core/metadata/template.ts';
import { type FileHeader, HeaderReader } from '../io/dicom-file.ts';
import { createReportSink, type ReportFormat } from '../io/report-sink.ts';
import { type InputFile, listInputs } from '../io/scan.ts';

export interface MetadataProgress {
  phase: 'read' | 'write';
  done: number;
  total: number;
}

export interface MetadataReportOptions {
  /** Folders, files or zip archives (scanned recursively). */
  inputs: string[];
  /**
   * Files given one by one, read after `inputs` (the server gives the archive's stored instances this way: `path`
   * is the blob, `name` what the File column and error messages show).
   */
  files?: Iterable<InputFile>;
  /** The .xlsx / .json file, or for `csv` the folder receiving DICOM_Metadata.csv, Series_Summary.csv, MR_Cleaned.csv. */
  output: string;
  /** Default: json for a .json output, else xlsx (csv must be asked for; its output is a folder). */
  format?: ReportFormat;
  /** Templates in force (default: the built-in ones; see src/io/metadata-config.ts for user folders). */
  templates?: TemplateSet;
  /** MR rules (default: the built-in mr_clean_config.json); a parsed config or a raw override object. */
  mrConfig?: MrCleanConfig | Record<string, unknown>;
  /** Keep only instances of this study. */
  studyInstanceUID?: string;
  onProgress?: (progress: MetadataProgress) => void;
}

export interface MetadataReportResult {
  /** Files written. */
  outputs: string[];
  format: ReportFormat;
  instances: number;
  series: number;
  mrRows: number;
  /** Instances left out by `studyInstanceUID`. */
  filteredOut: number;
  notDicom: string[];
  errors: MedvoxError[];
  /** Template sources used, by name (built-in:mr.json, or a user file). */
  templates: string[];
  rulesSource: string;
}

export const SHEETS = { metadata: 'DICOM_Metadata', series: 'Series_Summary', mr: 'MR_Cleaned' } as const;

const PIXEL_DATA = 0x7fe00010;
const MEDIA_STORAGE_DIRECTORY = '1.2.840.10008.1.3.10';

export function formatFor(output: string, format?: ReportFormat): ReportFormat {
  if (format) return format;
  return extname(output).toLowerCase() === '.json' ? 'json' : 'xlsx';
}

function isMrConfig(value: MetadataReportOptions['mrConfig']): value is MrCleanConfig {
  return (
    value !== undefined &&
    Array.isArray((value as { rules?: unknown }).rules) &&
    typeof (value as MrCleanConfig).source === 'string'
  );
}

/**
 * Header of one candidate, read only up to Pixel Data and indexed rather than parsed (io/dicom-file.ts HeaderReader):
 * plain files synchronously into one reused buffer; zip entries whole. Each header is used up (its row, its series'
 * counters) before the next is read, so the reused buffer is safe.
 */
function readHeader(input: InputFile, reader: HeaderReader): FileHeader | Promise<FileHeader> {
  if (input.path !== undefined) return reader.read(input.path, PIXEL_DATA);
  return input.read().then((bytes) => reader.fromBytes(bytes, input.name, PIXEL_DATA));
}

export async function metadataReport(options: MetadataReportOptions): Promise<MetadataReportResult> {
  const format = formatFor(options.output, options.format);
  const templates = options.templates ?? TemplateSet.build();
  const config = isMrConfig(options.mrConfig) ? options.mrConfig : loadMrConfig(options.mrConfig, 'mrConfig option');
  const report = options.onProgress ?? (() => {});

  const candidates: InputFile[] = await listInputs(options.inputs);
  if (options.files) for (const file of options.files) candidates.push(file);

  const result: MetadataReportResult = {
    outputs: [],
    format,
    instances: 0,
    series: 0,
    mrRows: 0,
    filteredOut: 0,
    notDicom: [],
    errors: [],
    templates: [],
    rulesSource: config.source,
  };
  const sink = await createReportSink(format, options.output);
  try {
    const metadata = sink.table(SHEETS.metadata);
    const rows = new InstanceRows();
    let columnsVersion = -1;
    const summary = new SeriesSummaryCollector(config.orientation.toleranceDegrees);
    const mr = new MrSeriesCollector(config);
    const usedTemplates = new Set<string>();

    const reader = new HeaderReader();
    for (let index = 0; index < candidates.length; index++) {
      const input = candidates[index]!;
      // Headers are read synchronously: let other work (a server's requests) run now and then.
      if (index % 64 === 63) await new Promise((resolve) => setImmediate(resolve));
      let outcome: FileHeader;
      try {
        const header = readHeader(input, reader);
        outcome = header instanceof Promise ? await header : header;
      } catch (error) {
        const typed = toMedvoxError(error, input.name);
        if (isNotDicom(typed)) result.notDicom.push(input.name);
        else result.errors.push(typed);
        continue;
      } finally {
        report({ phase: 'read', done: index + 1, total: candidates.length });
      }
      const dataset = outcome.dataset;
      const sopClass = dataset.string('SOPClassUID') ?? outcome.meta.string('MediaStorageSOPClassUID');
      if (sopClass === MEDIA_STORAGE_DIRECTORY) continue;
      if (options.studyInstanceUID !== undefined && dataset.string('StudyInstanceUID') !== options.studyInstanceUID) {
        result.filteredOut++;
        continue;
      }
      const modality = dataset.string('Modality');
      const template = templates.forModality(modality);
      usedTemplates.add(template.source);
      const cells = rows.row(input.name, outcome, template);
      if (rows.version !== columnsVersion) {
        metadata.setColumns(rows.headers);
        columnsVersion = rows.version;
      }
      const written = metadata.addRow(cells);
      if (written !== undefined) await written;
      summary.add(dataset, outcome.transferSyntaxUID);
      if (modality?.trim().toUpperCase() === 'MR') mr.add(dataset);
      result.instances++;
    }
    if (columnsVersion === -1) metadata.setColumns(rows.headers);

    report({ phase: 'write', done: 0, total: 1 });
    const seriesTable = sink.table(SHEETS.series);
    seriesTable.setColumns(SERIES_SUMMARY_COLUMNS);
    for (const cells of summary.rows()) await seriesTable.addRow(cells);
    result.series = summary.size;
    if (mr.size > 0) {
      const mrTable = sink.table(SHEETS.mr);
      mrTable.setColumns(MR_CLEANED_COLUMNS);
      for (const row of mr.rows()) {
        await mrTable.addRow(mrCleanedCells(row));
        result.mrRows++;
      }
    }
    result.outputs = await sink.close();
    result.templates = [...usedTemplates].sort();
    report({ phase: 'write', done: 1, total: 1 });
    return result;
  } catch (error) {
    await sink.abort();
    throw error;
  }
}
