import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadDicomInputs } from '../../src/io/load-dicom.ts';
import { corpus, requirePeers } from '../support/env.ts';

test('a DICOMDIR given as input loads the files it references, as the folder scan finds them', async (t) => {
  if (!requirePeers(t)) return;
  const root = corpus('curation/pydicom_dicomdir_tree');
  const viaDicomdir = await loadDicomInputs([`${root}/DICOMDIR`]);
  const viaFolders = await loadDicomInputs([`${root}/77654033`, `${root}/98892001`, `${root}/98892003`]);
  const uids = (files: typeof viaFolders.files) => files.map((f) => f.dataset.string('SOPInstanceUID')).sort();
  assert.equal(viaDicomdir.files.length, 31);
  assert.deepEqual(uids(viaDicomdir.files), uids(viaFolders.files));
  assert.deepEqual(viaDicomdir.failed, []);
});

test('a folder with a DICOMDIR does not load any file twice', async (t) => {
  if (!requirePeers(t)) return;
  const root = corpus('curation/pydicom_dicomdir_tree');
  const loaded = await loadDicomInputs([root]);
  const sources = loaded.files.map((f) => f.source);
  assert.equal(new Set(sources).size, sources.length);
  assert.equal(loaded.files.length, 31);
});
