/**
 * The slices of a volume that are still in their files (`PlannedVolume.fileFrames`), handled by two threads: this
 * one and a worker (slice-worker.ts), which take work from one shared counter (one claim loop for both,
 * file-slices.ts doTakenItems).
 * - `copy` (.nii): slices read, flipped and written at their offsets in the file. Writes go to fixed offsets, so a
 *   slice copied twice is harmless: a slice the worker could not copy is copied again here (which reports the error
 *   with its file), and all of them are when the worker stops.
 * - `gzipMembers` (.nii.gz): members of consecutive slices read, flipped and compressed (zlib, on the thread that
 *   took them), then written in order by the caller. A member the worker could not make, or did not because it
 *   stopped, is made here.
 * A conversion was this thread's work from start to end (headers, plan, sidecar, then every slice) while the other
 * CPU idled or compressed. The worker starts while the headers are still being read (`start`), so it is ready when
 * the slices are, and works while this thread builds the sidecar.
 */
import type { Worker } from 'node:worker_threads';
import {
  copyFileSlice,
  copyTakenSlices,
  DONE,
  doTakenItems,
  FAILED,
  type FileSliceJob,
  gzipFileMember,
  type MemberCut,
  memberBuffer,
  NEXT,
  STATE_SLOTS,
  sliceScratch,
  WORKER_MAX,
} from './file-slices.ts';
import type { GzipMemberReply, SliceCopyRequest } from './slice-worker.ts';
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

/** What `gzipMembers` made: the members in slice order, the largest value of uint16 data, the worker's share. */
export interface GzipMembersResult {
  members: Uint8Array[];
  uint16Max: number;
  workerMembers: number;
}

export class SliceCopier {
  private readonly helper = new LazyWorker('slice-worker');
  /** Tells the worker's replies to one `gzipMembers` call from late ones to an earlier call that failed. */
  private gzipRequests = 0;

  /** Start the worker (it takes ~25 ms to be ready, on the other CPU); `copy` works without it. */
  start(): void {
    this.helper.start();
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
    const worker = this.helper.live;
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
    return { uint16Max: copyEvery(job, fd), workerSlices: 0 };
  }

  private async copyShared(
    worker: Worker,
    job: FileSliceJob,
    fd: number,
    meanwhile?: () => void,
  ): Promise<SliceCopyResult> {
    const count = job.frames.length;
    const state = new Int32Array(new SharedArrayBuffer(STATE_SLOTS * Int32Array.BYTES_PER_ELEMENT));
    worker.postMessage({ job, fd, state: state.buffer } satisfies SliceCopyRequest);
    const scratch = sliceScratch(job);
    let mine: { max: number; copied: number };
    try {
      meanwhile?.();
      mine = copyTakenSlices(job, fd, state, scratch, rethrow);
    } catch (error) {
      // No new slices for the worker; wait for those it took before `fd` may be closed.
      await this.settled(state, Math.min(Atomics.exchange(state, NEXT, count), count));
      throw error;
    }
    // The worker stopped with slices unfinished: copy them all here (the same bytes at the same places).
    if (!(await this.settled(state, count))) return { uint16Max: copyEvery(job, fd), workerSlices: 0 };
    let max = Math.max(mine.max, Atomics.load(state, WORKER_MAX));
    const failed = Atomics.load(state, FAILED);
    if (failed > 0) max = Math.max(max, copyFileSlice(job, failed - 1, fd, scratch));
    return { uint16Max: max, workerSlices: count - mine.copied };
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

  /**
   * The slices of `job` as gzip members of `perMember` consecutive slices each (in slice order), made by this thread
   * and the worker, each taking whole members from the shared counter: read, flip, compress. `meanwhile` as for
   * `copy`. A slice that cannot be read fails with an IO_ERROR naming its file (a member the worker could not make,
   * or did not because it stopped, is made here).
   */
  async gzipMembers(
    job: FileSliceJob,
    perMember: number,
    level: number,
    meanwhile?: () => void,
  ): Promise<GzipMembersResult> {
    const cut: MemberCut = { perMember, level, members: Math.ceil(job.frames.length / perMember) };
    const members: Array<Uint8Array | undefined> = new Array(cut.members);
    const buffer = memberBuffer(job, cut);
    const scratch = sliceScratch(job);
    const makeHere = (member: number): number => {
      const made = gzipFileMember(job, member, cut, buffer, scratch);
      members[member] = made.bytes;
      return made.max;
    };
    let max = 0;
    let workerMembers = 0;
    const worker = this.helper.live;
    if (worker) {
      const id = ++this.gzipRequests;
      const state = new Int32Array(new SharedArrayBuffer(STATE_SLOTS * Int32Array.BYTES_PER_ELEMENT));
      let replies = 0;
      let wake: (() => void) | undefined;
      const onReply = (reply: GzipMemberReply | 'ready'): void => {
        if (reply === 'ready' || reply.id !== id) return;
        replies++;
        if (reply.bytes) {
          members[reply.member] = reply.bytes;
          max = Math.max(max, reply.max);
          workerMembers++;
        }
        wake?.();
      };
      const onExit = (): void => wake?.();
      worker.on('message', onReply);
      worker.on('exit', onExit);
      // Referenced while it works (see `copy`).
      worker.ref();
      try {
        worker.postMessage({ job, fd: -1, state: state.buffer, gzip: { ...cut, id } } satisfies SliceCopyRequest);
        meanwhile?.();
        const mine = doTakenItems(state, cut.members, makeHere, rethrow);
        max = Math.max(max, mine.max);
        // Every member was taken once: the worker's are on their way (made or not), unless it stopped.
        while (replies < cut.members - mine.done && !this.helper.stopped) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      } catch (error) {
        Atomics.store(state, NEXT, cut.members); // the worker takes no more
        throw error;
      } finally {
        worker.off('message', onReply);
        worker.off('exit', onExit);
        worker.unref();
      }
    } else meanwhile?.();
    for (let member = 0; member < cut.members; member++) if (!members[member]) max = Math.max(max, makeHere(member));
    return { members: members as Uint8Array[], uint16Max: max, workerMembers };
  }

  close(): Promise<void> {
    return this.helper.close();
  }
}

const rethrow = (_index: number, error: unknown): never => {
  throw error;
};

/** Every slice of `job` copied by this thread; the largest value of unsigned 16-bit data. */
function copyEvery(job: FileSliceJob, fd: number): number {
  return copyTakenSlices(job, fd, new Int32Array(STATE_SLOTS), sliceScratch(job), rethrow).max;
}
