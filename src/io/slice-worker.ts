/**
 * Worker thread of slice-copier.ts (.nii conversions): takes slices of a volume from the counter it shares with the
 * main thread and copies each from its DICOM file into the .nii file (file-slices.ts), while the main thread does
 * the same; reports through the shared state.
 *
 * (Tried for .nii.gz as well: the worker reading members of slices and gzipping them, so that the main thread only
 * parses headers. Slower, 366 against 332 ms for 300 slices: on two CPUs the work only moved, the worker's start-up
 * (~40 ms of CPU: Node's internals compiled again in its isolate) was added, and the main thread waited for it.)
 */
import { parentPort } from 'node:worker_threads';
import { copyTakenSlices, FAILED, type FileSliceJob, sliceScratch } from './file-slices.ts';

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
    // A slice it cannot copy is left to the main thread, which copies it again and reports it.
    const failed = (index: number): void => void Atomics.compareExchange(state, FAILED, 0, index + 1);
    copyTakenSlices(job, fd, state, sliceScratch(job), failed, true);
  });
}
