/**
 * A pool of worker threads making identities in parallel, one per core by
 * default: the proof of work is pure CPU, so one board per thread at a time.
 * Workers start on demand and live until close(), which also aborts whatever
 * is in flight (terminating the threads, so nothing writes afterwards).
 */
import { Worker } from 'node:worker_threads';
import { ProvisionError } from './errors.js';
import type { PublicIdentity } from './inventory.js';
import { parseWorkerMessage } from './pow-protocol.js';

const FROM_SOURCES = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(FROM_SOURCES ? './pow-worker.ts' : './pow-worker.js', import.meta.url);

function startWorker(): Worker {
  if (FROM_SOURCES) {
    // Running the .ts sources under tsx, whose loader hooks do not reach worker
    // threads (privatenumber/tsx#354): register them in the worker, then load it.
    const tsx = import.meta.resolve('tsx/esm/api');
    const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL.href)}); });`;
    return new Worker(code, { eval: true });
  }
  return new Worker(WORKER_URL);
}

export type SolveProgress = (attempts: number, hashesPerSec: number) => void;

interface Job {
  readonly dir: string;
  readonly difficulty: number;
  readonly onProgress: SolveProgress | undefined;
  resolve(identity: PublicIdentity): void;
  reject(err: Error): void;
}

interface Slot {
  readonly worker: Worker;
  job: Job | undefined;
}

function aborted(job: Job): ProvisionError {
  return new ProvisionError('ABORTED', `the identity being made in ${job.dir} was abandoned`);
}

export class PowPool {
  readonly size: number;
  #slots: Slot[] = [];
  #queue: Job[] = [];
  #closed = false;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1 || size > 256) {
      throw new ProvisionError('BAD_ARGUMENT', `PowPool: size must be a whole number from 1 to 256, got ${String(size)}`);
    }
    this.size = size;
  }

  /**
   * Makes an identity in `dir` (an empty directory) at `difficulty`; resolves
   * with its public half. Rejects with IDENTITY_FAILED if the worker fails or
   * dies, and with ABORTED if the pool is closed first.
   */
  solve(dir: string, difficulty: number, onProgress?: SolveProgress): Promise<PublicIdentity> {
    if (typeof dir !== 'string' || dir === '') throw new ProvisionError('BAD_ARGUMENT', 'PowPool.solve: dir must be a non-empty string');
    if (!Number.isInteger(difficulty) || difficulty < 0 || difficulty > 256) {
      throw new ProvisionError('BAD_ARGUMENT', `PowPool.solve: difficulty must be a whole number from 0 to 256, got ${String(difficulty)}`);
    }
    if (onProgress !== undefined && typeof onProgress !== 'function') {
      throw new ProvisionError('BAD_ARGUMENT', 'PowPool.solve: onProgress must be a function');
    }
    return new Promise((resolve, reject) => {
      const job: Job = { dir, difficulty, onProgress, resolve, reject };
      if (this.#closed) {
        reject(aborted(job));
        return;
      }
      this.#queue.push(job);
      this.#pump();
    });
  }

  /** Stops every worker, then rejects what was queued or in flight with ABORTED. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const slots = this.#slots;
    const queued = this.#queue;
    this.#slots = [];
    this.#queue = [];
    await Promise.all(slots.map((s) => s.worker.terminate()));
    for (const s of slots) if (s.job !== undefined) s.job.reject(aborted(s.job));
    for (const job of queued) job.reject(aborted(job));
  }

  #pump(): void {
    while (!this.#closed && this.#queue.length > 0) {
      const slot = this.#slots.find((s) => s.job === undefined) ?? (this.#slots.length < this.size ? this.#spawn() : undefined);
      if (slot === undefined) return;
      const job = this.#queue.shift()!;
      slot.job = job;
      slot.worker.postMessage({ type: 'solve', dir: job.dir, difficulty: job.difficulty });
    }
  }

  #spawn(): Slot {
    const slot: Slot = { worker: startWorker(), job: undefined };
    slot.worker.on('message', (raw: unknown) => this.#onMessage(slot, raw));
    slot.worker.on('error', (err: Error) => this.#onDeath(slot, err.message));
    slot.worker.on('exit', (code: number) => this.#onDeath(slot, `exit code ${code}`));
    this.#slots.push(slot);
    return slot;
  }

  #onMessage(slot: Slot, raw: unknown): void {
    const job = slot.job;
    if (job === undefined || this.#closed) return;
    const message = parseWorkerMessage(raw);
    if (message === undefined) {
      this.#finish(slot, () => job.reject(new ProvisionError('IDENTITY_FAILED', `${job.dir}: the worker sent a message the pool does not understand`)));
      return;
    }
    switch (message.type) {
      case 'progress':
        job.onProgress?.(message.attempts, message.hashesPerSec);
        return;
      case 'done':
        this.#finish(slot, () => job.resolve({ publicKey: message.publicKey, peerId: message.peerId }));
        return;
      case 'failed':
        this.#finish(slot, () => job.reject(new ProvisionError('IDENTITY_FAILED', `${job.dir}: ${message.message} (${message.code})`)));
        return;
    }
  }

  #finish(slot: Slot, settle: () => void): void {
    slot.job = undefined;
    settle();
    this.#pump();
  }

  /** A worker that errs or exits unasked takes its job down with it; the pool carries on without it. */
  #onDeath(slot: Slot, why: string): void {
    if (this.#closed) return;
    this.#slots = this.#slots.filter((s) => s !== slot);
    const job = slot.job;
    slot.job = undefined;
    job?.reject(new ProvisionError('IDENTITY_FAILED', `${job.dir}: the worker thread stopped (${why})`));
    this.#pump();
  }
}
