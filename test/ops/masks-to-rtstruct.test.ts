/**
 * Labelmap -> RTSTRUCT -> labelmap: our writer read back by our reader (Dice per label), by pydicom, and checked by
 * dciodvfy; the asymmetric phantom in several orientations puts its markers' contours where the markers are; bad
 * inputs give typed errors.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeDicom } from '../../src/core/dicom/writer.ts';
import type { NiftiVoxels } from '../../src/core/nifti/index.ts';
import { makePhantomSeries, type PhantomOrientation, phantomMarkers } from '../../src/core/phantom/index.ts';
import { readStructureSet } from '../../src/core/rtstruct/structure-set.ts';
import { assembleVolumes, volumeToNifti } from '../../src/core/volume/index.ts';
import { readDicomFile } from '../../src/io/dicom-file.ts';
import { readNiftiFile, writeNiftiFile } from '../../src/io/nifti-file.ts';
import { masksToRtstruct } from '../../src/ops/masks-to-rtstruct.ts';
import { rtstructToNifti } from '../../src/ops/rtstruct-to-nifti.ts';
import { corpus, debianPython, hasCorpus, python, requirePeers } from '../support/env.ts';

const outDir = mkdtempSync(join(tmpdir(), 'medvox-rtcreate-'));
after(() => rmSync(outDir, { recursive: true, force: true }));

const BIOGRAPH = corpus('ct', 'siemens_biograph_j2k_20sl');
const BIOGRAPH_MASK = join(BIOGRAPH, 'mask', 'example_seg_dicom.nii.gz');

/** Dice of every label value present in either labelmap. */
function dicePerLabel(a: NiftiVoxels, b: NiftiVoxels): Map<number, number> {
  const counts = new Map<number, { a: number; b: number; both: number }>();
  const entry = (value: number) => {
    let found = counts.get(value);
    if (!found) {
      found = { a: 0, b: 0, both: 0 };
      counts.set(value, found);
    }
    return found;
  };
  for (let v = 0; v < a.length; v++) {
    const x = Number(a[v]);
    const y = Number(b[v]);
    if (x !== 0) entry(x).a++;
    if (y !== 0) entry(y).b++;
    if (x !== 0 && x === y) entry(x).both++;
  }
  return new Map([...counts].map(([value, c]) => [value, (2 * c.both) / (c.a + c.b)]));
}

/** dciodvfy's error lines (warnings about DICOMDIR attributes and dubious values are not errors). */
function dciodvfyErrors(file: string): string[] {
  const result = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
  return `${result.stdout}${result.stderr}`.split('\n').filter((line) => line.startsWith('Error'));
}

test('corpus CT + 31-label mask: RTSTRUCT is dciodvfy-clean, pydicom reads it, and reads back with Dice 1 per label', async (t) => {
  if (!requirePeers(t, 'dciodvfy', debianPython)) return;
  const labels = join(outDir, 'biograph-labels.json');
  const mask = await readNiftiFile(BIOGRAPH_MASK);
  const values = [...new Set(Array.from(mask.data as Uint8Array))].filter((v) => v !== 0).sort((a, b) => a - b);
  writeFileSync(
    labels,
    JSON.stringify({
      labels: values.map((value) => ({
        value,
        name: `organ ${value} é`,
        color: [(value * 8) % 256, 255 - ((value * 8) % 256), 100],
      })),
    }),
  );
  const output = join(outDir, 'biograph-rtstruct.dcm');
  const created = await masksToRtstruct({ image: [join(BIOGRAPH, 'dicom')], mask: BIOGRAPH_MASK, labels, output });
  assert.equal(created.rois.length, 31);
  // The corpus series has blanked Study / Series UIDs: new ones are generated and the user is told.
  assert.ok(
    created.warnings.some((w) => w.includes('Study Instance UID')),
    created.warnings.join('\n'),
  );
  assert.deepEqual(dciodvfyErrors(output), []);

  const read = JSON.parse(
    python(
      `import pydicom, json, sys
d = pydicom.dcmread(sys.argv[1])
print(json.dumps({"rois": len(d.StructureSetROISequence), "name": d.StructureSetROISequence[0].ROIName,
  "color": [int(v) for v in d.ROIContourSequence[0].ROIDisplayColor], "modality": d.Modality,
  "images": len(d.ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0].RTReferencedSeriesSequence[0].ContourImageSequence)}))`,
      [output],
    ),
  ) as { rois: number; name: string; color: number[]; modality: string; images: number };
  assert.deepEqual(read, {
    rois: 31,
    name: `organ ${values[0]} é`,
    color: [(values[0]! * 8) % 256, 255 - ((values[0]! * 8) % 256), 100],
    modality: 'RTSTRUCT',
    images: 20,
  });

  const back = await rtstructToNifti({
    rtstruct: output,
    reference: [join(BIOGRAPH, 'dicom')],
    outputDir: join(outDir, 'biograph-back'),
  });
  assert.equal(back.lossy, false);
  const labelmap = await readNiftiFile(back.labelmap);
  const dice = dicePerLabel(mask.data, labelmap.data);
  const worst = Math.min(...dice.values());
  t.diagnostic(`${dice.size} labels, Dice min ${worst.toFixed(4)}`);
  for (const [value, score] of dice) assert.ok(score >= 0.97, `label ${value}: Dice ${score}`);
  assert.equal(worst, 1, 'marching-squares contours read back exactly');
  const names = new Map(back.rois.map((roi) => [roi.value, roi]));
  assert.equal(names.get(values[0]!)?.name, `organ ${values[0]} é`);
  assert.deepEqual(names.get(values[0]!)?.color, [(values[0]! * 8) % 256, 255 - ((values[0]! * 8) % 256), 100]);
});

/** The phantom series on disk and a labelmap: 1 body (with holes where the markers are), 2 marker A, 3 marker B. */
async function phantomCase(orientation: PhantomOrientation): Promise<{ dicom: string; mask: string }> {
  const files = makePhantomSeries({
    orientation,
    rows: 40,
    columns: 36,
    slices: 30,
    pixelSpacing: 2.5,
    sliceSpacing: 3,
  });
  const dicom = join(outDir, `phantom-${orientation}`);
  mkdirSync(dicom, { recursive: true });
  files.forEach((file, index) => {
    writeFileSync(join(dicom, `${index}.dcm`), writeDicom(file));
  });
  const volume = (await assembleVolumes(files)).volumes[0]!;
  const labels = new Uint8Array(volume.data.length).map((_, v) => {
    const stored = Number(volume.data[v]);
    return stored === 100 ? 1 : stored === 1000 ? 2 : stored === 500 ? 3 : 0;
  });
  const mask = join(outDir, `phantom-${orientation}-mask.nii.gz`);
  await writeNiftiFile(mask, volumeToNifti({ ...volume, data: labels, rescaleSlope: 1, rescaleIntercept: 0 }));
  return { dicom, mask };
}

for (const orientation of ['axial', 'coronal', 'sagittal', 'oblique'] as const) {
  test(`phantom ${orientation}: exact round trip, marker contours at the markers' patient coordinates`, async () => {
    const { dicom, mask } = await phantomCase(orientation);
    const output = join(outDir, `phantom-${orientation}.dcm`);
    await masksToRtstruct({ image: [dicom], mask, output });
    const set = readStructureSet(await readDicomFile(output));
    const markers = phantomMarkers();
    for (const [number, expected] of [
      [2, markers.A],
      [3, markers.B],
    ] as const) {
      const roi = set.rois.find((r) => r.number === number)!;
      const sum = [0, 0, 0];
      let n = 0;
      for (const contour of roi.contours) {
        for (let p = 0; p < contour.points.length; p += 3) {
          for (let a = 0; a < 3; a++) sum[a]! += contour.points[p + a]!;
          n++;
        }
      }
      const centre = sum.map((s) => s / n);
      const distance = Math.hypot(...centre.map((c, a) => c - expected[a]!));
      assert.ok(
        distance < 4,
        `${orientation} ROI ${number}: contours around ${centre.map((c) => c.toFixed(1))}, marker at ${expected}`,
      );
    }
    const back = await rtstructToNifti({
      rtstruct: output,
      reference: [dicom],
      outputDir: join(outDir, `phantom-${orientation}-back`),
    });
    const original = await readNiftiFile(mask);
    const roundTrip = await readNiftiFile(back.labelmap);
    assert.deepEqual(Array.from(roundTrip.data as Uint8Array), Array.from(original.data as Uint8Array));
    assert.deepEqual(
      back.warnings.filter((w) => w.kind !== 'REFERENCE_GEOMETRY'),
      [],
    );
  });
}

test('bad inputs: grid mismatch (flipped, other size), label missing from the table, invalid table, empty mask', async (t) => {
  const { dicom, mask } = await phantomCase('axial');
  const output = join(outDir, 'bad.dcm');
  const image = await readNiftiFile(mask);
  // Rows flipped in the affine: the same voxels placed elsewhere.
  const flipped = join(outDir, 'flipped.nii.gz');
  const header = { ...image.header, srowY: image.header.srowY.map((v, i) => (i === 1 ? -v : v)) };
  await writeNiftiFile(flipped, { header, data: image.data });
  await assert.rejects(masksToRtstruct({ image: [dicom], mask: flipped, output }), { code: 'GRID_MISMATCH' });
  const small = join(outDir, 'small.nii.gz');
  await writeNiftiFile(small, {
    header: { ...image.header, dim: [3, 36, 40, 29, 1, 1, 1, 1] },
    data: (image.data as Uint8Array).subarray(0, 36 * 40 * 29),
  });
  await assert.rejects(masksToRtstruct({ image: [dicom], mask: small, output }), { code: 'GRID_MISMATCH' });

  const partial = join(outDir, 'partial.json');
  writeFileSync(partial, JSON.stringify({ labels: [{ value: 1, name: 'body', color: [1, 2, 3] }] }));
  await assert.rejects(
    masksToRtstruct({ image: [dicom], mask, labels: partial, output }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, 'LABEL_NOT_IN_TABLE');
      assert.match(error.message, /2, 3/);
      return true;
    },
  );
  const invalid = join(outDir, 'invalid.json');
  for (const text of [
    '{ not json',
    '{"labels": [{"value": 0, "name": "x"}]}',
    '{"labels": [{"value": 1, "name": 5}]}',
    '{"labels": [{"value": 1, "name": "a", "color": [300, 0, 0]}]}',
    '{}',
  ]) {
    writeFileSync(invalid, text);
    await assert.rejects(
      masksToRtstruct({ image: [dicom], mask, labels: invalid, output }),
      { code: 'LABELS_INVALID' },
      text,
    );
  }
  const empty = join(outDir, 'empty.nii.gz');
  await writeNiftiFile(empty, { header: image.header, data: new Uint8Array(image.data.length) });
  await assert.rejects(masksToRtstruct({ image: [dicom], mask: empty, output }), { code: 'EMPTY_MASK' });

  // A mask of another series (same 512x512x20 size, another place): refused.
  if (!hasCorpus()) return t.skip('corpus missing');
  const gstt = corpus('rtstruct', 'gstt_chest_ct_20sl_rtstruct');
  await assert.rejects(masksToRtstruct({ image: [join(gstt, 'ct')], mask: BIOGRAPH_MASK, output }), {
    code: 'GRID_MISMATCH',
  });
});

test('CLI: rtstruct create then to-nifti; exit codes', async (t) => {
  if (!requirePeers(t)) return;
  const { dicom, mask } = await phantomCase('coronal');
  const cli = join(import.meta.dirname, '..', '..', 'bin', 'medvox.js');
  const output = join(outDir, 'cli.dcm');
  execFileSync(process.execPath, [cli, 'rtstruct', 'create', '--image', dicom, '--mask', mask, '--output', output]);
  const result = spawnSync(
    process.execPath,
    [cli, 'rtstruct', 'to-nifti', output, '--reference', dicom, '--output', join(outDir, 'cli-back')],
    { encoding: 'utf8' },
  );
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /3 ROIs, 3 with voxels/);
  const bad = spawnSync(
    process.execPath,
    [cli, 'rtstruct', 'create', '--image', dicom, '--mask', join(outDir, 'nope.nii.gz'), '--output', output],
    { encoding: 'utf8' },
  );
  assert.equal(bad.status, 6);
  assert.match(bad.stderr, /IO_ERROR/);
});
