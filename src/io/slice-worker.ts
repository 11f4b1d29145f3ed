/**
 * Worker thread for native slices that are still in their files (file-slices.ts), so that reading them (and
 * flipping their rows) leaves the main thread, which goes on reading headers:
 * - `copy` (slice-copier.ts, .nii): take slices from a shared counter and write each into the .nii file, while the
 *   main thread does the same; reports through shared memory.
 * - `slot` / `close` (slice-compressor.ts, .nii.gz): read a slice into its place in a member of consecutive slices;
 *   on close, gzip the member on the thread pool and send it back.
 */
import { parentPort } from 'node:worker_threads';
import { gzip } from 'node:zlib';
import {
  copyFileSlice,
  type FileFrame,
  type FileSliceJob,
  readFileSlice,
  type SliceShape,
  sliceScratch,
} from './file-slices.ts';

/** Slots of the shared state of a copy (Int32Array). */
export const NEXT = 0;
export const DONE = 1;
export const WORKER_MAX = 2;
/** 1 + the index of a slice this worker could not copy (0: none); the main thread copies it again to report it. */
export const FAILED = 3;

/** Output pieces of a gzip member (not zlib's 16 KiB: fewer trips between the pool thread and this one). */
const GZIP_OUTPUT_CHUNK = 256 * 1024;

export type SliceWorkerRequest =
  | { kind: 'copy'; job: FileSliceJob; fd: number; state: SharedArrayBuffer }
  | { kind: 'slot'; member: number; capacity: number; slot: number; shape: SliceShape; frame: FileFrame }
  | { kind: 'close'; member: number; first: number; used: number; level: number };

/** A compressed member (`bytes`), with the largest value of its unsigned 16-bit data; or why it could not be. */
export type SliceWorkerReply = { member: number; bytes: Uint8Array; max: number } | { member: number; failed: string };

interface OpenMember {
  buffer: Uint8Array;
  sliceBytes: number;
  max: number;
  failed?: string;
}

const port = parentPort;
if (port) {
  const members = new Map<number, OpenMember>();
  const spare: Uint8Array[] = [];
  let read = new Uint8Array(0);
  port.postMessage('ready');
  port.on('message', (request: SliceWorkerRequest) => {
    if (request.kind === 'copy') copy(request.job, request.fd, new Int32Array(request.state));
    else if (request.kind === 'slot') {
      const { shape } = request;
      const sliceBytes = shape.rows * shape.columns * shape.bytesPerSample;
      let member = members.get(request.member);
      if (!member) {
        const size = sliceBytes * request.capacity;
        const at = spare.findIndex((buffer) => buffer.length === size);
        const buffer = at >= 0 ? spare.splice(at, 1)[0]! : new Uint8Array(size);
        member = { buffer, sliceBytes, max: 0 };
        members.set(request.member, member);
      }
      if (member.failed) return;
      if (read.length < sliceBytes) read = new Uint8Array(sliceBytes);
      const target = member.buffer.subarray(request.slot * sliceBytes, (request.slot + 1) * sliceBytes);
      try {
        member.max = Math.max(member.max, readFileSlice(shape, request.frame, target, read));
      } catch (error) {
        member.failed = `${request.frame.path}: ${(error as Error).message}`;
      }
    } else {
      const member = members.get(request.member);
      members.delete(request.member);
      if (!member || member.failed) {
        port.postMessage({ member: request.member, failed: member?.failed ?? 'no slices' } satisfies SliceWorkerReply);
        if (member) spare.push(member.buffer);
        return;
      }
      const bytes = member.buffer.subarray(
        request.first * member.sliceBytes,
        (request.first + request.used) * member.sliceBytes,
      );
      gzip(bytes, { level: request.level, chunkSize: GZIP_OUTPUT_CHUNK }, (error, compressed) => {
        spare.push(member.buffer);
        if (error) {
          port.postMessage({ member: request.member, failed: error.message } satisfies SliceWorkerReply);
          return;
        }
        // Sent as its own buffer (a small result may share Node's pool buffer, which must not be transferred).
        const own = compressed.byteOffset === 0 && compressed.buffer.byteLength === compressed.length;
        const out = own ? new Uint8Array(compressed.buffer, 0, compressed.length) : new Uint8Array(compressed);
        port.postMessage({ member: request.member, bytes: out, max: member.max } satisfies SliceWorkerReply, [
          out.buffer,
        ]);
      });
    }
  });

  function copy(job: FileSliceJob, fd: number, state: Int32Array): void {
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
  }
}
