/**
 * The slices of a .nii volume copied from their files by two threads: this one and a worker (slice-worker.ts),
 * which take slices from one shared counter. A plain conversion to .nii is this thread's work from start to end
 * (read, flip, write ~50 ms of a 300-slice CT) while the other CPU idles; shared, the copy takes about half, and the
 * worker starts while the headers are still being read (`start`), so it is ready when the slices are.
 *
 * Writes go to fixed offsets, so a slice copied twice is harmless: a slice the worker could not copy is copied
 * again here (which reports the error with its file), and all of them are when the worker stops.
 */
import type { Worker } from 'node:worker_threads';
import { MedvoxError } from '../core/errors.ts';
import { copyFileSlice, type FileSliceJob, OutputError, type SliceScratch, sliceScratch } from './file-slices.ts';
import { DONE, FAILED, NEXT, type SliceCopyRequest, WORKER_MAX } from './slice-worker.ts';
import { LazyWorker } from './worker-start.ts';

// Atomics.waitAsync (ES2024; in Node since 16): TypeScript's library for this project's target does not declare it.
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      array: Int32Array,
      index: number,
      value: number,
      timeout: number,
    ): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;

/** What a copy did: the largest value of unsigned 16-bit data (else 0), and how many slices the worker copied. */
export interface SliceCopyResult {
  uint16Max: number;
  workerSlices: number;
}

export class SliceCopier {
  private readonly helper = new LazyWorker('slice-worker');

  /** Start the worker (it takes ~25 ms to be ready, on the other CPU); `copy` works without it. */
  start(): void {
    void this.helper.worker;
  }

  /** Resolves once the worker listens (or stopped; at once when none was started). */
  ready(): Promise<void> {
    return this.helper.ready();
  }

  /**
   * Copy every slice of `job` into `fd` (a .nii file being written). `meanwhile` runs on this thread once the
   * worker has the slices, before this thread joins in (other work of the volume; the worker copies alone
   * meanwhile). A slice that cannot be read fails with an IO_ERROR naming its file, and any failure settles only
   * once no thread writes into `fd` any more.
   */
  async copy(job: FileSliceJob, fd: number, meanwhile?: () => void): Promise<SliceCopyResult> {
    const worker = this.helper.running ? this.helper.worker : undefined;
    if (!worker) return this.copyAlone(job, fd, meanwhile);
    // Referenced while it works: the process must not end while this thread waits for it (a pending
    // Atomics.waitAsync does not keep the event loop alive).
    worker.ref();
    try {
      return await this.copyShared(worker, job, fd, meanwhile);
    } finally {
      worker.unref();
    }
  }

  private copyAlone(job: FileSliceJob, fd: number, meanwhile?: () => void): SliceCopyResult {
    meanwhile?.();
    const scratch = sliceScratch(job);
    let max = 0;
    for (let index = 0; index < job.frames.length; index++) max = Math.max(max, copyHere(job, index, fd, scratch));
    return { uint16Max: max, workerSlices: 0 };
  }

  private async copyShared(
    worker: Worker,
    job: FileSliceJob,
    fd: number,
    meanwhile?: () => void,
  ): Promise<SliceCopyResult> {
    const count = job.frames.length;
    const state = new Int32Array(new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT));
    worker.postMessage({ job, fd, state: state.buffer } satisfies SliceCopyRequest);
    const scratch = sliceScratch(job);
    let max = 0;
    let mine = 0;
    let current = -1;
    try {
      meanwhile?.();
      for (;;) {
        current = Atomics.add(state, NEXT, 1);
        if (current >= count) break;
        max = Math.max(max, copyHere(job, current, fd, scratch));
        mine++;
        Atomics.add(state, DONE, 1);
      }
    } catch (error) {
      // No new slices for the worker; wait for those it took before `fd` may be closed.
      const claimed = Math.min(Atomics.exchange(state, NEXT, count), count);
      if (current >= 0 && current < count) Atomics.add(state, DONE, 1);
      await this.settled(state, claimed);
      throw error;
    }
    if (!(await this.settled(state, count))) {
      // The worker stopped with slices unfinished: copy them all here (the same bytes at the same places).
      for (let index = 0; index < count; index++) max = Math.max(max, copyHere(job, index, fd, scratch));
      return { uint16Max: max, workerSlices: 0 };
    }
    const failed = Atomics.load(state, FAILED);
    if (failed > 0) max = Math.max(max, copyHere(job, failed - 1, fd, scratch));
    return { uint16Max: Math.max(max, Atomics.load(state, WORKER_MAX)), workerSlices: count - mine };
  }

  /** Wait until `count` slices are done; false when the worker stopped first. */
  private async settled(state: Int32Array, count: number): Promise<boolean> {
    for (;;) {
      const done = Atomics.load(state, DONE);
      if (done >= count) return true;
      if (this.helper.stopped) return false;
      const waiting = waitAsync(state, DONE, done, 20);
      if (waiting.async) await waiting.value;
    }
  }

  close(): Promise<void> {
    return this.helper.close();
  }
}

function copyHere(job: FileSliceJob, index: number, fd: number, scratch: SliceScratch): number {
  try {
    return copyFileSlice(job, index, fd, scratch);
  } catch (error) {
    // The output's path is the NIfTI stream's to add.
    if (error instanceof OutputError)
      throw new MedvoxError('IO_ERROR', `cannot write: ${error.message}`, { cause: error });
    const path = job.frames[index]!.path;
    throw new MedvoxError('IO_ERROR', `cannot read the pixel data: ${(error as Error).message}`, {
      file: path,
      cause: error,
    });
  }
}
