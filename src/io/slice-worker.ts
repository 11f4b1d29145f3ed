/**
 * Worker thread of slice-copier.ts: takes work from a counter shared with the main thread, which does the same:
 * - .nii: slices, each copied from its DICOM file into the .nii file (file-slices.ts); reports through shared memory.
 * - .nii.gz: gzip members of consecutive slices, each read, flipped and compressed here and posted back.
 *
 * (Tried before: the main thread handing slices to this worker while it read headers, the worker gzipping them on
 * the pool. Slower, 366 against 332 ms for 300 slices: this thread's start-up (~40 ms of CPU) was added and the main
 * thread waited for it. Sharing whole members after planning keeps both threads busy instead.)
 */
import { parentPort } from 'node:worker_threads';
import { copyFileSlice, type FileSliceJob, gzipFileMember, sliceScratch } from './file-slices.ts';

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
  /** Set: gzip members of `perMember` slices (level `level`) and post them back, instead of writing into `fd`. */
  gzip?: { perMember: number; level: number; members: number };
}

export interface GzipMemberReply {
  member: number;
  bytes?: Uint8Array;
  max: number;
}

const port = parentPort;
if (port) {
  // LazyWorker.ready (worker-start.ts) waits for this.
  port.postMessage('ready');
  port.on('message', ({ job, fd, state: shared, gzip }: SliceCopyRequest) => {
    const state = new Int32Array(shared);
    const scratch = sliceScratch(job);
    if (gzip) {
      const buffer = new Uint8Array(job.rows * job.columns * job.bytesPerSample * gzip.perMember);
      for (;;) {
        const member = Atomics.add(state, NEXT, 1);
        if (member >= gzip.members) break;
        let reply: GzipMemberReply;
        try {
          const { bytes, max } = gzipFileMember(job, member, gzip.perMember, gzip.level, buffer, scratch);
          reply = { member, bytes, max };
        } catch {
          reply = { member, max: 0 };
        }
        // Sent as a buffer of its own (a small result may lie in Node's shared pool, which must not be transferred).
        if (reply.bytes) {
          const own = new Uint8Array(reply.bytes);
          port.postMessage({ ...reply, bytes: own }, [own.buffer]);
        } else port.postMessage(reply);
      }
      return;
    }
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
