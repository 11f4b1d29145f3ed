/**
 * Every SEG of the corpus reads, and its masks equal an independent decode (pydicom + numpy in
 * test/support/pydicom_seg_decode.py: pixel_array, each frame mapped through its PlanePositionSequence to a slice of
 * the reference) voxel for voxel, with the source series as reference when the corpus has it and on the SEG's own
 * frame positions otherwise.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isMedvoxError } from '../../src/core/errors.ts';
import { gridFromSegmentation, parseSegmentation, segmentationMasks } from '../../src/core/seg/read.ts';
import type { ReferenceGrid } from '../../src/core/seg/reference.ts';
import { readDicomFile } from '../../src/io/dicom-file.ts';
import { loadReferenceGrid } from '../../src/io/reference-series.ts';
import { corpus, debianPython, listFiles, projectRoot, requirePeers } from '../support/env.ts';

interface PythonMasks {
  rows: number;
  columns: number;
  slices: number;
  type: string;
  segments: Record<string, string>;
}

function pythonDecode(seg: string, reference: string[], threshold?: number): PythonMasks {
  const args = [join(projectRoot, 'test/support/pydicom_seg_decode.py'), seg, ...reference];
  if (threshold !== undefined) args.push('--threshold', String(threshold));
  return JSON.parse(execFileSync(debianPython, args, { encoding: 'utf8', maxBuffer: 1 << 28 })) as PythonMasks;
}

/** Python's mask[k][r][c] (packbits, MSB first) -> our grid order (i = c, j = rows-1-r, k). */
function fromPython(packed: string, grid: ReferenceGrid): Uint8Array {
  const [columns, rows, slices] = grid.dims;
  const bytes = Buffer.from(packed, 'base64');
  const out = new Uint8Array(columns * rows * slices);
  let bit = 0;
  for (let k = 0; k < slices; k++)
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < columns; c++, bit++) {
        if ((bytes[bit >> 3]! >> (7 - (bit & 7))) & 1) out[k * rows * columns + (rows - 1 - r) * columns + c] = 1;
      }
  return out;
}

const SEG_CASES: Array<{ seg: string; reference?: string; overlapping?: boolean; threshold?: number }> = [
  { seg: 'seg/dcmqi_liver_ct3/seg/liver.dcm', reference: 'seg/dcmqi_liver_ct3/source_ct' },
  {
    seg: 'seg/dcmqi_liver_ct3/seg/partial_overlaps.dcm',
    reference: 'seg/dcmqi_liver_ct3/source_ct',
    overlapping: true,
  },
  { seg: 'seg/dcmqi_liver_ct3/seg/sparse-labelmap-noppv.dcm', reference: 'seg/dcmqi_tiny_synthetic/24x38x3/image' },
  { seg: 'seg/dcmqi_liver_ct3/seg/sparse-labelmap-ppv5.dcm', reference: 'seg/dcmqi_tiny_synthetic/24x38x3/image' },
  { seg: 'seg/dcmqi_liver_ct3/seg/sparse-labelmap-noppv.dcm' },
  { seg: 'seg/dcmqi_tiny_synthetic/23x38x3/seg/label.seg', reference: 'seg/dcmqi_tiny_synthetic/23x38x3/image' },
  { seg: 'seg/dcmqi_tiny_synthetic/24x38x3/seg/label.seg', reference: 'seg/dcmqi_tiny_synthetic/24x38x3/image' },
  {
    seg: 'seg/highdicom_ct_seg_variants/seg/seg_image_ct_binary.dcm',
    reference: 'seg/highdicom_ct_seg_variants/source_ct',
  },
  {
    seg: 'seg/highdicom_ct_seg_variants/seg/seg_image_ct_binary_overlap.dcm',
    reference: 'seg/highdicom_ct_seg_variants/source_ct',
    overlapping: true,
  },
  {
    seg: 'seg/highdicom_ct_seg_variants/seg/seg_image_ct_binary_fractional.dcm',
    reference: 'seg/highdicom_ct_seg_variants/source_ct',
  },
  {
    seg: 'seg/highdicom_ct_seg_variants/seg/seg_image_ct_true_fractional.dcm',
    reference: 'seg/highdicom_ct_seg_variants/source_ct',
  },
  {
    seg: 'seg/highdicom_ct_seg_variants/seg/seg_image_ct_true_fractional.dcm',
    reference: 'seg/highdicom_ct_seg_variants/source_ct',
    threshold: 0.2,
  },
  { seg: 'seg/highdicom_ct_seg_variants/seg/seg_image_ct_binary_single_frame.dcm' },
  ...readdirSync(corpus('seg/pydicom_liver_seg_ts_variants'))
    .filter((name) => name.endsWith('.dcm'))
    .sort()
    .map((name) => ({ seg: `seg/pydicom_liver_seg_ts_variants/${name}` })),
];

test('the cases cover every SEG file of the corpus', (t) => {
  if (!requirePeers(t)) return;
  const all = listFiles(corpus('seg')).filter((path) =>
    /\/seg\/[^/]+\.(dcm|seg)$|pydicom_liver_seg_ts_variants\/.*\.dcm$/.test(path),
  );
  const covered = new Set(SEG_CASES.map((c) => corpus(c.seg)));
  assert.deepEqual(
    all.filter((path) => !covered.has(path)),
    [],
  );
  assert.equal(all.length, 20);
});

for (const c of SEG_CASES) {
  const label = `${c.seg}${c.reference ? '' : ' (own grid)'}${c.threshold ? ` threshold ${c.threshold}` : ''}`;
  test(`SEG reads and equals the pydicom decode voxel for voxel: ${label}`, async (t) => {
    if (!requirePeers(t, debianPython)) return;
    const seg = parseSegmentation(await readDicomFile(corpus(c.seg)));
    const grid = c.reference ? (await loadReferenceGrid(corpus(c.reference))).grid : gridFromSegmentation(seg);
    const references = c.reference ? listFiles(corpus(c.reference)) : [];
    const expected = pythonDecode(corpus(c.seg), references, c.threshold);
    assert.deepEqual([grid.dims[1], grid.dims[0], grid.dims[2]], [expected.rows, expected.columns, expected.slices]);
    const ours = await segmentationMasks(seg, grid, {
      split: true,
      ...(c.threshold ? { threshold: c.threshold } : {}),
    });
    assert.deepEqual(
      ours.masks.map((m) => String(m.segmentNumber)),
      Object.keys(expected.segments),
    );
    let labelled = 0;
    for (const mask of ours.masks) {
      const theirs = fromPython(expected.segments[String(mask.segmentNumber)]!, grid);
      const differing = mask.mask.reduce((n, v, i) => n + (v !== theirs[i] ? 1 : 0), 0);
      assert.equal(differing, 0, `segment ${mask.segmentNumber}: ${differing} voxels differ`);
      labelled += mask.voxels;
    }
    assert.ok(labelled > 0, 'some voxels are labelled');
    // One labelmap: fine without overlap, SEGMENT_OVERLAP with it.
    if (c.overlapping) {
      await assert.rejects(
        segmentationMasks(seg, grid),
        (error: unknown) => isMedvoxError(error) && error.code === 'SEGMENT_OVERLAP',
      );
    } else {
      const single = await segmentationMasks(seg, grid, c.threshold ? { threshold: c.threshold } : {});
      for (const mask of ours.masks) {
        const label = mask.entry.labelValue;
        for (let i = 0; i < mask.mask.length; i++) if (mask.mask[i]) assert.equal(single.labelmap![i], label);
      }
    }
  });
}
