/**
 * Safety checks before a zip is opened for ingest: every entry name must stay inside the archive (no `..`
 * component, no absolute or drive path, no backslash tricks), and the archive must not be a zip bomb (total
 * declared expansion over a limit, or an entry expanding more than a ratio). yauzl then enforces the declared
 * sizes while reading (validateEntrySizes), so a lying header cannot expand past them.
 */
import type yauzl from 'yauzl';
import { MedvoxError } from '../core/errors.ts';

export interface ZipLimits {
  /** Largest total uncompressed size (bytes). */
  maxTotalUncompressed: number;
  /** Largest uncompressed / compressed ratio of an entry over 1 MiB (deflate's best is ~1032:1; DICOM ~2-10:1). */
  maxRatio: number;
  maxEntries: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxTotalUncompressed: 4 * 1024 ** 3,
  maxRatio: 200,
  maxEntries: 100_000,
};

export interface ZipSummary {
  entries: number;
  uncompressed: number;
}

function unsafeName(name: string): boolean {
  const normalised = name.replace(/\\/g, '/');
  return (
    normalised.startsWith('/') ||
    /^[a-zA-Z]:/.test(normalised) ||
    normalised.split('/').some((part) => part === '..') ||
    normalised.includes('\0')
  );
}

export async function checkZip(
  path: string,
  name: string,
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
): Promise<ZipSummary> {
  const { default: zipReader } = await import('yauzl');
  // decodeStrings false: yauzl's own name validation would fail the whole listing without the entry's name.
  const zip: yauzl.ZipFile = await new Promise((resolve, reject) => {
    zipReader.open(path, { lazyEntries: true, autoClose: false, decodeStrings: false }, (error, opened) => {
      if (error || !opened)
        reject(new MedvoxError('ZIP_UNSAFE', `not a readable zip archive: ${error?.message}`, { file: name }));
      else resolve(opened);
    });
  });
  try {
    return await new Promise<ZipSummary>((resolve, reject) => {
      let entries = 0;
      let uncompressed = 0;
      zip.on('entry', (entry: yauzl.Entry) => {
        const entryName = Buffer.isBuffer(entry.fileName) ? entry.fileName.toString('utf8') : String(entry.fileName);
        entries++;
        uncompressed += entry.uncompressedSize;
        if (unsafeName(entryName)) {
          reject(
            new MedvoxError('ZIP_UNSAFE', `entry "${entryName}" points outside the archive`, {
              file: name,
              hint: 'zip the files with relative names below one folder',
            }),
          );
          return;
        }
        const ratio = entry.uncompressedSize / Math.max(entry.compressedSize, 1);
        if (
          (entry.uncompressedSize > 1024 * 1024 && ratio > limits.maxRatio) ||
          uncompressed > limits.maxTotalUncompressed ||
          entries > limits.maxEntries
        ) {
          reject(
            new MedvoxError(
              'ZIP_UNSAFE',
              `zip bomb refused: entry "${entryName}" expands ${ratio.toFixed(0)}:1, ${uncompressed} bytes in ${entries} entries so far`,
              {
                file: name,
                hint: `limits: ratio ${limits.maxRatio}:1, ${limits.maxTotalUncompressed} bytes, ${limits.maxEntries} entries`,
              },
            ),
          );
          return;
        }
        zip.readEntry();
      });
      zip.on('end', () => resolve({ entries, uncompressed }));
      zip.on('error', (error: Error) =>
        reject(new MedvoxError('ZIP_UNSAFE', `corrupt zip archive: ${error.message}`, { file: name })),
      );
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
}
