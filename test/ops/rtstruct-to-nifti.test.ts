/** RTSTRUCT -> NIfTI masks against plastimatch (run here), on the corpus' 104-ROI chest CT with a missing slice. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gridVoxelToPatient, type ImageGrid } from '../../src/core/geometry/grid.ts';
import { readNiftiFile } from '../../src/io/nifti-file.ts';
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
