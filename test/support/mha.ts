/** MetaImage (.mha, ITK / plastimatch) reader for tests: header text, then the raw voxels (uncompressed or zlib). */
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';

export interface MetaImage {
  dims: number[];
  spacing: number[];
  offset: number[];
  /** Row-major 3x3 direction (ITK's TransformMatrix lists the columns... as written: index axis per row). */
  direction: number[];
  data: Uint8Array;
}

export function readMha(path: string): MetaImage {
  const bytes = readFileSync(path);
  const marker = Buffer.from('ElementDataFile = LOCAL\n');
  const end = bytes.indexOf(marker);
  if (end < 0) throw new Error(`${path}: not a single-file MetaImage`);
  const header = new Map<string, string>();
  for (const line of bytes.subarray(0, end).toString('latin1').split('\n')) {
    const at = line.indexOf(' = ');
    if (at > 0) header.set(line.slice(0, at).trim(), line.slice(at + 3).trim());
  }
  const numbers = (key: string) => (header.get(key) ?? '').split(/\s+/).filter(Boolean).map(Number);
  if (header.get('ElementType') !== 'MET_UCHAR') throw new Error(`${path}: ElementType ${header.get('ElementType')}`);
  let data: Uint8Array = bytes.subarray(end + marker.length);
  if (header.get('CompressedData') === 'True') data = inflateSync(data);
  return {
    dims: numbers('DimSize'),
    spacing: numbers('ElementSpacing'),
    offset: numbers('Offset'),
    direction: numbers('TransformMatrix'),
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}
