/**
 * `dicomToNifti` against dcm2niix run live on every corpus series it converts: the same volumes, each the same
 * image in patient space (as_closest_canonical on both: voxels identical, affines within 1e-3 mm), with the
 * documented differences below. Plus the sidecar's losslessness and the bad-input behaviour.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { datasetToJson } from '../../src/core/dicom/json.ts';
import { readDicom } from '../../src/core/dicom/reader.ts';
import { instanceJson, type Sidecar } from '../../src/core/sidecar/sidecar.ts';
import { dicomToNifti } from '../../src/ops/dicom-to-nifti.ts';
import { corpus, corpusSeriesFolders, debianPython, projectRoot, requirePeers } from '../support/env.ts';
import { compareInPatientSpace } from '../support/nibabel.ts';

const outRoot = mkdtempSync(join(tmpdir(), 'medvox-convert-'));
after(() => rmSync(outRoot, { recursive: true, force: true }));

/** Documented differences (docs/geometry.md): what is compared instead, and why. */
const EXCEPTIONS: Record<string, { voxelTolerance?: number; affineTolerance?: number; reason: string }> = {
  'ct/ge_hispeed_tilt_variable_spacing/dicom': {
    affineTolerance: 0.5,
    reason: 'gantry tilt: medvox writes the exact sheared affine, dcm2niix an unsheared one',
  },
  'ct/siemens_somatom_gantry_tilt_4sl/dicom': { affineTolerance: 0.5, reason: 'gantry tilt (as above)' },
  'dx_cr/highdicom_dx': {
    affineTolerance: Number.POSITIVE_INFINITY,
    reason: 'projection image: no patient geometry, origin conventions differ',
  },
  'curation/pydicom_dicomdir_tree/77654033/CR1': {
    affineTolerance: Number.POSITIVE_INFINITY,
    reason: 'projection image',
  },
  'curation/pydicom_dicomdir_tree/77654033/CR2': {
    affineTolerance: Number.POSITIVE_INFINITY,
    reason: 'projection image',
  },
  'curation/pydicom_dicomdir_tree/77654033/CR3': {
    affineTolerance: Number.POSITIVE_INFINITY,
    reason: 'projection image',
  },
  'mr/dicom2nifti_vendor_mix/pmod_mpr_rescaled_nonisotropic': {
    voxelTolerance: 1e-4,
    reason: 'dcm2niix stores float32 rescaled values, medvox int16 + scl_slope: float32 rounding',
  },
  'mr/dicom2nifti_vendor_mix/ge_signa_hdx_dti': {
    affineTolerance: 2e-3,
    reason: 'DWI positions rounded in the header: 1.5e-3 mm',
  },
  'other/us_nm_sc_pydicom_data': {
    affineTolerance: Number.POSITIVE_INFINITY,
    reason: 'US / SC / OT images without patient geometry: origin conventions differ, voxels compared',
  },
  'mr/sequence_classifier_singles': {
    voxelTolerance: 0.1,
    reason:
      'Philips precise scaling: dcm2niix computes 1/ScaleSlope in float32, medvox in double; the float32 slopes differ by one ulp (relative 1.2e-7: 0.1 at the largest value, 844,862)',
  },
  'mr/philips_enhanced_fieldmap/dicom': {
    voxelTolerance: 0.01,
    reason: 'dcm2niix re-derives the Hz field map slope (0.24420166 vs the RWV 0.24420024)',
  },
};

/** Series folders where the volume count legitimately differs (documented). */
const COUNT_EXCEPTIONS: Record<string, string> = {
  'curation/pydicom_dicomdir_tree/98892001/CT2N':
    'a 2-frame scout with two orientations: dcm2niix merges them into one sheared volume, medvox writes one volume per orientation',
  'dx_cr/nema_cr_j2k': 'dcm2niix 1.0.20220720 writes nothing for these CR J2K files; medvox converts them',
  'other/us_nm_sc_pydicom_data':
    '5 of 6 identical (colour US / SC as RGB24 and the float Parametric Map included); the Modality LUT image (mlut_18): medvox writes the sign-extended stored values (the LUT stays in the sidecar, MODALITY_LUT_NOT_APPLIED), dcm2niix other values (docs/geometry.md)',
  'mr/sequence_classifier_singles':
    '34 of 35 identical (the overlay plane written as <name>_ROI1, as dcm2niix does, included); not: a UIH DTI file without Image Position / Orientation that dcm2niix places from private UIH tags (medvox reports it as having no image plane)',
};

const seriesFolders = corpusSeriesFolders;

test('dicomToNifti writes the volumes dcm2niix writes, identical in patient space', async (t) => {
  if (!requirePeers(t, 'dcm2niix', debianPython)) return;
  const failures: string[] = [];
  let compared = 0;
  for (const dir of seriesFolders()) {
    const key = dir.slice(corpus().length + 1);
    const ours = join(outRoot, key.replace(/\W+/g, '_'), 'medvox');
    const theirs = join(outRoot, key.replace(/\W+/g, '_'), 'dcm2niix');
    mkdirSync(theirs, { recursive: true });
    spawnSync('dcm2niix', ['-z', 'n', '-f', '%s_%p_%j', '-o', theirs, dir], { stdio: 'ignore' });
    // Derived outputs (_Eq resampled, _Tilt corrected) are extra files dcm2niix adds; medvox does not by default.
    const refs = readdirSync(theirs).filter((n) => n.endsWith('.nii') && !/_(Tilt_)?(Eq|Tilt)_\d+\.nii$/.test(n));
    const result = await dicomToNifti({ inputs: [dir], outputDir: ours, gzip: false });
    const exception = EXCEPTIONS[key];
    const matched = new Set<string>();
    const unmatched: string[] = [];
    // Our volumes: each output and its overlay planes (_ROI<n>, which dcm2niix writes too).
    const volumes = result.outputs.flatMap((output) => [
      output.nifti,
      ...Object.entries(output.derived)
        .filter(([suffix]) => suffix.startsWith('ROI'))
        .map(([, path]) => path),
    ]);
    for (const nifti of volumes) {
      const comparisons = compareInPatientSpace(refs.map((ref) => [nifti, join(theirs, ref)]));
      const hit = comparisons.findIndex((c) => {
        const voxelsOk =
          c.same_voxels || (c.max_voxel_diff !== null && c.max_voxel_diff <= (exception?.voxelTolerance ?? 0));
        return (
          voxelsOk &&
          c.max_affine_diff < (exception?.affineTolerance ?? 1e-3) &&
          !matched.has(refs[comparisons.indexOf(c)]!)
        );
      });
      if (hit >= 0) matched.add(refs[hit]!);
      else unmatched.push(nifti.split('/').pop()!);
      compared++;
    }
    const missing = refs.filter((ref) => !matched.has(ref));
    const line = `${key}: dcm2niix ${refs.length}, medvox ${volumes.length}, identical ${matched.size}`;
    t.diagnostic(exception ? `${line} (exception: ${exception.reason})` : line);
    if ((missing.length || unmatched.length) && !COUNT_EXCEPTIONS[key]) {
      failures.push(`${line}; missing ${missing.join(', ')}; unmatched ${unmatched.join(', ')}`);
    } else if (COUNT_EXCEPTIONS[key]) {
      t.diagnostic(
        `  documented difference: ${COUNT_EXCEPTIONS[key]}; missing ${missing.join(', ') || '-'}; unmatched ${unmatched.join(', ') || '-'}`,
      );
    }
  }
  assert.ok(compared >= 40, `compared ${compared} volumes`);
  assert.deepEqual(failures, []);
});

test('the sidecar holds every attribute of every source instance (pixel data aside)', async () => {
  const dir = corpus('mr/philips_achieva_fmri/dicom');
  const out = join(outRoot, 'sidecar');
  const result = await dicomToNifti({ inputs: [dir], outputDir: out });
  assert.equal(result.outputs.length, 1);
  const sidecar = JSON.parse(readFileSync(result.outputs[0]!.sidecar, 'utf8')) as Sidecar;
  assert.equal(sidecar.Slices.length, 27);
  assert.equal(sidecar.Manufacturer, 'Philips');
  assert.equal(sidecar.RepetitionTime, 2);
  for (const slice of sidecar.Slices) {
    const sourcePath = readdirSync(dir)
      .map((n) => join(dir, n))
      .find(
        (p) => readDicom(new Uint8Array(readFileSync(p))).dataset.string('SOPInstanceUID') === slice.SOPInstanceUID,
      )!;
    const original = datasetToJson(readDicom(new Uint8Array(readFileSync(sourcePath))).dataset, {
      exactNumbers: true,
      bulkDataThreshold: Number.POSITIVE_INFINITY,
    });
    delete original['7FE00010'];
    assert.deepEqual(instanceJson(sidecar, slice.Instance), original, `instance ${slice.SOPInstanceUID}`);
  }
});

test('bad input: other files go on, errors are typed and named, the exit code says so', async (t) => {
  if (!requirePeers(t)) return;
  const input = join(outRoot, 'bad-input');
  mkdirSync(input, { recursive: true });
  for (const name of readdirSync(corpus('ct/ge_lightspeed16_inconsistent_increment_4sl/dicom'))) {
    copyFileSync(corpus('ct/ge_lightspeed16_inconsistent_increment_4sl/dicom', name), join(input, name));
  }
  // Every damaged file of the corpus, beside one good series.
  const malformed = execFileSync('find', [corpus('malformed'), '-type', 'f'], { encoding: 'utf8' })
    .trim()
    .split('\n');
  for (const path of malformed) copyFileSync(path, join(input, `bad_${path.split('/').slice(-2).join('_')}`));
  writeFileSync(join(input, 'notes.txt'), 'not an image');
  const output = join(outRoot, 'bad-output');
  const run = spawnSync(
    process.execPath,
    [join(projectRoot, 'bin/medvox.js'), 'convert', '--dicom2nifti', '--input', input, '--output', output],
    { encoding: 'utf8' },
  );
  assert.equal(run.status, 1, `partial: ${run.stderr}`);
  assert.match(run.stderr, /TRUNCATED: .*bad_synthetic_truncated_in_pixeldata\.dcm/);
  // Each bad file is either named in the report with its reason (an error, a skip, "not DICOM"), or was
  // readable after all (tolerated defects, docs/errors.md) and went into a volume.
  const direct = await dicomToNifti({ inputs: [input], outputDir: join(outRoot, 'bad-direct') });
  const used = new Set(direct.outputs.flatMap((o) => o.sources));
  for (const path of malformed) {
    const name = `bad_${path.split('/').slice(-2).join('_')}`;
    assert.ok(run.stderr.includes(name) || used.has(join(input, name)), `${name} is neither reported nor converted`);
  }
  assert.match(run.stdout, /\[512x512x4x1\] \(UNEVEN_SPACING, MISSING_SLICES\)/);
  assert.deepEqual(
    readdirSync(output).filter((n) => n.includes('.tmp-')),
    [],
    'no temporary files left',
  );

  const empty = join(outRoot, 'empty');
  mkdirSync(empty, { recursive: true });
  const none = spawnSync(
    process.execPath,
    [
      join(projectRoot, 'bin/medvox.js'),
      'convert',
      '--dicom2nifti',
      '--input',
      empty,
      '--output',
      join(outRoot, 'none'),
    ],
    { encoding: 'utf8' },
  );
  assert.equal(none.status, 2);
  assert.match(none.stderr, /no DICOM images found/);
  const unwritable = join(outRoot, 'file-not-folder');
  writeFileSync(unwritable, 'x');
  const blocked = spawnSync(
    process.execPath,
    [
      join(projectRoot, 'bin/medvox.js'),
      'convert',
      '--dicom2nifti',
      '--input',
      corpus('ct/ge_lightspeed16_inconsistent_increment_4sl/dicom'),
      '--output',
      unwritable,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(blocked.status, 6, blocked.stderr);
  assert.match(blocked.stderr, /IO_ERROR/);

  const help = spawnSync(process.execPath, [join(projectRoot, 'bin/medvox.js')], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /convert/);
  const usage = spawnSync(
    process.execPath,
    [join(projectRoot, 'bin/medvox.js'), 'convert', '--input', input, '--output', output],
    { encoding: 'utf8' },
  );
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /USAGE: choose one mode/);
});
