import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeDicom } from '../../src/core/dicom/writer.ts';
import { MedvoxError } from '../../src/core/errors.ts';
import { makePhantomSeries } from '../../src/core/phantom/index.ts';
import { JOB_HANDLERS } from '../../src/jobs/handlers.ts';
import { type JobEvent, JobRunner } from '../../src/jobs/runner.ts';
import { checkInstance, storeInstances } from '../../src/ops/ingest.ts';
import { openArchive } from '../../src/store/archive.ts';

const root = mkdtempSync(join(tmpdir(), 'medvox-runner-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('progress events are numbered in order; a cancelled job ends `cancelled` and what it stored is purged', async () => {
  const archive = await openArchive(join(root, 'a'));
  const files = makePhantomSeries({ rows: 16, columns: 16, slices: 4, seed: 'runner' });
  const runner = new JobRunner(archive, {
    slow: async (context) => {
      const checked = files.map((file, n) => checkInstance(writeDicom(file), `slice ${n}`));
      await storeInstances(archive, checked, { jobId: context.job.id });
      for (let step = 0; step < 1000; step++) {
        if (context.signal.aborted) throw new MedvoxError('CANCELLED', 'cancelled');
        context.progress(step / 10, `step ${step}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return {};
    },
    quick: async (context) => {
      for (let step = 0; step <= 10; step++) context.progress(step * 10, `step ${step}`);
      return { answer: 42 };
    },
  });
  await runner.start();
  const events: JobEvent[] = [];
  runner.on('event', (event: JobEvent) => events.push(event));
  const quick = runner.submit('quick', {});
  const done = await runner.waitFor(quick.id);
  assert.equal(done.state, 'done');
  assert.deepEqual(done.result, { answer: 42 });
  const seqs = runner.events(quick.id).map((event) => event.seq);
  assert.deepEqual(
    seqs,
    seqs.map((_, n) => n + 1),
  );

  const slow = runner.submit('slow', {});
  while (
    archive.index.job(slow.id)!.state !== 'running' ||
    !archive.index.hasInstance(files[0]!.dataset.string('SOPInstanceUID')!)
  )
    await new Promise((resolve) => setTimeout(resolve, 5));
  const cancelled = await runner.cancel(slow.id);
  assert.equal(cancelled.state, 'cancelled');
  assert.equal(archive.index.hasInstance(files[0]!.dataset.string('SOPInstanceUID')!), false, 'outputs purged');
  assert.equal(runner.events(slow.id).at(-1)!.state, 'cancelled');
  await runner.close();
  archive.close();
});

test('an upload job left running by a crash re-runs from the blobs the upload stored (they are its input, kept)', async () => {
  const archive = await openArchive(join(root, 'crashed'));
  const files = makePhantomSeries({ rows: 16, columns: 16, slices: 5, seed: 'crashed-upload' });
  const blobs = [];
  for (const [n, file] of files.entries()) {
    const blob = await archive.blobs.put(writeDicom(file));
    blobs.push({ key: blob.key, size: blob.size, name: `${n}.dcm` });
  }
  // The state a killed server leaves: the job `running`, two instances already indexed by it.
  const job = archive.index.createJob({
    id: 'crashed-job',
    type: 'import',
    params: { inputs: [], blobs },
    studyInstanceUID: undefined,
  });
  archive.index.updateJob(job.id, { state: 'running', attempts: 1 });
  const partial = files.slice(0, 2).map((file, n) => checkInstance(writeDicom(file), `${n}.dcm`));
  await storeInstances(archive, partial, { jobId: job.id });
  const runner = new JobRunner(archive, JOB_HANDLERS);
  assert.deepEqual(await runner.start(), [job.id]);
  const done = await runner.waitFor(job.id);
  assert.equal(done.state, 'done', JSON.stringify(done.error));
  assert.equal(done.attempts, 2);
  assert.deepEqual(
    [done.result?.stored, done.result?.duplicates],
    [5, 0],
    'the partial run was purged, then all stored',
  );
  for (const blob of blobs) assert.ok(await archive.blobs.has(blob.key));
  assert.equal(archive.index.instances({}).length, 5);
  await runner.close();
  archive.close();
});
