/** RTSTRUCT -> NIfTI masks against plastimatch (run here), on the corpus' 104-ROI chest CT with a missing slice. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gridVoxelToPatient, type ImageGrid } from '../../src/core/geometry/grid.ts';
import { readNiftiFile } from '../../src/io/nifti-file.ts';
import { masksToRtstruct } from '../../src/ops/masks-to-rtstruct.ts';
import { rtstructToNifti } from '../../src/ops/rtstruct-to-nifti.ts';
import { corpus, requirePeers } from '../support/env.ts';
import { type MetaImage, readMha } from '../support/mha.ts';

const outDir = mkdtempSync(join(tmpdir(), 'medvox-rtstruct-'));
after(() => rmSync(outDir, { recursive: true, force: true }));

const GSTT = corpus('rtstruct', 'gstt_chest_ct_20sl_rtstruct');
const GSTT_RTSTRUCT = join(GSTT, 'rtstruct', 'rt-struct-test-data-81-100.dcm');

/**
 * For every voxel of our (axial, uneven) grid, the index of the plastimatch voxel nearest to its patient position,
 * -1 outside: voxel centres compared in patient space, each slice at its true position.
 */
function nearestVoxels(grid: ImageGrid, image: MetaImage): Int32Array {
  assert.deepEqual(image.direction, [1, 0, 0, 0, 1, 0, 0, 0, 1], 'plastimatch wrote an axial LPS grid');
  assert.ok(grid.rowCosines[0] === 1 && grid.columnCosines[1] === 1, 'the reference CT is axial');
  const index = (p: readonly number[], axis: number) => {
    const v = Math.round((p[axis]! - image.offset[axis]!) / image.spacing[axis]!);
    return v >= 0 && v < image.dims[axis]! ? v : -1;
  };
  const { columns, rows } = grid;
  const out = new Int32Array(columns * rows * grid.positions.length);
  let v = 0;
  for (let k = 0; k < grid.positions.length; k++) {
    const z = index(gridVoxelToPatient(grid, 0, 0, k), 2);
    for (let j = 0; j < rows; j++) {
      const y = index(gridVoxelToPatient(grid, 0, j, k), 1);
      for (let i = 0; i < columns; i++, v++) {
        const x = index(gridVoxelToPatient(grid, i, j, k), 0);
        out[v] = x < 0 || y < 0 || z < 0 ? -1 : (z * image.dims[1]! + y) * image.dims[0]! + x;
      }
    }
  }
  return out;
}

test('gstt chest CT: every ROI > 50 voxels agrees with plastimatch convert (Dice >= 0.95 in patient space)', async (t) => {
  if (!requirePeers(t, 'plastimatch')) return;
  const ours = join(outDir, 'gstt-medvox');
  const theirs = join(outDir, 'gstt-plastimatch');
  execFileSync(
    'plastimatch',
    [
      'convert',
      '--xor-contours',
      '--input',
      GSTT_RTSTRUCT,
      '--referenced-ct',
      join(GSTT, 'ct'),
      '--output-prefix',
      theirs,
    ],
    { stdio: 'pipe' },
  );
  const result = await rtstructToNifti({ rtstruct: GSTT_RTSTRUCT, reference: [join(GSTT, 'ct')], outputDir: ours });
  assert.equal(result.rois.length, 104);
  const { grid } = result;
  const dice: Array<{ name: string; dice: number; ours: number; theirs: number }> = [];
  let nearest: Int32Array | undefined;
  for (const roi of result.rois) {
    const reference = join(theirs, `${roi.name}.mha`);
    const image = existsSync(reference) ? readMha(reference) : undefined;
    const mask = roi.mask ? (await readNiftiFile(join(ours, roi.mask))).data : undefined;
    if (!image && !mask) continue;
    if (image) nearest ??= nearestVoxels(grid, image);
    let a = 0;
    let b = 0;
    let both = 0;
    const count = grid.columns * grid.rows * grid.positions.length;
    for (let v = 0; v < count; v++) {
      const inOurs = mask ? mask[v] !== 0 : false;
      const at = image ? nearest![v]! : -1;
      const inTheirs = at >= 0 && image!.data[at] !== 0;
      if (inOurs) a++;
      if (inTheirs) b++;
      if (inOurs && inTheirs) both++;
    }
    assert.equal(a, roi.voxels, `${roi.name}: the mask file holds the voxels the result reports`);
    if (Math.max(a, b) > 50) dice.push({ name: roi.name, dice: (2 * both) / (a + b), ours: a, theirs: b });
  }
  dice.sort((p, q) => p.dice - q.dice);
  const median = dice[Math.floor(dice.length / 2)]!.dice;
  t.diagnostic(
    `${dice.length} ROIs compared; Dice min ${dice[0]!.dice.toFixed(4)} (${dice[0]!.name}), median ${median.toFixed(4)}`,
  );
  for (const entry of dice)
    assert.ok(
      entry.dice >= 0.95,
      `${entry.name}: Dice ${entry.dice.toFixed(4)} (${entry.ours} vs ${entry.theirs} voxels)`,
    );
  const table = JSON.parse(readFileSync(result.labelTable, 'utf8')) as {
    labels: Array<{ name: string; color: number[] }>;
  };
  assert.equal(table.labels.length, 104);
  assert.deepEqual(table.labels[0], { ...table.labels[0], name: 'vertebrae_C5', color: [255, 0, 255] });
});

const RTUTILS = corpus('rtstruct', 'rtutils_ge_phantom_2sl');
const RTUTILS_CT = [join(RTUTILS, 'ct_1.dcm'), join(RTUTILS, 'ct_2.dcm')];

test('rt-utils corpus RTSTRUCTs with broken references: used where they can be, every problem reported', async (t) => {
  if (!requirePeers(t)) return;
  const run = (name: string, options: { reference?: string[]; ignoreReferences?: boolean } = {}) =>
    rtstructToNifti({
      rtstruct: join(RTUTILS, name),
      reference: options.reference ?? RTUTILS_CT,
      outputDir: join(outDir, `rtutils-${name}`),
      ignoreReferences: options.ignoreReferences ?? false,
    });
  const kinds = (result: Awaited<ReturnType<typeof run>>) => [...new Set(result.warnings.map((w) => w.kind))].sort();

  // Another Frame of Reference UID, but it names exactly these two images: used, and said so.
  const valid = await run('rt.dcm');
  assert.deepEqual(kinds(valid), ['FRAME_OF_REFERENCE_MISMATCH']);
  assert.equal(valid.lossy, false);
  assert.ok(valid.rois[0]!.voxels > 100);

  // Contours on a third slice (z = 70) that was not given, references to 3 images that are not there.
  for (const name of ['invalid_reference_rt.dcm', 'dummy_rt_from_empty_dir.dcm', 'non_existent_reference_rt.dcm']) {
    const result = await run(name);
    assert.deepEqual(kinds(result), ['CONTOUR_OFF_GRID', 'REFERENCED_IMAGES_MISSING'], name);
    assert.equal(result.lossy, true, name);
    assert.equal(result.rois.length, 4);
    for (const roi of result.rois) assert.ok(roi.voxels > 100, `${name} ${roi.name}: the two given slices are used`);
  }

  // An RTSTRUCT of other images: refused, unless asked to place by position (then nothing lands: reported).
  const gsttCt = [join(GSTT, 'ct')];
  await assert.rejects(run('rt.dcm', { reference: gsttCt }), { code: 'REFERENCE_MISMATCH' });
  const forced = await run('rt.dcm', { reference: gsttCt, ignoreReferences: true });
  assert.deepEqual(kinds(forced), [
    'CONTOUR_OFF_GRID',
    'EMPTY_ROI',
    'REFERENCED_IMAGES_MISSING',
    'REFERENCES_IGNORED',
    'REFERENCE_GEOMETRY',
  ]);
  assert.equal(forced.lossy, true);

  // Not an RTSTRUCT.
  await assert.rejects(
    rtstructToNifti({ rtstruct: RTUTILS_CT[0]!, reference: RTUTILS_CT, outputDir: join(outDir, 'not-rt') }),
    { code: 'UNSUPPORTED_SOP_CLASS' },
  );
  // No images in the reference.
  await assert.rejects(
    rtstructToNifti({
      rtstruct: join(RTUTILS, 'rt.dcm'),
      reference: [join(RTUTILS, 'rt.dcm')],
      outputDir: join(outDir, 'no-ref'),
    }),
    { code: 'USAGE' },
  );
});

test('gstt (missing slice): labelmap -> our RTSTRUCT -> labelmap is identical; overlaps reported, later ROI wins', async (t) => {
  if (!requirePeers(t)) return;
  const first = await rtstructToNifti({
    rtstruct: GSTT_RTSTRUCT,
    reference: [join(GSTT, 'ct')],
    outputDir: join(outDir, 'gstt-1'),
  });
  const overlap = first.warnings.find((w) => w.kind === 'OVERLAP');
  const labelmap = await readNiftiFile(first.labelmap);
  if (overlap?.kind === 'OVERLAP') {
    // The later ROI holds the shared voxels.
    const kept = first.rois.find((roi) => roi.name === overlap.pairs[0]!.kept)!;
    const covered = first.rois.find((roi) => roi.name === overlap.pairs[0]!.covered)!;
    assert.ok(kept.value !== covered.value);
    assert.ok(first.rois.indexOf(kept) > first.rois.indexOf(covered));
  }
  const written = join(outDir, 'gstt-medvox-rtstruct.dcm');
  await masksToRtstruct({ image: [join(GSTT, 'ct')], mask: first.labelmap, labels: first.labelTable, output: written });
  const second = await rtstructToNifti({
    rtstruct: written,
    reference: [join(GSTT, 'ct')],
    outputDir: join(outDir, 'gstt-2'),
  });
  assert.equal(second.lossy, false);
  assert.deepEqual(
    second.warnings.map((w) => w.kind).filter((kind) => kind !== 'REFERENCE_GEOMETRY' && kind !== 'EMPTY_ROI'),
    [],
  );
  const again = await readNiftiFile(second.labelmap);
  assert.ok(
    Buffer.from(again.data.buffer, again.data.byteOffset, again.data.byteLength).equals(
      Buffer.from(labelmap.data.buffer, labelmap.data.byteOffset, labelmap.data.byteLength),
    ),
  );
  assert.deepEqual(
    second.rois.filter((roi) => roi.voxels > 0).map((roi) => [roi.value, roi.name, roi.color]),
    first.rois
      .filter((roi) => roi.voxels > 0 && second.rois.some((r) => r.value === roi.value))
      .map((roi) => [roi.value, roi.name, roi.color]),
  );
});
