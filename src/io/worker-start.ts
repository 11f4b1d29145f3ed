/**
 * Start one of medvox's worker modules: src/io/<name>.ts when running from the TypeScript sources, else the
 * compiled <name>.js beside the running code (dist/src/io, or dist/cli beside a command bundle, tools/build-cli.mjs).
 */
import { Worker } from 'node:worker_threads';

const typescript = import.meta.url.endsWith('.ts');

export function startWorker(name: string): Worker {
  const url = new URL(`./${name}${typescript ? '.ts' : '.js'}`, import.meta.url);
  // From the TypeScript sources (tsx), the worker registers the TypeScript loader itself first: loader flags in
  // execArgv (--import tsx) do not apply to a worker's entry module on Node 20.
  return typescript
    ? new Worker(
        `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`,
        { eval: true },
      )
    : new Worker(url);
}

/**
 * One worker started on demand, not keeping the process alive while idle; `stopped` once it exited or failed (its
 * users then do its work themselves).
 */
export class LazyWorker {
  private current: Worker | undefined;
  private online: Promise<void> | undefined;
  stopped = false;

  constructor(private readonly name: string) {}

  /** Start the worker, unless it was started already (or stopped). */
  start(): void {
    if (this.current || this.stopped) return;
    const worker = startWorker(this.name);
    worker.unref();
    const stop = (): void => {
      this.stopped = true;
    };
    worker.on('error', stop);
    worker.on('exit', stop);
    // The worker's first message says it listens (slice-worker.ts).
    this.online = new Promise((resolve) => {
      worker.once('message', () => resolve());
      worker.once('exit', () => resolve());
    });
    this.current = worker;
  }

  /** The worker when it was started and has not stopped. */
  get live(): Worker | undefined {
    return this.stopped ? undefined : this.current;
  }

  /** Resolves once the worker listens, or stopped (at once when it was never started). */
  async ready(): Promise<void> {
    await this.online;
  }

  async close(): Promise<void> {
    const worker = this.current;
    this.stopped = true;
    this.current = undefined;
    await worker?.terminate();
  }
}
