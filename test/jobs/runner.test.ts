import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeDicom } from '../../src/core/dicom/writer.ts';
import { MedvoxError } from '../../src/core/errors.ts';
import { makePhantomSeries } from '../../src/core/phantom/index.ts';
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
