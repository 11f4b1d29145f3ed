import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeDicom } from '../../src/core/dicom/writer.ts';
import { makePhantomSeries } from '../../src/core/phantom/index.ts';
import { assembleVolumes, volumeToNifti } from '../../src/core/volume/index.ts';
import { writeFileAtomic } from '../../src/io/atomic.ts';
import { buildSeriesVolumes } from '../../src/ops/archive-derive.ts';
import { ingestFiles } from '../../src/ops/ingest.ts';
import { openArchive } from '../../src/store/archive.ts';
import { SqliteIndex } from '../../src/store/sqlite-index.ts';

const root = mkdtempSync(join(tmpdir(), 'medvox-store-'));
after(() => rmSync(root, { recursive: true, force: true }));

async function phantomFolder(name: string, seed: string): Promise<string> {
  const dir = join(root, name);
  const files = makePhantomSeries({ rows: 32, columns: 32, slices: 8, seed });
  for (const [k, file] of files.entries()) await writeFileAtomic(join(dir, `${k}.dcm`), writeDicom(file));
  return dir;
}

test('migrations are applied once and recorded; reopening keeps the schema version', () => {
  const path = join(root, 'schema.sqlite');
  const first = new SqliteIndex(path);
  assert.equal(first.schemaVersion, 1);
  first.close();
  const again = new SqliteIndex(path);
  assert.equal(again.schemaVersion, 1);
  again.close();
});

test('blobs are content-addressed: the same bytes are stored once, under their SHA-256, with no temporary left', async () => {
  const archive = await openArchive(join(root, 'blobs-archive'));
  const a = await archive.blobs.put(new TextEncoder().encode('hello'));
  const b = await archive.blobs.put([new TextEncoder().encode('hel'), new TextEncoder().encode('lo')]);
  assert.equal(a.key, '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  assert.equal(a.key, b.key);
  assert.deepEqual(await archive.blobs.read(a.key, 1, 3), new TextEncoder().encode('ell'));
  const dir = join(root, 'blobs-archive', 'blobs', a.key.slice(0, 2), a.key.slice(2, 4));
  assert.deepEqual(readdirSync(dir), [a.key]);
  assert.throws(() => archive.blobs.path('../../etc/passwd'), /not a blob key/);
  archive.close();
});

test('ingest stores a series once: a second import recognises every SOP Instance UID as a duplicate', async () => {
  const archive = await openArchive(join(root, 'ingest-archive'));
  const folder = await phantomFolder('phantom', 'store-test');
  const first = await ingestFiles(archive, [folder]);
  assert.equal(first.stored, 8);
  assert.equal(first.duplicates, 0);
  const second = await ingestFiles(archive, [folder]);
  assert.equal(second.stored, 0);
  assert.equal(second.duplicates, 8);
  const [study] = archive.index.studies();
  assert.equal(study?.instanceCount, 8);
  assert.equal(study?.seriesCount, 1);
  assert.deepEqual(study?.modalities, ['CT']);
  assert.equal(study?.patientID, 'PHANTOM-001');
  // The volume the viewer gets equals the converter's voxels.
  const [volume] = await buildSeriesVolumes(archive, first.series[0]!);
  const expected = volumeToNifti(
    (await assembleVolumes(makePhantomSeries({ rows: 32, columns: 32, slices: 8, seed: 'store-test' }))).volumes[0]!,
  );
  const bytes = await archive.blobs.get(volume!.blob);
  assert.deepEqual(volume!.header.dims, [32, 32, 8, 1]);
  assert.deepEqual(
    Buffer.from(bytes),
    Buffer.from(expected.data.buffer, expected.data.byteOffset, expected.data.byteLength),
  );
  archive.close();
});

test('purging a job removes what it stored and returns the blobs nothing else uses', async () => {
  const archive = await openArchive(join(root, 'purge-archive'));
  const kept = await ingestFiles(archive, [await phantomFolder('kept', 'kept')]);
  const purged = await ingestFiles(archive, [await phantomFolder('purged', 'purged')], { jobId: 'job-1' });
  assert.equal(archive.index.studies().length, 2);
  const orphans = archive.index.purgeJobOutputs('job-1');
  assert.equal(orphans.length, 8);
  assert.deepEqual(
    archive.index.studies().map((study) => study.studyInstanceUID),
    kept.studies,
  );
  assert.equal(archive.index.hasInstance(purged.instances[0]!.sopInstanceUID), false);
  archive.close();
});

test('importing a folder: bad files are reported and leave no blob; duplicates (same SOP Instance UID) are not written', async () => {
  const archive = await openArchive(join(root, 'disk-archive'));
  const dir = join(root, 'mixed');
  const files = makePhantomSeries({ rows: 32, columns: 32, slices: 4, seed: 'mixed' });
  const encoded = files.map((file) => writeDicom(file));
  for (const [k, bytes] of encoded.entries()) await writeFileAtomic(join(dir, `${k}.dcm`), bytes);
  // The same instance again (same bytes), the same SOP Instance UID with other bytes, a cut file, a text file.
  await writeFileAtomic(join(dir, 'copy.dcm'), encoded[0]!);
  files[1]!.dataset.setStrings('PatientName', 'Other^Name');
  await writeFileAtomic(join(dir, 'same-uid.dcm'), writeDicom(files[1]!));
  await writeFileAtomic(join(dir, 'cut.dcm'), encoded[2]!.subarray(0, encoded[2]!.length - 100));
  await writeFileAtomic(join(dir, 'notes.txt'), 'not DICOM');
  const result = await ingestFiles(archive, [dir]);
  assert.equal(result.stored, 4);
  assert.equal(result.duplicates, 2);
  assert.deepEqual(result.notDicom, [join(dir, 'notes.txt')]);
  assert.equal(result.failed.length, 1);
  assert.equal(result.failed[0]!.file, join(dir, 'cut.dcm'));
  // Four blobs, each under the SHA-256 of a good file's bytes; no temporary left.
  const stored = readdirSync(join(root, 'disk-archive', 'blobs'), { recursive: true }) as string[];
  assert.deepEqual(
    stored.filter((name) => name.includes('.tmp-')),
    [],
  );
  const keys = stored
    .map((name) => name.split('/').at(-1)!)
    .filter((name) => /^[0-9a-f]{64}$/.test(name))
    .sort();
  const expected = encoded.map((bytes) => createHash('sha256').update(bytes).digest('hex')).sort();
  assert.deepEqual(keys, expected);
  for (const instance of result.instances.filter((row) => !row.duplicate)) {
    const row = archive.index.instance(instance.sopInstanceUID)!;
    assert.deepEqual(
      Buffer.from(await archive.blobs.get(row.blob)),
      Buffer.from(encoded[Number(row.instanceNumber) - 1]!),
    );
  }
  archive.close();
});

test('putTransfer hashes and writes on a writer thread: the same key as put, the buffer given back, stored once', async () => {
  const archive = await openArchive(join(root, 'transfer-archive'));
  const text = new TextEncoder().encode('hello');
  const sent = new Uint8Array(1024);
  sent.set(text);
  const first = await archive.blobs.putTransfer!(sent.subarray(0, text.length));
  assert.equal(sent.byteLength, 0); // transferred
  assert.equal(first.key, '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  assert.equal(first.size, 5);
  assert.equal(first.created, true);
  assert.equal(first.buffer.byteLength, 1024);
  assert.deepEqual(first.buffer.subarray(0, 5), text);
  const again = await archive.blobs.putTransfer!(first.buffer.subarray(0, 5));
  assert.equal(again.created, false);
  assert.deepEqual(await archive.blobs.get(first.key), text);
  const dir = join(root, 'transfer-archive', 'blobs', first.key.slice(0, 2), first.key.slice(2, 4));
  assert.deepEqual(readdirSync(dir), [first.key]);
  archive.close();
});
