/**
 * The viewer's geometry and drawing tables without a browser: every phantom orientation (axial, coronal, sagittal
 * acquisitions) gives the same screen letters and puts marker A where the radiological convention says; tables
 * map windows and labels as documented.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apply, invert } from '../../src/core/geometry/affine.ts';
import { makePhantomSeries, type PhantomOrientation, phantomMarkers } from '../../src/core/phantom/index.ts';
import { assembleVolumes } from '../../src/core/volume/index.ts';
import { blendTable, drawSlice, greyTable } from '../../web/src/viewer/render.ts';
import { directionLetters, screenOf, VIEWS, viewGeometry, voxelAt } from '../../web/src/viewer/views.ts';
import type { VolumeHeader } from '../../web/src/viewer/volume.ts';

const LETTERS = {
  axial: { left: 'R', right: 'L', top: 'A', bottom: 'P' },
  coronal: { left: 'R', right: 'L', top: 'S', bottom: 'I' },
  sagittal: { left: 'A', right: 'P', top: 'S', bottom: 'I' },
};
const CORNER = { axial: 'top-right', coronal: 'top-right', sagittal: 'top-left' };

for (const orientation of ['axial', 'coronal', 'sagittal'] as PhantomOrientation[]) {
  test(`a ${orientation} phantom: screen letters and marker A's corner in all three views`, async () => {
    const files = makePhantomSeries({
      orientation,
      rows: 40,
      columns: 40,
      slices: 30,
      pixelSpacing: 2.5,
      sliceSpacing: 3,
    });
    const [volume] = (await assembleVolumes(files)).volumes;
    const dims = volume!.dims.slice(0, 3);
    const affine = volume!.affineLPS;
    const marker = apply(invert(affine), phantomMarkers().A).map(Math.round);
    for (const view of VIEWS) {
      const geometry = viewGeometry(dims, affine, view);
      assert.deepEqual(geometry.labels, LETTERS[view], `${view} view of the ${orientation} phantom`);
      const { u, v, slice } = screenOf(geometry, marker);
      assert.deepEqual(voxelAt(geometry, u, v, slice), marker);
      const corner = `${v < geometry.height / 2 ? 'top' : 'bottom'}-${u < geometry.width / 2 ? 'left' : 'right'}`;
      assert.equal(corner, CORNER[view], `${view} view of the ${orientation} phantom`);
    }
  });
}

test('oblique directions are named by their strong components', () => {
  assert.equal(directionLetters([0.94, -0.34, 0]), 'LA');
  assert.equal(directionLetters([0, 0, -1]), 'I');
  assert.equal(directionLetters([0.1, 0.99, 0]), 'P');
});

test('window table maps real values (rescale applied) and the blend table colours only visible labels', () => {
  const header = { datatype: 'int16', min: 0, max: 2000, rescaleSlope: 1, rescaleIntercept: -1024 } as VolumeHeader;
  const grey = greyTable(header, { center: 40, width: 400 });
  assert.equal(grey.table![1024 - 160], 0, 'HU -160 is the bottom of 40/400');
  assert.equal(grey.table![1024 + 240], 255, 'HU 240 is the top');
  assert.ok(Math.abs(grey.table![1024 + 40]! - 127.5) <= 0.5, 'HU 40 is mid grey');
  const blend = blendTable(
    [
      { value: 1, name: 'a', colour: [255, 0, 0], visible: true },
      { value: 2, name: 'b', colour: [0, 255, 0], visible: false },
    ],
    1,
  );
  assert.equal(blend[(1 << 8) | 100], 0xff0000ff, 'label 1 opaque red');
  assert.equal(blend[(2 << 8) | 100], 0xff646464, 'hidden label 2 is grey 100');

  // One 3x2x2 volume drawn in its axial view: rows flipped (j = rows-1-r), overlay on label 1.
  const dims = [3, 2, 2];
  const affine = [1, 0, 0, 0, 0, -1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1];
  const geometry = viewGeometry(dims, affine, 'axial');
  const image = new Int16Array([1024, 1064, 1264, 864, 1024, 1024, 0, 0, 0, 0, 0, 0]);
  const labels = new Uint8Array([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const out = new Uint32Array(6);
  drawSlice(out, geometry, 0, image, grey, { labels, blend, maxLabel: 2 }, blendTable([], 0));
  const greys = [...out].map((pixel) => pixel & 0xff);
  // Screen row 0 is voxel row j = 1 (anterior), row 1 is j = 0.
  assert.deepEqual(greys.slice(0, 3), [0, 102, 102], 'HU -160, 0, 0');
  assert.equal(out[4], 0xff0000ff, 'the labelled voxel (i=1, j=0) is red');
});
