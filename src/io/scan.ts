/**
 * Input discovery for batch operations: files, directories (recursive), zip archives (entries read one at a
 * time, never extracted to disk) and DICOMDIR files. Yields candidate files with a lazy reader; deciding whether
 * the bytes are DICOM is the reader's job, so nothing is guessed from file names except `.zip` and `DICOMDIR`.
 */
import { type Dirent, readdirSync, type Stats, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, normalize, relative, sep } from 'node:path';
import type yauzl from 'yauzl';
import { MedvoxError } from '../core/errors.ts';

export interface InputFile {
  /** Where the file is, as a user reads it: a path, or `archive.zip!/entry/name`. */
  name: string;
  /** Size in bytes when known before reading. */
  size: number;
  /** The file's path when it is a file on disk (not a zip entry). */
  path?: string;
  read(): Promise<Uint8Array>;
}

export interface ScanOptions {
  /** Look inside .zip files (default true). */
  zip?: boolean;
  /** Skip hidden files and folders (names starting with '.'; default true). */
  skipHidden?: boolean;
}

const MAX_ZIP_ENTRY = 2 ** 31 - 1;

/** Every candidate file below the inputs, depth first in sorted order (deterministic output naming). */
export async function* scanInputs(inputs: readonly string[], options: ScanOptions = {}): AsyncGenerator<InputFile> {
  for (const input of inputs) {
    const info = await inputInfo(input);
    if (info.isDirectory()) yield* walk(input, options);
    else yield* fileEntries(input, info.size, options);
  }
}

/**
 * scanInputs collected into a list: the same files in the same order, without an async generator step per file
 * (a tenth of a 3,000-file metadata report went into yielding them one by one).
 */
export async function listInputs(inputs: readonly string[], options: ScanOptions = {}): Promise<InputFile[]> {
  const out: InputFile[] = [];
  const collect = async (dir: string): Promise<void> => {
    for (const { path, entry } of folderEntries(dir, options)) {
      if (entry.isDirectory()) await collect(path);
      else if (entry.isFile()) {
        if (isZip(path, options)) for await (const file of zipEntries(path)) out.push(file);
        else out.push(new DiskFile(path, undefined));
      }
    }
  };
  for (const input of inputs) {
    const info = await inputInfo(input);
    if (info.isDirectory()) await collect(input);
    else for await (const file of fileEntries(input, info.size, options)) out.push(file);
  }
  return out;
}

async function inputInfo(input: string): Promise<Stats> {
  try {
    return await stat(input);
  } catch (error) {
    throw new MedvoxError('IO_ERROR', 'input does not exist or cannot be read', {
      file: input,
      hint: 'check the --input path',
      cause: error,
    });
  }
}

/**
 * A folder's entries in name order with their paths, hidden ones left out unless asked for. Read synchronously: one
 * system call for a whole folder, where a promise costs as much; the folder is normalised once for every
 * `join(dir, name)` (3,000 joins are a few ms of a report).
 */
function folderEntries(dir: string, options: ScanOptions): Array<{ path: string; entry: Dirent }> {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    throw new MedvoxError('IO_ERROR', `cannot list the folder: ${(error as Error).message}`, {
      file: dir,
      hint: 'check that the folder exists and is readable',
      cause: error,
    });
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const folder = normalize(dir);
  const prefix = folder.endsWith(sep) ? folder : folder + sep;
  const out: Array<{ path: string; entry: Dirent }> = [];
  for (const entry of entries) {
    if (options.skipHidden === false || !entry.name.startsWith('.')) out.push({ path: prefix + entry.name, entry });
  }
  return out;
}

const isZip = (path: string, options: ScanOptions): boolean =>
  options.zip !== false && path.toLowerCase().endsWith('.zip');

async function* walk(dir: string, options: ScanOptions): AsyncGenerator<InputFile> {
  for (const { path, entry } of folderEntries(dir, options)) {
    if (entry.isDirectory()) yield* walk(path, options);
    else if (entry.isFile()) yield* fileEntries(path, undefined, options);
  }
}

/** A file on disk. The size is looked up only when asked for: most callers read the file anyway. */
class DiskFile implements InputFile {
  private knownSize: number | undefined;
  constructor(
    readonly path: string,
    size: number | undefined,
  ) {
    this.knownSize = size;
  }
  get name(): string {
    return this.path;
  }
  get size(): number {
    this.knownSize ??= statSync(this.path).size;
    return this.knownSize;
  }
  async read(): Promise<Uint8Array> {
    return new Uint8Array(await readFile(this.path));
  }
}

async function* fileEntries(
  path: string,
  knownSize: number | undefined,
  options: ScanOptions,
): AsyncGenerator<InputFile> {
  if (isZip(path, options)) yield* zipEntries(path);
  else yield new DiskFile(path, knownSize);
}

async function openZip(path: string): Promise<yauzl.ZipFile> {
  // Loaded when a zip is found: most runs have none.
  const { default: zipReader } = await import('yauzl');
  return new Promise((resolve, reject) => {
    zipReader.open(path, { lazyEntries: true, autoClose: false, strictFileNames: false }, (error, zip) => {
      if (error || !zip)
        reject(new MedvoxError('IO_ERROR', `not a readable zip archive: ${error?.message}`, { file: path }));
      else resolve(zip);
    });
  });
}

async function* zipEntries(path: string): AsyncGenerator<InputFile> {
  const archive = new ZipArchive(path);
  const entries = await archive.list();
  entries.sort((a, b) => (a.fileName < b.fileName ? -1 : 1));
  for (const entry of entries) {
    if (entry.fileName.endsWith('/')) continue;
    const base = basename(entry.fileName);
    if (base.startsWith('.') || entry.fileName.startsWith('__MACOSX/')) continue;
    const name = `${path}!/${entry.fileName}`;
    if (entry.uncompressedSize > MAX_ZIP_ENTRY) {
      throw new MedvoxError('IO_ERROR', 'zip entry larger than 2 GiB', { file: name });
    }
    yield { name, size: entry.uncompressedSize, read: () => archive.read(entry.fileName, name) };
  }
}

/** An archive unused this long is closed (a later read opens it again). */
const ZIP_IDLE_MS = 500;

/**
 * A zip archive whose entries are read on demand, in any order and at any time after they were listed (a report
 * lists every input first, then reads them): open while entries are read, closed when idle, opened again by a later
 * read. No file descriptor stays open behind a listing nobody reads.
 */
class ZipArchive {
  private zip: yauzl.ZipFile | undefined;
  private entries = new Map<string, yauzl.Entry>();
  private opening: Promise<void> | undefined;
  private reading = 0;
  private idle: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly path: string) {}

  /** The entries, in archive order. */
  async list(): Promise<yauzl.Entry[]> {
    this.hold();
    try {
      await this.open();
      return [...this.entries.values()];
    } finally {
      this.release();
    }
  }

  async read(fileName: string, name: string): Promise<Uint8Array> {
    this.hold();
    try {
      await this.open();
      const entry = this.entries.get(fileName);
      if (!entry) throw new MedvoxError('IO_ERROR', 'the zip entry is gone (the archive changed)', { file: name });
      return await readZipEntry(this.zip!, entry, name);
    } finally {
      this.release();
    }
  }

  private hold(): void {
    this.reading++;
    clearTimeout(this.idle);
  }

  private release(): void {
    if (--this.reading > 0) return;
    this.idle = setTimeout(() => this.close(), ZIP_IDLE_MS);
    this.idle.unref();
  }

  private async open(): Promise<void> {
    if (this.zip) return;
    this.opening ??= (async () => {
      const zip = await openZip(this.path);
      this.entries = await listEntries(zip, this.path);
      this.zip = zip;
    })().finally(() => {
      this.opening = undefined;
    });
    await this.opening;
  }

  private close(): void {
    this.zip?.close();
    this.zip = undefined;
  }
}

function listEntries(zip: yauzl.ZipFile, path: string): Promise<Map<string, yauzl.Entry>> {
  return new Promise((resolve, reject) => {
    const entries = new Map<string, yauzl.Entry>();
    zip.on('entry', (entry: yauzl.Entry) => {
      entries.set(entry.fileName, entry);
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    zip.on('error', (error: Error) => {
      zip.close();
      reject(new MedvoxError('IO_ERROR', `corrupt zip archive: ${error.message}`, { file: path }));
    });
    zip.readEntry();
  });
}

function readZipEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, name: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error || !stream) {
        reject(new MedvoxError('IO_ERROR', `cannot read zip entry: ${error?.message}`, { file: name }));
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (streamError: Error) =>
        reject(new MedvoxError('IO_ERROR', `corrupt zip entry: ${streamError.message}`, { file: name })),
      );
      stream.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    });
  });
}

/** Display path relative to a base folder (for reports), keeping zip entry suffixes. */
export function displayName(name: string, base: string): string {
  const rel = relative(base, name);
  return rel.startsWith('..') ? name : rel;
}
