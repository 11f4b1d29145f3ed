/**
 * Worker thread of slice-copier.ts: takes work of a volume from the counter it shares with the main thread, which
 * does the same, through the one claim loop of both (file-slices.ts doTakenItems):
 * - .nii: slices, each copied from its DICOM file into the .nii file; reports through the shared state.
 * - .nii.gz: gzip members of consecutive slices, each read, flipped and compressed here and posted back.
 *
 * (Tried before: the main thread handing slices to this worker while it read headers, the worker gzipping them on
 * the pool. Slower, 366 against 332 ms for 300 slices: this thread's start-up (~40 ms of CPU) was added and the main
 * thread waited for it. Sharing whole members after planning keeps both threads busy instead.)
 */
import { parentPort } from 'node:worker_threads';
import {
  copyTakenSlices,
  doTakenItems,
  FAILED,
  type FileSliceJob,
  gzipFileMember,
  type MemberCut,
  memberBuffer,
  sliceScratch,
} from './file-slices.ts';

export interface SliceCopyRequest {
  job: FileSliceJob;
  /** The .nii file the slices are copied into (-1 with `gzip`). */
  fd: number;
  state: SharedArrayBuffer;
  /** Set: make gzip members of the slices and post them back (GzipMemberReply), instead of writing into `fd`. */
  gzip?: MemberCut & { id: number };
}

/** One member of request `id`: its bytes, or none when the worker could not make it (the main thread then does). */
export interface GzipMemberReply {
  id: number;
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
      const { id } = gzip;
      const buffer = memberBuffer(job, gzip);
      const make = (member: number): number => {
        const { bytes, max } = gzipFileMember(job, member, gzip, buffer, scratch);
        // Transferred, not copied, when it owns its buffer (zlib joins a result of several output chunks into one:
        // ~1 MB a member of a real CT). A one-chunk result is a view into zlib's 256 KiB chunk, and a small one may
        // lie in Node's shared pool: copied first, so that only its bytes travel and nothing shared is detached.
        const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
        const own = owned ? bytes : new Uint8Array(bytes);
        port.postMessage({ id, member, bytes: own, max } satisfies GzipMemberReply, [own.buffer as ArrayBuffer]);
        return max;
      };
      // A member it cannot make is left to the main thread, which makes it again and reports it.
      const failed = (member: number): void => port.postMessage({ id, member, max: 0 } satisfies GzipMemberReply);
      doTakenItems(state, gzip.members, make, failed);
      return;
    }
    // A slice it cannot copy is left to the main thread, which copies it again and reports it.
    const failed = (index: number): void => void Atomics.compareExchange(state, FAILED, 0, index + 1);
    copyTakenSlices(job, fd, state, scratch, failed, true);
  });
}
