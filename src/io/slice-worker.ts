/**
 * Worker thread of slice-copier.ts (.nii conversions): takes slices of a volume from the shared counter and copies
 * each from its DICOM file into the .nii file (file-slices.ts), while the main thread does the same; reports through
 * shared memory.
 *
 * (Tried for .nii.gz as well: the worker reading members of slices and gzipping them, so that the main thread only
 * parses headers. Slower, 366 against 332 ms for 300 slices: on two CPUs the work only moved, the worker's start-up
 * (~40 ms of CPU: Node's internals compiled again in its isolate) was added, and the main thread waited for it.)
 */
import { parentPort } from 'node:worker_threads';
import { copyFileSlice, type FileSliceJob, sliceScratch } from './file-slices.ts';

/** Slots of the shared state of a copy (Int32Array). */
export const NEXT = 0;
export const DONE = 1;
export const WORKER_MAX = 2;
/** 1 + the index of a slice this worker could not copy (0: none); the main thread copies it again to report it. */
export const FAILED = 3;

export interface SliceCopyRequest {
  job: FileSliceJob;
  fd: number;
  state: SharedArrayBuffer;
}

const port = parentPort;
if (port) {
  // LazyWorker.ready (worker-start.ts) waits for this.
  port.postMessage('ready');
  port.on('message', ({ job, fd, state: shared }: SliceCopyRequest) => {
    const state = new Int32Array(shared);
    const scratch = sliceScratch(job);
    let max = 0;
    for (;;) {
      const index = Atomics.add(state, NEXT, 1);
      if (index >= job.frames.length) break;
      try {
        max = Math.max(max, copyFileSlice(job, index, fd, scratch));
        Atomics.store(state, WORKER_MAX, max);
      } catch {
        Atomics.compareExchange(state, FAILED, 0, index + 1);
      }
      Atomics.add(state, DONE, 1);
      Atomics.notify(state, DONE);
    }
  });
}
