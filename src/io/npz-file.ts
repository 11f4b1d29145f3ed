/**
 * .npz files as numpy.savez_compressed writes them: a ZIP archive (PS: APPNOTE 6.3) of one deflated .npy member
 * per array. Deflate runs in node:zlib on the thread pool (2x faster than fflate here, see docs/architecture.md);
 * the archive is written atomically. Members are limited to 4 GiB (no ZIP64).
 */
import { crc32, createDeflateRaw } from 'node:zlib';
import { MedvoxError } from '../core/errors.ts';
import { type NpyDescr, npyHeader } from '../core/npz/npy.ts';
import { writeFileAtomic } from './atomic.ts';
import { DEFAULT_GZIP_LEVEL } from './nifti-file.ts';

export interface NpzArray {
  name: string;
  descr: NpyDescr;
  shape: number[];
  /** C-order bytes, little endian. */
  bytes: Uint8Array;
}

function deflate(parts: Uint8Array[], level: number): Promise<Uint8Array[]> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    const stream = createDeflateRaw({ level, chunkSize: 1 << 16 });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(chunks));
    stream.on('error', reject);
    for (const part of parts) stream.write(part);
    stream.end();
  });
}

const MAX_ZIP32 = 0xffffffff;
/** 1980-01-01 00:00:00 in MS-DOS date / time: the archive does not depend on the clock. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const DOS_TIME = 0;

export async function writeNpzFile(path: string, arrays: NpzArray[], level = DEFAULT_GZIP_LEVEL): Promise<void> {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const array of arrays) {
    const name = new TextEncoder().encode(`${array.name}.npy`);
    const header = npyHeader(array.descr, array.shape);
    const size = header.length + array.bytes.length;
    const compressed = await deflate([header, array.bytes], level);
    const compressedSize = compressed.reduce((sum, chunk) => sum + chunk.length, 0);
    if (size > MAX_ZIP32 || compressedSize > MAX_ZIP32 || offset > MAX_ZIP32) {
      throw new MedvoxError('USAGE', `the array ${array.name} (${size} bytes) is too large for an NPZ member (4 GiB)`, {
        file: path,
        hint: 'export NIfTI instead (--format nifti)',
      });
    }
    const crc = crc32(array.bytes, crc32(header));
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true); // version needed: 2.0 (deflate)
    local.setUint16(6, 0, true);
    local.setUint16(8, 8, true); // deflate
    local.setUint16(10, DOS_TIME, true);
    local.setUint16(12, DOS_DATE, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, compressedSize, true);
    local.setUint32(22, size, true);
    local.setUint16(26, name.length, true);
    local.setUint16(28, 0, true);
    const entry = new DataView(new ArrayBuffer(46));
    entry.setUint32(0, 0x02014b50, true);
    entry.setUint16(4, 20, true); // made by: MS-DOS, 2.0
    entry.setUint16(6, 20, true);
    entry.setUint16(8, 0, true);
    entry.setUint16(10, 8, true);
    entry.setUint16(12, DOS_TIME, true);
    entry.setUint16(14, DOS_DATE, true);
    entry.setUint32(16, crc, true);
    entry.setUint32(20, compressedSize, true);
    entry.setUint32(24, size, true);
    entry.setUint16(28, name.length, true);
    entry.setUint32(42, offset, true); // (30..41: extra, comment, disk, attributes: 0)
    parts.push(new Uint8Array(local.buffer), name, ...compressed);
    central.push(new Uint8Array(entry.buffer), name);
    offset += 30 + name.length + compressedSize;
  }
  const centralSize = central.reduce((sum, part) => sum + part.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, arrays.length, true);
  end.setUint16(10, arrays.length, true);
  end.setUint32(12, centralSize, true);
  end.setUint32(16, offset, true);
  await writeFileAtomic(path, [...parts, ...central, new Uint8Array(end.buffer)]);
}
