/**
 * The proof-of-work progress line: boards done, hash rate, and an estimate of
 * the time left. A core without I/O: the pool feeds it, the shell asks for a
 * snapshot and decides when to draw it (ProgressThrottle, on the injected clock).
 */
import type { Clock } from '../clock/index.js';
import { expectedPowSeconds } from '../identity/index.js';
import { ProvisionError } from './errors.js';

export interface ProgressSnapshot {
  /** Boards whose identity is made. */
  readonly done: number;
  readonly total: number;
  /** Boards being searched for right now. */
  readonly solving: number;
  /** Sum of the workers' current rates. */
  readonly hashesPerSec: number;
  /** Expected seconds until every board has its identity; undefined until a rate is known. */
  readonly etaSeconds: number | undefined;
}

function requireCount(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new ProvisionError('BAD_ARGUMENT', `ProgressMeter: ${name} must be a whole number >= ${min}, got ${String(v)}`);
  }
  return v;
}

export class ProgressMeter {
  readonly #total: number;
  readonly #difficulty: number;
  readonly #workers: number;
  readonly #rates = new Map<string, number>();
  #done = 0;

  constructor(total: number, difficulty: number, workers: number) {
    this.#total = requireCount('total', total, 0);
    this.#difficulty = requireCount('difficulty', difficulty, 0);
    this.#workers = requireCount('workers', workers, 1);
  }

  /** A worker's report on the board it searches for. */
  update(board: string, hashesPerSec: number): void {
    if (!Number.isFinite(hashesPerSec) || hashesPerSec < 0) {
      throw new ProvisionError('BAD_ARGUMENT', `ProgressMeter.update: hashesPerSec must be a finite number >= 0, got ${String(hashesPerSec)}`);
    }
    this.#rates.set(board, hashesPerSec);
  }

  /** The board has its identity. */
  solved(board: string): void {
    this.#rates.delete(board);
    this.#done = Math.min(this.#done + 1, this.#total);
  }

  /** The board stopped without an identity (abort, failure): it no longer counts as being searched for. */
  dropped(board: string): void {
    this.#rates.delete(board);
  }

  /**
   * The search is memoryless: a board searched for a while still expects
   * 2^difficulty more attempts. So the estimate is the boards left, each at
   * expectedPowSeconds on one worker's mean rate, spread over the workers that
   * have boards to work on.
   */
  snapshot(): ProgressSnapshot {
    const rates = [...this.#rates.values()].filter((r) => r > 0);
    const hashesPerSec = rates.reduce((a, b) => a + b, 0);
    const left = this.#total - this.#done;
    let etaSeconds: number | undefined;
    if (left === 0) etaSeconds = 0;
    else if (rates.length > 0) {
      const perWorker = hashesPerSec / rates.length;
      etaSeconds = (left * expectedPowSeconds(this.#difficulty, perWorker)) / Math.min(this.#workers, left);
    }
    return { done: this.#done, total: this.#total, solving: this.#rates.size, hashesPerSec, etaSeconds };
  }
}

/** "850 ms", "12.5 s", "3.2 min", "1.5 h". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function formatRate(hashesPerSec: number): string {
  if (hashesPerSec >= 1e6) return `${(hashesPerSec / 1e6).toFixed(2)}M`;
  if (hashesPerSec >= 1e3) return `${Math.round(hashesPerSec / 1e3)}k`;
  return `${Math.round(hashesPerSec)}`;
}

/** "proof of work: 3/7 boards, 2 solving, 1.02M hashes/s, about 4.0 s left". */
export function formatProgress(s: ProgressSnapshot): string {
  const eta = s.etaSeconds === undefined ? 'estimating time left' : `about ${formatDuration(s.etaSeconds)} left`;
  return `proof of work: ${s.done}/${s.total} boards, ${s.solving} solving, ${formatRate(s.hashesPerSec)} hashes/s, ${eta}`;
}

/** Says when a progress line is due: on a terminal often (redrawn in place), in a log seldom. */
export class ProgressThrottle {
  readonly #clock: Clock;
  readonly #intervalMs: number;
  #last = -Infinity;

  constructor(clock: Clock, intervalMs: number) {
    if (typeof clock?.now !== 'function') throw new ProvisionError('BAD_ARGUMENT', 'ProgressThrottle: clock must have a now() method');
    if (!Number.isFinite(intervalMs) || intervalMs < 0) {
      throw new ProvisionError('BAD_ARGUMENT', `ProgressThrottle: intervalMs must be a finite number >= 0, got ${String(intervalMs)}`);
    }
    this.#clock = clock;
    this.#intervalMs = intervalMs;
  }

  /** True at most once per interval (the first call is always due); a true answer starts the next interval. */
  due(): boolean {
    const now = this.#clock.now();
    if (now - this.#last < this.#intervalMs) return false;
    this.#last = now;
    return true;
  }
}
