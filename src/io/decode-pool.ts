/**
 * Compressed frames decoded on worker threads, one per CPU: a JPEG-lossless or JPEG 2000 series decodes on every
 * core while the main thread places slices. Native (uncompressed) frames never come here. The pool starts its
 * workers on first use and must be closed (close()) by whoever made it; idle workers do not keep the process up.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { type DecodedFrame, decodeFrame, encodedFrame } from '../core/codecs/index.ts';
import type { DicomFile } from '../core/dicom/model.ts';
import { type ErrorCode, MedvoxError } from '../core/errors.ts';
import type { DecodeRequest } from './decode-worker.ts';
import { startWorker } from './worker-start.ts';

interface DecodeReply {
  id: number;
  decoded?: DecodedFrame;
  error?: { code: ErrorCode; message: string; hint?: string; typed?: boolean };
}

interface Pending {
  resolve(frame: DecodedFrame): void;
  reject(error: Error): void;
  source: string | undefined;
  frameIndex: number;
  worker: PoolWorker;
}

interface PoolWorker {
  worker: Worker;
  busy: number;
}

export class DecodePool {
  readonly size: number;
  private workers: PoolWorker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(size: number = availableParallelism()) {
    this.size = Math.max(1, size);
  }

  /** Decode frame `frameIndex` of `file`: compressed frames on a worker, native ones here. */
  decode(file: DicomFile, frameIndex: number): Promise<DecodedFrame> {
    let frame: ReturnType<typeof encodedFrame>;
    try {
      frame = encodedFrame(file, frameIndex);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!frame) return decodeFrame(file, frameIndex);
    const target = this.pick();
    const id = this.nextId++;
    target.busy++;
    if (target.busy === 1) target.worker.ref();
    return new Promise<DecodedFrame>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, source: file.source, frameIndex, worker: target });
      target.worker.postMessage({ id, frame } satisfies DecodeRequest);
    });
  }

  /** Stop the workers (pending decodes fail). */
  async close(): Promise<void> {
    const workers = this.workers;
    this.workers = [];
    await Promise.all(workers.map(({ worker }) => worker.terminate()));
  }

  private pick(): PoolWorker {
    if (this.workers.length < this.size) {
      const least = this.workers.find((candidate) => candidate.busy === 0);
      if (least) return least;
      const started = this.start();
      this.workers.push(started);
      return started;
    }
    return this.workers.reduce((best, candidate) => (candidate.busy < best.busy ? candidate : best));
  }

  private start(): PoolWorker {
    const worker = startWorker('decode-worker');
    const entry: PoolWorker = { worker, busy: 0 };
    worker.unref();
    worker.on('message', (reply: DecodeReply) => this.settle(reply));
    worker.on('error', (error) => this.failAll(entry, error));
    worker.on('exit', (code) => {
      if (code !== 0) this.failAll(entry, new Error(`decode worker exited with code ${code}`));
    });
    return entry;
  }

  private settle(reply: DecodeReply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    this.release(pending.worker);
    if (reply.decoded) {
      pending.resolve(reply.decoded);
      return;
    }
    const { code, message, hint, typed } = reply.error ?? { code: 'DECODE_FAILED' as const, message: 'no reply' };
    // As decodeFrame does: typed errors as they are, anything else as DECODE_FAILED naming the frame.
    const known = typed ? message : `frame ${pending.frameIndex}: ${message}`;
    pending.reject(new MedvoxError(code, known, { file: pending.source, hint }));
  }

  private release(worker: PoolWorker): void {
    worker.busy--;
    if (worker.busy === 0) worker.worker.unref();
  }

  private failAll(worker: PoolWorker, error: Error): void {
    for (const [id, pending] of this.pending) {
      if (pending.worker !== worker) continue;
      this.pending.delete(id);
      pending.reject(
        new MedvoxError('DECODE_FAILED', `frame ${pending.frameIndex}: ${error.message}`, {
          file: pending.source,
          cause: error,
        }),
      );
    }
    worker.busy = 0;
    this.workers = this.workers.filter((candidate) => candidate !== worker);
  }
}
