/**
 * Report outputs with streamed rows: an .xlsx workbook (one sheet per table), CSV files (one per table) or one
 * JSON file. Columns may grow while rows arrive (a new modality brings its template's columns), so each table's
 * rows are spooled to a temporary file and the header is written when the report closes. Memory holds one
 * buffer per table, whatever the number of rows. The output appears atomically (temporary name, then rename).
 */
import { type FileHandle, mkdtemp, open, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { MedvoxError } from '../core/errors.ts';
import type { CellValue } from '../core/metadata/cells.ts';
import { ensureDirectory, temporaryPath } from './atomic.ts';
import { Spool } from './spool.ts';
import { workbookParts, XlsxRows } from './xlsx.ts';
import { deflatePiece, ZipWriter } from './zip-writer.ts';

export type ReportFormat = 'xlsx' | 'csv' | 'json';

export interface ReportTable {
  /** Columns so far; later calls may only append. */
  setColumns(headers: readonly string[]): void;
  /**
   * One row; `values[i]` belongs to column i (shorter rows leave the rest empty). Returns a promise when the row
   * had to wait for a write (await it before the next row), else undefined: no promise per row.
   */
  addRow(values: readonly CellValue[]): Promise<void> | undefined;
  readonly rowCount: number;
}

export interface ReportSink {
  table(name: string): ReportTable;
  /** Write everything; returns the files written. */
  close(): Promise<string[]>;
  /** Remove temporary files after a failure (nothing is left at the output path). */
  abort(): Promise<void>;
}

class SpooledTable implements ReportTable {
  headers: string[] = [];
  rowCount = 0;
  /** Longest text per column (capped), for the column widths of a workbook. */
  widths: number[] = [];
  /** The workbook's rows (xlsx only). */
  readonly xlsx = new XlsxRows(this.widths);
  constructor(
    readonly name: string,
    readonly spool: Spool,
    private readonly write: (table: SpooledTable, values: readonly CellValue[]) => Promise<void> | undefined,
  ) {}
  setColumns(headers: readonly string[]): void {
    if (headers.length < this.headers.length || this.headers.some((header, i) => headers[i] !== header))
      throw new MedvoxError('INTERNAL', `table ${this.name}: columns may only be appended`);
    this.headers = [...headers];
  }
  addRow(values: readonly CellValue[]): Promise<void> | undefined {
    this.rowCount++;
    return this.write(this, values);
  }
}

async function temporaryFolder(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'medvox-report-'));
}

async function atomicOutput(path: string, write: (temporary: string) => Promise<void>): Promise<void> {
  await ensureDirectory(dirname(path));
  const temporary = temporaryPath(path);
  try {
    await write(temporary);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    if (error instanceof MedvoxError) throw error;
    throw new MedvoxError('IO_ERROR', `cannot write: ${(error as Error).message}`, { file: path, cause: error });
  }
}

/** Open a report: `output` is the .xlsx / .json file, or for CSV the folder receiving `<table>.csv` files. */
export async function createReportSink(format: ReportFormat, output: string): Promise<ReportSink> {
  const folder = await temporaryFolder();
  const tables: SpooledTable[] = [];
  // xlsx: each full spool chunk of a sheet is compressed while later rows are made (see ZipWriter.addEntry).
  const deflatedAhead = new Map<Uint8Array, Promise<Uint8Array>>();
  const compressAhead =
    format === 'xlsx'
      ? (chunk: Uint8Array) => {
          const piece = deflatePiece(chunk);
          piece.catch(() => {}); // compressed again when the sheet is written, and any error reported then
          deflatedAhead.set(chunk, piece);
        }
      : undefined;
  const tableWriting = (
    name: string,
    write: (table: SpooledTable, values: readonly CellValue[]) => Promise<void> | undefined,
  ) => {
    const created = new SpooledTable(name, new Spool(join(folder, `${tables.length}.part`), compressAhead), write);
    tables.push(created);
    return created;
  };
  /** A table whose rows are text made by `encode`. */
  const table = (name: string, encode: (table: SpooledTable, values: readonly CellValue[]) => string) =>
    tableWriting(name, (t, values) => t.spool.append(encode(t, values)));
  const cleanup = async (): Promise<void> => {
    await Promise.all(tables.map((t) => t.spool.dispose()));
    await rm(folder, { recursive: true, force: true });
  };
  const finish = async (write: () => Promise<string[]>): Promise<string[]> => {
    try {
      return await write();
    } finally {
      await cleanup();
    }
  };

  if (format === 'xlsx') {
    return {
      table: (name) => tableWriting(name, (t, values) => t.xlsx.write(t.rowCount + 1, values, t.spool)),
      abort: cleanup,
      close: () =>
        finish(async () => {
          await atomicOutput(output, async (temporary) => {
            const handle = await open(temporary, 'w');
            try {
              const zip = new ZipWriter(handle, output);
              for (const part of workbookParts(
                tables.map((t) => ({
                  name: t.name,
                  headers: t.headers,
                  rows: t.rowCount,
                  widths: t.widths,
                  body: () => t.spool.read(),
                })),
              ))
                await zip.addEntry(part.name, part.chunks, (chunk) => deflatedAhead.get(chunk));
              await zip.finish();
            } finally {
              await handle.close();
            }
          });
          return [output];
        }),
    };
  }
  if (format === 'csv') {
    return {
      table: (name) => table(name, (_t, values) => `${values.map(csvField).join(',')}\r\n`),
      abort: cleanup,
      close: () =>
        finish(async () => {
          await ensureDirectory(output);
          const written: string[] = [];
          for (const t of tables) {
            const path = join(output, `${t.name}.csv`);
            await atomicOutput(path, async (temporary) => {
              const handle = await open(temporary, 'w');
              try {
                // A UTF-8 byte order mark makes Excel read the names right; RFC 4180 CRLF lines.
                await handle.write(`\ufeff${t.headers.map(csvField).join(',')}\r\n`);
                for await (const chunk of t.spool.read()) await writeChunk(handle, chunk);
              } finally {
                await handle.close();
              }
            });
            written.push(path);
          }
          return written;
        }),
    };
  }
  return {
    table: (name) =>
      table(name, (t, values) => {
        const entries: string[] = [];
        values.forEach((value, index) => {
          if (value === null || value === undefined) return;
          entries.push(`${JSON.stringify(t.headers[index] ?? `column${index + 1}`)}:${jsonValue(value)}`);
        });
        return `${t.rowCount > 1 ? ',\n' : '\n'}    {${entries.join(',')}}`;
      }),
    abort: cleanup,
    close: () =>
      finish(async () => {
        await atomicOutput(output, async (temporary) => {
          const handle = await open(temporary, 'w');
          try {
            await handle.write('{');
            for (const [index, t] of tables.entries()) {
              await handle.write(
                `${index ? ',' : ''}\n  ${JSON.stringify(t.name)}: {\n    "columns": ${JSON.stringify(t.headers)},\n    "rows": [`,
              );
              for await (const chunk of t.spool.read()) await writeChunk(handle, chunk);
              await handle.write(`${t.rowCount ? '\n    ' : ''}]\n  }`);
            }
            await handle.write('\n}\n');
          } finally {
            await handle.close();
          }
        });
        return [output];
      }),
  };
}

async function writeChunk(handle: FileHandle, chunk: Uint8Array | string): Promise<void> {
  if (typeof chunk === 'string') await handle.write(chunk);
  else await handle.write(chunk);
}

function jsonValue(value: Exclude<CellValue, null>): string {
  if (value instanceof Date) return JSON.stringify(isoDate(value));
  if (typeof value === 'number' && !Number.isFinite(value)) return JSON.stringify(String(value));
  return JSON.stringify(value);
}

/** A date's ISO text without the Z: the wall-clock value the file gave (DICOM DA / DT carry no zone here). */
function isoDate(date: Date): string {
  const iso = date.toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso.slice(0, -1).replace(/\.000$/, '');
}

function csvField(value: CellValue | undefined): string {
  if (value === null || value === undefined) return '';
  const text = value instanceof Date ? isoDate(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
