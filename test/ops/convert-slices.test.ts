/**
 * Conversion of slices that are still in their files (io/slice-copier.ts): .nii.gz volumes are written from gzip
 * members of ~2 MiB of consecutive slices (16 slices of 256x256 int16) made by this thread and a worker, .nii
 * volumes from slices the two copy into place. The streaming path makes members of 4 MiB, so the member count tells
 * which path wrote a file. The file must hold exactly what the streaming path writes (the .nii.gz compared with the
 * --no-gzip output, byte for byte; both paths are covered by test/io/slice-copier.test.ts against the streaming
 * volume), whatever order the files come in, and every case these paths do not cover must stream without a
 * difference.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gunzipSync, inflateRawSync } from 'node:zlib';
import type { DicomFile } from '../../src/core/dicom/model.ts';
import { writeDicom } from '../../src/core/dicom/writer.ts';
import { makePhantomSeries } from '../../src/core/phantom/index.ts';
import { dicomToNifti } from '../../src/ops/dicom-to-nifti.ts';

const scratch = mkdtempSync(join(tmpdir(), 'medvox-convert-slices-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Number of gzip members in a file (each parsed: 10-byte header, raw deflate data, 8-byte trailer). */
function gzipMembers(bytes: Buffer): number {
  let count = 0;
  for (let at = 0; at < bytes.length; count++) {
    assert.deepEqual([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]], [0x1f, 0x8b, 8, 0], `member at ${at}`);
    const { engine } = inflateRawSync(bytes.subarray(at + 10), { info: true }) as unknown as {
      engine: { bytesWritten: number };
    };
    at += 10 + engine.bytesWritten + 8;
  }
  return count;
}

/** Convert `files` both ways; returns the .nii.gz's member count and its header datatype, after checking the bytes. */
async function convertBothWays(
  name: string,
  files: DicomFile[],
  order: (index: number) => number = (index) => index,
): Promise<{ members: number; datatype: number }> {
  const input = join(scratch, name, 'dicom');
  mkdirSync(input, { recursive: true });
  // Files are read in name order: `order` says where each slice comes.
  for (const [index, file] of files.entries()) {
    writeFileSync(join(input, `IM${String(order(index)).padStart(4, '0')}.dcm`), writeDicom(file));
  }
  const gz = join(scratch, name, 'gz');
  const raw = join(scratch, name, 'raw');
  const a = await dicomToNifti({ inputs: [input], outputDir: gz });
  const b = await dicomToNifti({ inputs: [input], outputDir: raw, gzip: false });
  assert.deepEqual([a.errors, b.errors], [[], []]);
  assert.equal(a.outputs.length, 1);
  const compressed = readFileSync(a.outputs[0]!.nifti);
  const plain = readFileSync(b.outputs[0]!.nifti);
  assert.ok(gunzipSync(compressed).equals(plain), 'the .nii.gz holds exactly the .nii');
  assert.deepEqual(
    readdirSync(gz).filter((file) => file.includes('.tmp-')),
    [],
  );
  return { members: gzipMembers(compressed), datatype: plain.readInt16LE(70) };
}

test('a plain CT series is written from members of consecutive slices', async () => {
  const files = makePhantomSeries({ rows: 256, columns: 256, slices: 40, modality: 'CT', seed: 'ahead-ct' });
  const { members, datatype } = await convertBothWays('ct', files);
  assert.equal(members, 1 + 3, 'the header member and three of (up to) 16 slices (streaming: 1 + 2)');
  assert.equal(datatype, 4, 'int16');
});

test('files in any order give the same file, from the same members', async () => {
  const files = () => makePhantomSeries({ rows: 256, columns: 256, slices: 40, modality: 'CT', seed: 'ahead-order' });
  const descending = await convertBothWays('descending', files(), (index) => 39 - index);
  assert.deepEqual(descending, { members: 1 + 3, datatype: 4 });
  // Members are cut from the planned order, so the order of the files does not matter.
  const shuffled = await convertBothWays('shuffled', files(), (index) => (index * 17) % 40);
  assert.deepEqual(shuffled, { members: 1 + 3, datatype: 4 });
  const twoRuns = await convertBothWays('two-runs', files(), (index) => (index < 20 ? index + 20 : index - 20));
  assert.deepEqual(twoRuns, { members: 1 + 3, datatype: 4 });
});

test('unsigned 16-bit slices: int16 when every voxel fits, uint16 when one does not (as the streaming path)', async () => {
  const unsigned = (seed: string, peak: number): DicomFile[] =>
    makePhantomSeries({ rows: 256, columns: 256, slices: 20, modality: 'MR', seed }).map((file, k) => {
      const pixels = new Uint16Array(256 * 256).map((_, i) => (i * 7 + k) % 3000);
      if (k === 4) pixels[1234] = peak;
      file.dataset
        .setNumbers('PixelRepresentation', 0, 'US')
        .setBytes('PixelData', new Uint8Array(pixels.buffer), 'OW');
      return file;
    });
  const fits = await convertBothWays('mr-fits', unsigned('ahead-mr-1', 32767));
  // 16 + 4 slices (streaming would give one member of 20).
  assert.deepEqual(fits, { members: 3, datatype: 4 });
  const over = await convertBothWays('mr-over', unsigned('ahead-mr-2', 40000));
  assert.deepEqual(over, { members: 3, datatype: 512 });
});

test('volumes whose slices are not all in their files stream, with the same result', async () => {
  // Per-slice rescale: the volume is float, not the stored values.
  const rescaled = makePhantomSeries({ rows: 256, columns: 256, slices: 8, modality: 'CT', seed: 'ahead-rescale' });
  rescaled[3]!.dataset.setStrings('RescaleSlope', '2', 'DS');
  const float = await convertBothWays('rescaled', rescaled);
  assert.equal(float.datatype, 16, 'float32');
  assert.ok(float.members < 1 + 8, `streamed in chunks (${float.members} members)`);
  // Small files are read whole (their pixel data is not left in the file).
  const small = await convertBothWays('small', makePhantomSeries({ rows: 64, columns: 64, slices: 8, seed: 'small' }));
  assert.equal(small.members, 2);
});

test('a conversion large enough to start the slice worker writes the same voxels', async () => {
  // 70 files with their pixel data left in them (the converter starts the worker after 64).
  const files = makePhantomSeries({ rows: 128, columns: 128, slices: 70, modality: 'CT', seed: 'copier' });
  const { datatype } = await convertBothWays('copier', files, (index) => (index * 29) % 70);
  assert.equal(datatype, 4);
});
