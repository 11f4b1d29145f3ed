/**
 * A labelmap scanned block by block from its file (mask-scan.ts) gives exactly what scanning the whole labelmap
 * gives (encode.ts scanLabelmap): .nii and .nii.gz, several 2 MiB blocks, uint8 / uint16 / int16, NIfTI-1 and -2,
 * extensions before the voxels, gzip in several members split anywhere. Masks it must leave to the whole-file
 * reader give undefined: other datatypes, scaling, 4D, negative labels, big endian, too many runs, a damaged
 * checksum, a cut stream. Bytes pushed in pieces of any size give the same scan. The gzip CRC computed over zero
 * runs arithmetically equals zlib's.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { crc32, gzipSync } from 'node:zlib';
import { DataType, emptyHeader, type NiftiHeader, writeNifti } from '../../src/core/nifti/index.ts';
import { scanLabelmap } from '../../src/core/seg/encode.ts';
import { MaskScanner, type ScannedMask, scanMaskFile } from '../../src/io/mask-scan.ts';
import { crc32Of, crc32Zeros, gzipBlocksAvailable } from '../../src/io/nifti-bytes.ts';

const dir = mkdtempSync(join(tmpdir(), 'medvox-mask-scan-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Ellipsoids of a few labels (one of them `high`) through a volume, plus runs at the row ends. */
function labelmap<T extends Uint8Array | Uint16Array | Int16Array>(data: T, dims: number[], high: number): T {
  const [nx, ny, nz] = dims as [number, number, number];
  const labels = [1, 2, 7, high];
  labels.forEach((label, n) => {
    const [cx, cy, cz] = [nx * (0.2 + 0.2 * n), ny * (0.8 - 0.15 * n), nz * (0.15 + 0.22 * n)];
    const [rx, ry, rz] = [nx * 0.15, ny * 0.2, nz * 0.25];
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++)
          if (((i - cx) / rx) ** 2 + ((j - cy) / ry) ** 2 + ((k - cz) / rz) ** 2 <= 1)
            data[(k * ny + j) * nx + i] = label;
  });
  data.fill(3 as never, 0, nx); // the first row
  data[data.length - 1] = 4;
  return data;
}

function header(dims: number[], datatype: number, version: 1 | 2 = 1): NiftiHeader {
  return { ...emptyHeader(version), dim: [dims.length, ...dims, ...Array(7 - dims.length).fill(1)], datatype };
}

function write(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** The scan of the file must be the scan of the labelmap, runs included. */
function assertSameScan(path: string, labels: Uint8Array | Uint16Array, dims: number[]): void {
  assertSame(scanMaskFile(path), labels, dims, path);
}

function assertSame(scanned: ScannedMask | undefined, labels: Uint8Array | Uint16Array, dims: number[], what: string) {
  assert.ok(scanned, `${what}: scanned chunk by chunk`);
  assert.deepEqual(scanned.dims, dims);
  const expected = scanLabelmap(labels, dims);
  assert.ok(expected.runs);
  assert.deepEqual(scanned.scan.labelValues, expected.labelValues);
  assert.deepEqual(scanned.scan.slices, expected.slices);
  assert.deepEqual(scanned.scan.runs, expected.runs);
}

test('this Node has the zlib handle the block reader drives', () => {
  assert.equal(gzipBlocksAvailable(), true);
});

test('uint8 .nii and .nii.gz over several blocks, gzip members split anywhere: the whole labelmap scan', () => {
  const dims = [256, 200, 120]; // 6.1 MB: two blocks, the second partial
  const data = labelmap(new Uint8Array(256 * 200 * 120), dims, 200);
  const nii = writeNifti({ header: header(dims, DataType.UINT8), data });
  assertSameScan(write('u8.nii', nii), data, dims);
  assertSameScan(write('u8.nii.gz', gzipSync(nii, { level: 1 })), data, dims);
  // pigz / parallel writers: several members; the splits fall inside the header and inside a block.
  const members = Buffer.concat([
    gzipSync(nii.subarray(0, 100)),
    gzipSync(nii.subarray(100, 3_000_001)),
    gzipSync(nii.subarray(3_000_001)),
  ]);
  assertSameScan(write('u8-members.nii.gz', members), data, dims);
});

test('uint16 (labels past 255), non-negative int16, NIfTI-2 and extensions before the voxels', () => {
  const dims = [64, 48, 30];
  const wide = labelmap(new Uint16Array(64 * 48 * 30), dims, 1000);
  assertSameScan(
    write('u16.nii.gz', gzipSync(writeNifti({ header: header(dims, DataType.UINT16), data: wide }))),
    wide,
    dims,
  );
  const signed = labelmap(new Int16Array(64 * 48 * 30), dims, 300);
  assertSameScan(
    write('i16.nii', writeNifti({ header: header(dims, DataType.INT16), data: signed })),
    new Uint16Array(signed.buffer),
    dims,
  );
  const bytes = labelmap(new Uint8Array(64 * 48 * 30), dims, 9);
  assertSameScan(
    write('nifti2.nii.gz', gzipSync(writeNifti({ header: header(dims, DataType.UINT8, 2), data: bytes }))),
    bytes,
    dims,
  );
  const extended = { ...header(dims, DataType.UINT8), extensions: [{ code: 6, data: new Uint8Array(100).fill(7) }] };
  const withExtension = writeNifti({ header: extended, data: bytes });
  assert.ok(new DataView(withExtension.buffer).getFloat32(108, true) > 352, 'vox_offset after the extension');
  assertSameScan(write('extension.nii.gz', gzipSync(withExtension)), bytes, dims);
});

test('bytes pushed in pieces of any size (header, extension and rows cut anywhere): the same scan', () => {
  const dims = [36, 22, 9];
  const count = 36 * 22 * 9;
  for (const [name, data, datatype] of [
    ['uint8', labelmap(new Uint8Array(count), dims, 77), DataType.UINT8],
    ['uint16', labelmap(new Uint16Array(count), dims, 4000), DataType.UINT16],
  ] as const) {
    const extended = { ...header(dims, datatype), extensions: [{ code: 6, data: new Uint8Array(40).fill(1) }] };
    const nii = writeNifti({ header: extended, data });
    for (const size of [1, 3, 7, 100, 349, 1000]) {
      const scanner = new MaskScanner();
      for (let at = 0; at < nii.length; at += size) assert.ok(scanner.push(nii.subarray(at, at + size)), name);
      assertSame(scanner.finish(), data, dims, `${name} in pieces of ${size}`);
    }
    // Cut short: no result.
    const scanner = new MaskScanner();
    scanner.push(nii.subarray(0, nii.length - 1));
    assert.equal(scanner.finish(), undefined);
  }
});

test('masks left to the whole-file reader: undefined', () => {
  const dims = [32, 24, 10];
  const count = 32 * 24 * 10;
  const bytes = labelmap(new Uint8Array(count), dims, 9);
  const nii = writeNifti({ header: header(dims, DataType.UINT8), data: bytes });
  const cases: Array<[string, Uint8Array]> = [
    ['float32', writeNifti({ header: header(dims, DataType.FLOAT32), data: Float32Array.from(bytes) })],
    ['scaled', writeNifti({ header: { ...header(dims, DataType.UINT8), sclSlope: 2 }, data: bytes })],
    ['4D', writeNifti({ header: header([32, 24, 5, 2], DataType.UINT8), data: bytes })],
    ['negative int16', writeNifti({ header: header(dims, DataType.INT16), data: Int16Array.from(bytes, (v) => -v) })],
    ['noise: too many runs', noise([64, 64, 40])], // 164 k runs: more than 64 Ki and than 1/12 of its bytes
  ];
  for (const [name, file] of cases) assert.equal(scanMaskFile(write(`${name}.nii`, file)), undefined, name);
  // Big endian: the header's sizeof_hdr byte-swapped (the whole-file reader handles that byte order).
  const swapped = Uint8Array.from(nii);
  swapped.set([0, 0, 1, 0x5c], 0);
  assert.equal(scanMaskFile(write('big-endian.nii', swapped)), undefined);
  // Damaged gzip: a changed checksum, a changed size, a cut stream, garbage.
  const gz = gzipSync(nii);
  const crc = Buffer.from(gz);
  crc[crc.length - 8]! ^= 1;
  const size = Buffer.from(gz);
  size[size.length - 4]! ^= 1;
  for (const [name, file] of [
    ['crc', crc],
    ['size', size],
    ['cut', gz.subarray(0, gz.length - 20)],
    ['garbage', Buffer.concat([gz.subarray(0, 10), Buffer.alloc(200, 0x55)])],
  ] as const) {
    assert.equal(scanMaskFile(write(`damaged-${name}.nii.gz`, file)), undefined, name);
  }
  assert.equal(scanMaskFile(join(dir, 'missing.nii.gz')), undefined);
});

/** Every voxel a different label from its neighbour: more runs than the scan keeps. */
function noise(dims: number[]): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  const data = new Uint8Array(count);
  for (let i = 0; i < count; i++) data[i] = 1 + (i % 2);
  return writeNifti({ header: header(dims, DataType.UINT8), data });
}

test('the CRC-32 extended over runs of zeros without reading them equals zlib crc32', () => {
  for (const count of [0, 1, 7, 4095, 4096, 4097, 100_000, 1 << 20])
    for (const start of [0, 0x12345678, 0xffffffff])
      assert.equal(crc32Zeros(start, count), crc32(new Uint8Array(count), start));
  // Zero groups and other bytes mixed, the data split anywhere.
  const bytes = new Uint8Array(3_000_001);
  for (let i = 0; i < bytes.length; i++) if ((i >> 13) % 3 === 0 && i % 7 === 0) bytes[i] = i & 255;
  for (const cut of [0, 1, 4096, 5000, 1_000_000, bytes.length])
    assert.equal(crc32Of(crc32Of(0, bytes.subarray(0, cut)), bytes.subarray(cut)), crc32(bytes));
});
