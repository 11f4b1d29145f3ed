/**
 * A zipped series is an input like its folder (the converter and the metadata report list every input first and
 * read the files afterwards): the same volume, the same instances.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeDicom } from '../../src/core/dicom/writer.ts';
import { makePhantomSeries } from '../../src/core/phantom/index.ts';
import { dicomToNifti } from '../../src/ops/dicom-to-nifti.ts';
import { metadataReport } from '../../src/ops/metadata-report.ts';
import { requirePeers } from '../support/env.ts';

const scratch = mkdtempSync(join(tmpdir(), 'medvox-zip-inputs-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function zippedSeries(): { folder: string; zip: string } {
  const folder = join(scratch, 'series');
  mkdirSync(folder, { recursive: true });
  const files = makePhantomSeries({ rows: 32, columns: 32, slices: 12, modality: 'CT', seed: 'zip-inputs' });
  for (const [index, file] of files.entries()) {
    writeFileSync(join(folder, `IM${String(index).padStart(3, '0')}.dcm`), writeDicom(file));
  }
  const zip = join(scratch, 'zipped', 'series.zip');
  mkdirSync(join(scratch, 'zipped'), { recursive: true });
  execFileSync('zip', ['-q', '-r', zip, '.'], { cwd: folder });
  return { folder, zip };
}

test('a zipped series converts to the same NIfTI and reports the same instances as its folder', async (t) => {
  if (!requirePeers(t, 'zip')) return;
  const { folder, zip } = zippedSeries();
  const fromFolder = await dicomToNifti({ inputs: [folder], outputDir: join(scratch, 'nii-folder'), gzip: false });
  const fromZip = await dicomToNifti({ inputs: [zip], outputDir: join(scratch, 'nii-zip'), gzip: false });
  assert.deepEqual(fromZip.errors, []);
  assert.equal(fromZip.outputs.length, 1);
  assert.ok(readFileSync(fromZip.outputs[0]!.nifti).equals(readFileSync(fromFolder.outputs[0]!.nifti)));

  const report = await metadataReport({ inputs: [zip], output: join(scratch, 'report.json') });
  assert.deepEqual(report.errors, []);
  assert.equal(report.instances, 12);
  assert.equal(report.series, 1);
});
