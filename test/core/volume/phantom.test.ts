/** The asymmetric phantom in every orientation: markers land at their known patient coordinates. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeDicom } from '../../../src/core/dicom/writer.ts';
import { apply, type Vec3 } from '../../../src/core/geometry/affine.ts';
import { makePhantomSeries, type PhantomOrientation, phantomMarkers } from '../../../src/core/phantom/index.ts';
import { assembleVolumes, type Volume, volumeToNifti } from '../../../src/core/volume/index.ts';
import { writeNiftiFile } from '../../../src/io/nifti-file.ts';
import { debianPython, requirePeers } from '../../support/env.ts';
import { compareInPatientSpace } from '../../support/nibabel.ts';

const orientations: PhantomOrientation[] = ['axial', 'coronal', 'sagittal', 'oblique'];
const outDir = mkdtempSync(join(tmpdir(), 'medvox-phantom-'));
after(() => rmSync(outDir, { recursive: true, force: true }));

/** World (LPS) centroid of the voxels holding `value`. */
function centroid(volume: Volume, value: number): Vec3 {
  const [nx, ny, nz] = volume.dims;
  const sum: Vec3 = [0, 0, 0];
  let count = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        if (volume.data[(k * ny + j) * nx + i] !== value) continue;
        const p = apply(volume.affineLPS, [i, j, k]);
        sum[0] += p[0];
        sum[1] += p[1];
        sum[2] += p[2];
        count++;
      }
    }
  }
  assert.ok(count > 0, `no voxel with value ${value}`);
  return [sum[0] / count, sum[1] / count, sum[2] / count];
}

for (const orientation of orientations) {
  test(`phantom ${orientation}: markers A (L-A-S) and B (R-P) at their patient coordinates`, async () => {
    const { volumes } = await assembleVolumes(makePhantomSeries({ orientation }));
    assert.equal(volumes.length, 1);
    const volume = volumes[0]!;
    assert.deepEqual(volume.warnings, []);
    const markers = phantomMarkers();
    // Within one voxel diagonal: the marker edges fall between voxel centres.
    for (const [value, expected] of [
      [1000, markers.A],
      [500, markers.B],
    ] as const) {
      const found = centroid(volume, value);
      const distance = Math.hypot(found[0] - expected[0], found[1] - expected[1], found[2] - expected[2]);
      assert.ok(
        distance < 2.5,
        `${orientation}: marker ${value} at ${found.map((v) => v.toFixed(1))}, expected ${expected}`,
      );
    }
  });
}

test('phantom: dcm2niix converts our DICOM files to the same image in patient space', async (t) => {
  if (!requirePeers(t, 'dcm2niix', debianPython)) return;
  for (const orientation of orientations) {
    const files = makePhantomSeries({ orientation, rows: 48, columns: 40, slices: 36 });
    const dicomDir = join(outDir, `${orientation}-dicom`);
    const niftiDir = join(outDir, `${orientation}-dcm2niix`);
    mkdirSync(dicomDir, { recursive: true });
    mkdirSync(niftiDir, { recursive: true });
    files.forEach((file, index) => {
      writeFileSync(join(dicomDir, `${index}.dcm`), writeDicom(file));
    });
    execFileSync('dcm2niix', ['-z', 'n', '-f', 'ref', '-o', niftiDir, dicomDir], { stdio: 'pipe' });
    const reference = join(niftiDir, readdirSync(niftiDir).find((n) => n.endsWith('.nii'))!);
    const { volumes } = await assembleVolumes(files);
    const ours = join(outDir, `${orientation}-medvox.nii`);
    await writeNiftiFile(ours, volumeToNifti(volumes[0]!));
    const [result] = compareInPatientSpace([[ours, reference]]);
    assert.ok(result!.same_voxels, `${orientation}: voxels differ from dcm2niix`);
    assert.ok(result!.max_affine_diff < 1e-3, `${orientation}: affine differs by ${result!.max_affine_diff}`);
  }
});

test('stack analysis reports missing slices, uneven spacing and gantry tilt', async () => {
  const files = makePhantomSeries({ slices: 12 });
  const missing = files.filter((_, index) => index !== 5);
  const { volumes } = await assembleVolumes(missing);
  const kinds = volumes[0]!.warnings.map((w) => w.kind);
  assert.ok(kinds.includes('UNEVEN_SPACING') && kinds.includes('MISSING_SLICES'), kinds.join());
  const gap = volumes[0]!.warnings.find((w) => w.kind === 'MISSING_SLICES');
  assert.deepEqual(gap, { kind: 'MISSING_SLICES', expected: 12, found: 11, gapIndices: [4] });

  // Tilt: shift each slice along y by tan(15 deg) * z, as a tilted gantry does.
  const tilted = makePhantomSeries({ slices: 8 });
  for (const file of tilted) {
    const [x, y, z] = file.dataset.numbers('ImagePositionPatient') as [number, number, number];
    file.dataset.setNumbers('ImagePositionPatient', [x, y + Math.tan((15 * Math.PI) / 180) * z, z], 'DS');
  }
  const tiltVolume = (await assembleVolumes(tilted)).volumes[0]!;
  const tilt = tiltVolume.warnings.find((w) => w.kind === 'GANTRY_TILT');
  assert.ok(tilt && tilt.kind === 'GANTRY_TILT' && Math.abs(tilt.angleDegrees - 15) < 0.01, JSON.stringify(tilt));
});
