/**
 * NIfTI -> DICOM without a sidecar: a new CT / MR series that dciodvfy accepts without error and that dcm2niix
 * converts back to the same image in patient space (the NIfTI geometry survives in the DICOM planes).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { niftiToDicom } from '../../src/ops/nifti-to-dicom.ts';
import { corpus, debianPython, requirePeers } from '../support/env.ts';
import { compareInPatientSpace } from '../support/nibabel.ts';

const outRoot = mkdtempSync(join(tmpdir(), 'medvox-newseries-'));
after(() => rmSync(outRoot, { recursive: true, force: true }));

const INPUTS = [
  'nifti/niivue_orientation_permutations/RAS.nii.gz',
  'nifti/niivue_orientation_permutations/LPI.nii.gz',
  'nifti/niivue_orientation_permutations/ASL.nii.gz',
  'nifti/niivue_orientation_permutations/PIR.nii.gz',
  'nifti/totalseg_ct_small_multilabel/example_ct_sm.nii.gz',
  'nifti/totalseg_mr_small_multilabel/example_mr_sm.nii.gz',
];

test('a NIfTI becomes a conformant CT / MR series that dcm2niix turns back into the same image', async (t) => {
  if (!requirePeers(t, 'dciodvfy', 'dcm2niix', debianPython)) return;
  for (const [index, input] of INPUTS.entries()) {
    const modality = index % 2 === 0 ? 'CT' : 'MR';
    const out = join(outRoot, `case${index}`);
    const result = await niftiToDicom({
      inputs: [corpus(input)],
      outputDir: out,
      newSeries: { modality, patientName: 'Test^Patient', patientId: `ID${index}`, studyDescription: 'medvox test' },
    });
    assert.deepEqual(
      result.errors.map((e) => e.describe()),
      [],
      input,
    );
    const series = result.series[0]!;
    for (const file of [series.files[0]!, series.files[series.files.length - 1]!]) {
      const report = spawnSync('dciodvfy', [file], { encoding: 'utf8' }).stderr;
      const errors = report.split('\n').filter((line) => line.startsWith('Error'));
      assert.deepEqual(errors, [], `${input} (${modality}): ${file}`);
    }
    const back = join(out, 'dcm2niix');
    mkdirSync(back);
    spawnSync('dcm2niix', ['-z', 'n', '-f', 'back', '-o', back, series.outputDir], { stdio: 'ignore' });
    const converted = readdirSync(back).filter((n) => n.endsWith('.nii'));
    assert.equal(converted.length, 1, `${input}: dcm2niix wrote ${converted.join(', ')}`);
    const [comparison] = compareInPatientSpace([[join(back, converted[0]!), corpus(input)]]);
    const tolerance = series.maxQuantisationError + 1e-6;
    assert.ok(
      comparison!.max_voxel_diff !== null && comparison!.max_voxel_diff <= tolerance,
      `${input}: voxels differ by ${comparison!.max_voxel_diff}`,
    );
    assert.ok(comparison!.max_affine_diff < 1e-3, `${input}: affine differs by ${comparison!.max_affine_diff}`);
    t.diagnostic(
      `${input} -> ${modality} series of ${series.files.length}: dciodvfy clean, dcm2niix gives it back (max quantisation error ${series.maxQuantisationError.toPrecision(3)})`,
    );
  }
});

test('a 4D NIfTI is a clear error, not a wrong series', async (t) => {
  if (!requirePeers(t)) return;
  const result = await niftiToDicom({
    inputs: [corpus('mr/philips_achieva_fmri/ref/EPI_asc_CLEAR_201.nii')],
    outputDir: join(outRoot, '4d'),
    newSeries: { modality: 'MR' },
  });
  assert.equal(result.errors[0]?.code, 'UNSUPPORTED_PIXEL_FORMAT');
  assert.match(result.errors[0]?.hint ?? '', /split/);
});
