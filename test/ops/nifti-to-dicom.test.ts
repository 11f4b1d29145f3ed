/**
 * Round trip DICOM -> NIfTI -> DICOM on every corpus series (single- and multi-frame, mosaic, colour): pydicom finds every attribute of every
 * original instance in the rebuilt one with the same value (UID policy aside), the pixels are identical, and
 * DICOM -> NIfTI again gives identical voxels and affine. dciodvfy finds no error the original does not have.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, test } from 'node:test';
import { decodeAllFrames } from '../../src/core/codecs/index.ts';
import { readDicom } from '../../src/core/dicom/reader.ts';
import { dicomToNifti } from '../../src/ops/dicom-to-nifti.ts';
import { niftiToDicom } from '../../src/ops/nifti-to-dicom.ts';
import { corpus, corpusRoot, corpusSeriesFolders, debianPython, projectRoot, requirePeers } from '../support/env.ts';
import { compareInPatientSpace } from '../support/nibabel.ts';

const outRoot = mkdtempSync(join(tmpdir(), 'medvox-n2d-'));
after(() => rmSync(outRoot, { recursive: true, force: true }));

/** What the UID policy and the standard allow to change (blank source UIDs are filled in: see docs/sidecar.md). */
const ALLOWED_CHANGES = ['SOPInstanceUID', 'SeriesInstanceUID', 'StudyInstanceUID', 'SOPClassUID'];

function sha(bytes: ArrayBufferView): string {
  return createHash('sha256')
    .update(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    .digest('hex');
}

test('DICOM -> NIfTI -> DICOM keeps every attribute and pixel; DICOM -> NIfTI again is identical', async (t) => {
  if (!requirePeers(t, debianPython, 'dcmdump', 'dciodvfy')) return;
  let total = 0;
  for (const folder of corpusSeriesFolders()) {
    const series = folder.slice(corpusRoot.length + 1);
    const name = series.replace(/\W+/g, '_');
    const first = await dicomToNifti({ inputs: [folder], outputDir: join(outRoot, name, 'nifti1') });
    assert.equal(first.errors.length, 0, `${series}: ${first.errors.map((e) => e.describe())}`);
    // Every volume of the series in one run: volumes made from one multi-frame instance are rebuilt together.
    const rebuilt = await niftiToDicom({
      inputs: first.outputs.map((o) => o.nifti),
      outputDir: join(outRoot, name, 'dicom'),
      keepUids: true,
    });
    assert.deepEqual(
      rebuilt.errors.map((e) => e.describe()),
      [],
      series,
    );
    // Stored values come back: unchanged integers, or per-slice scaling undone exactly (checked by the pixels).
    for (const output of rebuilt.series) assert.ok(output.maxQuantisationError < 1e-3, `${series}: quantisation`);
    // Pairs by SOP Instance UID (kept): every source instance of every volume has its rebuilt copy.
    const pairs: Array<[string, string, string[]]> = [];
    const expectedPixels = new Map<string, string>();
    const sources = new Set(first.outputs.flatMap((output) => output.sources));
    const copies = new Map<string, string>();
    for (const copy of rebuilt.series.flatMap((output) => output.files)) {
      const file = readDicom(new Uint8Array(readFileSync(copy)), { untilTag: 0x7fe00010 });
      copies.set(file.dataset.string('SOPInstanceUID') ?? '', copy);
    }
    for (const original of sources) {
      const file = readDicom(new Uint8Array(readFileSync(original)), { source: original });
      const copy = copies.get(
        file.dataset.string('SOPInstanceUID') ?? file.meta.string('MediaStorageSOPInstanceUID') ?? '',
      );
      assert.ok(copy, `${series}: ${original} was not rebuilt`);
      // Colour is written uncompressed as RGB: a YBR source's Photometric Interpretation must change (PS3.3 C.7.6.3.1.2).
      const photometric = file.dataset.string('PhotometricInterpretation') ?? '';
      const allowed =
        (file.dataset.number('SamplesPerPixel') ?? 1) === 3 && photometric !== 'RGB'
          ? ['PhotometricInterpretation']
          : [];
      pairs.push([original, copy, allowed]);
      const frames = await decodeAllFrames(file);
      // As the pydicom side hashes them: float data as float64, integers as int64.
      const float = frames[0]!.pixels instanceof Float32Array || frames[0]!.pixels instanceof Float64Array;
      const values = frames.flatMap((frame) => Array.from(frame.pixels as Iterable<number>));
      expectedPixels.set(original, sha(float ? Float64Array.from(values) : BigInt64Array.from(values, BigInt)));
    }
    const report = JSON.parse(
      execFileSync(debianPython, [join(projectRoot, 'test/support/pydicom_contains.py'), ...ALLOWED_CHANGES], {
        input: JSON.stringify(pairs),
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      }),
    ) as Record<string, { problems: string[]; pixels: string }>;
    for (const [original, copy] of pairs) {
      assert.deepEqual(report[original]!.problems, [], `${original}: attributes lost or changed`);
      assert.equal(report[original]!.pixels, expectedPixels.get(original), `${original}: pixels differ`);
      const dump = spawnSync('dcmdump', ['-q', '+E', copy], { encoding: 'utf8', maxBuffer: 1 << 26 });
      assert.equal(dump.status, 0, `dcmdump cannot read ${copy}: ${dump.stderr}`);
    }
    // dciodvfy: nothing new on the first and last rebuilt instance (vendor data may already have findings).
    for (const [original, copy] of [pairs[0]!, pairs[pairs.length - 1]!]) {
      const introduced = [...dciodvfyErrors(copy)].filter((line) => !dciodvfyErrors(original).has(line));
      assert.deepEqual(introduced, [], `${copy} (from ${original})`);
    }
    // And back to NIfTI: the same volumes (by name), voxels and affine.
    const again = await dicomToNifti({
      inputs: [join(outRoot, name, 'dicom')],
      outputDir: join(outRoot, name, 'nifti2'),
      gzip: true,
    });
    const byName = (path: string): string => basename(path);
    assert.deepEqual(
      again.outputs.map((o) => byName(o.nifti)).sort(),
      first.outputs.map((o) => byName(o.nifti)).sort(),
      `${series}: volumes after the round trip`,
    );
    const firstByName = new Map(first.outputs.map((o) => [byName(o.nifti), o.nifti]));
    const comparisons = compareInPatientSpace(again.outputs.map((o) => [o.nifti, firstByName.get(byName(o.nifti))!]));
    comparisons.forEach((c, i) => {
      assert.ok(c.same_voxels, `${series} ${byName(again.outputs[i]!.nifti)}: voxels differ after the round trip`);
      assert.ok(c.max_affine_diff < 1e-6, `${series} volume ${i}: affine differs by ${c.max_affine_diff}`);
    });
    total += pairs.length;
    t.diagnostic(`${series}: ${pairs.length} instances rebuilt, every attribute and pixel kept`);
  }
  t.diagnostic(`${total} instances in all`);
});

/**
 * dciodvfy's error lines. Findings about Pixel Data encoding are normalised away: the source may be compressed
 * and the rebuilt instance is native, which changes what dciodvfy checks there.
 */
function dciodvfyErrors(path: string): Set<string> {
  const output = spawnSync('dciodvfy', [path], { encoding: 'utf8', maxBuffer: 1 << 26 }).stderr;
  return new Set(
    output
      .split('\n')
      .filter((line) => line.startsWith('Error'))
      .map((line) => line.trim()),
  );
}

test('without --keep-uids the rebuilt series has new Series and SOP Instance UIDs; dciodvfy adds no error', async (t) => {
  if (!requirePeers(t, 'dciodvfy')) return;
  const series = 'mr/siemens_prisma_fieldmap/dicom';
  const converted = await dicomToNifti({ inputs: [corpus(series)], outputDir: join(outRoot, 'uids', 'nifti') });
  const rebuilt = await niftiToDicom({
    inputs: [converted.outputs[0]!.nifti],
    outputDir: join(outRoot, 'uids', 'dicom'),
  });
  const files = rebuilt.series[0]!.files;
  const originalSeries = converted.outputs[0]!.seriesInstanceUID;
  const errorsOf = (path: string) =>
    new Set(
      `${spawnSync('dciodvfy', [path], { encoding: 'utf8' }).stderr}`
        .split('\n')
        .filter((line) => line.startsWith('Error'))
        .map((line) => line.trim()),
    );
  const originals = execFileSync('find', [corpus(series), '-type', 'f'], { encoding: 'utf8' })
    .trim()
    .split('\n');
  const baseline = new Set(originals.flatMap((path) => [...errorsOf(path)]));
  for (const path of files) {
    const file = readDicom(new Uint8Array(readFileSync(path)));
    assert.notEqual(file.dataset.string('SeriesInstanceUID'), originalSeries);
    const introduced = [...errorsOf(path)].filter((line) => !baseline.has(line));
    assert.deepEqual(introduced, [], path);
  }
});

test('a NIfTI whose grid no longer matches its sidecar is refused with GRID_MISMATCH; no sidecar is a usage error', async () => {
  const { writeNiftiFile, readNiftiFile } = await import('../../src/io/nifti-file.ts');
  const converted = await dicomToNifti({
    inputs: [corpus('ct/ge_lightspeed16_inconsistent_increment_4sl/dicom')],
    outputDir: join(outRoot, 'grid'),
  });
  const nifti = converted.outputs[0]!.nifti;
  const image = await readNiftiFile(nifti);
  const cropped = {
    ...image,
    header: { ...image.header, dim: [3, 512, 256, 4, 1, 1, 1, 1] },
    data: (image.data as Int16Array).slice(0, 512 * 256 * 4),
  };
  await writeNiftiFile(nifti, cropped);
  const result = await niftiToDicom({ inputs: [nifti], outputDir: join(outRoot, 'grid-out') });
  assert.equal(result.errors[0]?.code, 'GRID_MISMATCH');
  const missing = await niftiToDicom({
    inputs: [corpus('nifti/totalseg_ct_small_multilabel/example_ct_sm.nii.gz')],
    outputDir: join(outRoot, 'no-sidecar'),
  });
  assert.equal(missing.errors[0]?.code, 'USAGE');
});
