/**
 * The persistent job queue. Jobs live in the index (state, percent, step, result / error), run here with a
 * concurrency limit, report progress as ordered events (seq numbers, replayed to late subscribers) and can be
 * cancelled. On start, jobs left `running` by a stopped process are re-queued: their partial outputs are purged
 * first (every row a job stores carries its id), then they run again from the start.
 *
 * Jobs run in this process, not in worker threads: a job is mostly file I/O, hashing and SQLite writes on the one
 * index connection (SQLite allows a single writer anyway), and its CPU-heavy part, decoding compressed frames,
 * already runs on the DecodePool's worker threads. See docs/architecture.md.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { MedvoxError, toMedvoxError } from '../core/errors.ts';
import { DecodePool } from '../io/decode-pool.ts';
import type { Archive } from '../store/archive.ts';
import type { JobRow, JobState } from '../store/types.ts';

export interface JobEvent {
  jobId: string;
  seq: number;
  state: JobState;
  percent: number;
  step: string;
  result?: Record<string, unknown>;
  error?: { code: string; message: string; hint?: string };
}

export interface JobContext {
  job: JobRow;
  archive: Archive;
  signal: AbortSignal;
  decodePool: DecodePool;
  /** Report progress: percent 0..100 of the whole job, the current step's name. */
  progress(percent: number, step: string): void;
}

export type JobHandler = (context: JobContext) => Promise<Record<string, unknown>>;

export interface JobRunnerOptions {
  concurrency?: number;
  /** Called after a job ended (cleanup of staged uploads). */
  onFinished?: (job: JobRow) => Promise<void>;
}

const TERMINAL: ReadonlySet<JobState> = new Set(['done', 'failed', 'cancelled']);
const PERSIST_INTERVAL_MS = 200;

export class JobRunner extends EventEmitter {
  private readonly queue: string[] = [];
  private readonly running = new Map<string, { controller: AbortController; promise: Promise<void> }>();
  private readonly history = new Map<string, JobEvent[]>();
  private readonly seq = new Map<string, number>();
  private readonly concurrency: number;
  private readonly decodePool = new DecodePool(2);
  private stopped = false;

  constructor(
    private readonly archive: Archive,
    private readonly handlers: Record<string, JobHandler>,
    private readonly options: JobRunnerOptions = {},
  ) {
    super();
    this.setMaxListeners(0);
    this.concurrency = Math.max(1, options.concurrency ?? 2);
  }

  /** Re-queue interrupted jobs (purging what they stored) and queued ones, then start working. */
  async start(): Promise<string[]> {
    const requeued: string[] = [];
    for (const job of this.archive.index.jobs({ state: 'running' })) {
      await this.purge(job.id, true);
      this.archive.index.updateJob(job.id, { state: 'queued', step: 'requeued after a restart', percent: 0 });
      requeued.push(job.id);
    }
    for (const job of this.archive.index.jobs({ state: 'queued' })) this.queue.push(job.id);
    this.pump();
    return requeued;
  }

  submit(type: string, params: Record<string, unknown>, studyInstanceUID?: string): JobRow {
    if (!this.handlers[type]) throw new MedvoxError('BAD_REQUEST', `unknown job type ${type}`);
    const job = this.archive.index.createJob({ id: randomUUID(), type, params, studyInstanceUID });
    this.record(job.id, { state: 'queued', percent: 0, step: 'queued' });
    this.queue.push(job.id);
    queueMicrotask(() => this.pump());
    return job;
  }

  /** Cancel a queued or running job (a running one stops at its next check and its outputs are purged). */
  async cancel(id: string): Promise<JobRow> {
    const job = this.archive.index.job(id);
    if (!job) throw new MedvoxError('NOT_FOUND', `no job ${id}`);
    if (TERMINAL.has(job.state)) return job;
    const index = this.queue.indexOf(id);
    if (index >= 0) {
      this.queue.splice(index, 1);
      await this.purge(id, false);
      this.finish(job, 'cancelled', { step: 'cancelled' });
      await this.options.onFinished?.(this.archive.index.job(id)!);
    } else {
      const running = this.running.get(id);
      running?.controller.abort();
      await running?.promise;
    }
    return this.archive.index.job(id)!;
  }

  /** Every event of a job so far (this process's), for SSE replay. */
  events(id: string): JobEvent[] {
    return this.history.get(id) ?? [];
  }

  /** Resolves when the job is done / failed / cancelled. */
  async waitFor(id: string): Promise<JobRow> {
    const job = this.archive.index.job(id);
    if (!job) throw new MedvoxError('NOT_FOUND', `no job ${id}`);
    if (TERMINAL.has(job.state)) return job;
    return new Promise((resolve) => {
      const listener = (event: JobEvent): void => {
        if (event.jobId !== id || !TERMINAL.has(event.state)) return;
        this.off('event', listener);
        resolve(this.archive.index.job(id)!);
      };
      this.on('event', listener);
    });
  }

  /** Stop taking jobs; abort the running ones (they stay `running` in the index and re-run on the next start). */
  async close(): Promise<void> {
    this.stopped = true;
    for (const { controller } of this.running.values()) controller.abort(new Error('shutdown'));
    await Promise.allSettled([...this.running.values()].map((entry) => entry.promise));
    await this.decodePool.close();
  }

  private pump(): void {
    while (!this.stopped && this.running.size < this.concurrency && this.queue.length > 0) {
      const id = this.queue.shift()!;
      const controller = new AbortController();
      const promise = this.run(id, controller).finally(() => {
        this.running.delete(id);
        this.pump();
      });
      this.running.set(id, { controller, promise });
    }
  }

  /**
   * Remove what a job stored. Blobs an upload wrote before its job (params.blobs) are the job's input: kept when the
   * job is to run again, removed with the rest when it failed or was cancelled (unless an index row uses them).
   */
  private async purge(id: string, keepInputs: boolean): Promise<void> {
    const job = this.archive.index.job(id);
    const inputs = Array.isArray(job?.params.blobs)
      ? (job.params.blobs as Array<{ key: string }>).map((blob) => blob.key)
      : [];
    const orphans = new Set(this.archive.index.purgeJobOutputs(id));
    if (keepInputs) for (const key of inputs) orphans.delete(key);
    else if (inputs.length > 0) {
      const used = this.archive.index.blobKeys();
      for (const key of inputs) if (!used.has(key)) orphans.add(key);
    }
    for (const key of orphans) await this.archive.blobs.delete(key);
  }

  private async run(id: string, controller: AbortController): Promise<void> {
    let job = this.archive.index.job(id);
    if (job?.state !== 'queued') return;
    const handler = this.handlers[job.type]!;
    this.archive.index.updateJob(id, { state: 'running', attempts: job.attempts + 1, percent: 0, step: 'starting' });
    job = this.archive.index.job(id)!;
    this.record(id, { state: 'running', percent: 0, step: 'starting' });
    let lastPersist = 0;
    let lastPercent = 0;
    const context: JobContext = {
      job,
      archive: this.archive,
      signal: controller.signal,
      decodePool: this.decodePool,
      progress: (percent, step) => {
        // Percent never goes back: events arrive in order and a bar only moves forward.
        lastPercent = Math.max(lastPercent, Math.min(100, Math.round(percent * 10) / 10));
        this.record(id, { state: 'running', percent: lastPercent, step });
        const now = Date.now();
        if (now - lastPersist >= PERSIST_INTERVAL_MS) {
          lastPersist = now;
          this.archive.index.updateJob(id, { percent: lastPercent, step });
        }
      },
    };
    try {
      if (job.attempts > 1) await this.purge(id, true);
      const result = await handler(context);
      if (controller.signal.aborted) throw new MedvoxError('CANCELLED', 'the job was cancelled');
      this.finish(job, 'done', { step: 'done', percent: 100, result });
    } catch (error) {
      if (this.stopped) return; // shutting down: left `running`, re-queued on the next start
      if (controller.signal.aborted) {
        await this.purge(id, false);
        this.finish(job, 'cancelled', { step: 'cancelled' });
      } else {
        const typed = toMedvoxError(error);
        await this.purge(id, false);
        this.finish(job, 'failed', {
          step: 'failed',
          error: { code: typed.code, message: typed.describe(), hint: typed.hint },
        });
      }
    }
    await this.options.onFinished?.(this.archive.index.job(id)!);
  }

  private finish(
    job: JobRow,
    state: JobState,
    patch: { step: string; percent?: number; result?: Record<string, unknown>; error?: JobEvent['error'] },
  ): void {
    const percent = patch.percent ?? this.archive.index.job(job.id)?.percent ?? 0;
    this.archive.index.updateJob(job.id, {
      state,
      step: patch.step,
      percent,
      result: patch.result,
      error: patch.error,
    });
    this.record(job.id, { state, percent, step: patch.step, result: patch.result, error: patch.error });
  }

  private record(id: string, event: Omit<JobEvent, 'jobId' | 'seq'>): void {
    const seq = (this.seq.get(id) ?? 0) + 1;
    this.seq.set(id, seq);
    const full: JobEvent = { jobId: id, seq, ...event };
    const list = this.history.get(id) ?? [];
    list.push(full);
    // Keep the first events and the latest ones: a long job's history stays small.
    if (list.length > 2000) list.splice(1, list.length - 1000);
    this.history.set(id, list);
    this.emit('event', full);
  }
}

export function isTerminal(state: JobState): boolean {
  return TERMINAL.has(state);
}
