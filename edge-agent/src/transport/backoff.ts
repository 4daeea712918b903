/**
 * Reconnect delays: exponential from `initialMs` up to `maxMs`, each delay
 * drawn uniformly from its upper half ("equal jitter") so a fleet that lost a
 * peer at the same instant does not redial it in lockstep.
 */
import { TransportError } from './errors.js';

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = Object.freeze({ initialMs: 250, maxMs: 30_000 });

export function resolveBackoff(value: Partial<BackoffOptions> | undefined): BackoffOptions {
  if (value === undefined) return DEFAULT_BACKOFF;
  if (typeof value !== 'object' || value === null) {
    throw new TransportError('BAD_ARGUMENT', 'The backoff options must be an object.');
  }
  const initialMs = value.initialMs ?? DEFAULT_BACKOFF.initialMs;
  const maxMs = value.maxMs ?? DEFAULT_BACKOFF.maxMs;
  if (!Number.isFinite(initialMs) || initialMs <= 0 || !Number.isFinite(maxMs) || maxMs < initialMs) {
    throw new TransportError('BAD_ARGUMENT', 'The backoff needs 0 < initialMs <= maxMs, both finite.');
  }
  return Object.freeze({ initialMs, maxMs });
}

export class Backoff {
  readonly #options: BackoffOptions;
  readonly #random: () => number;
  #ceiling: number;

  /** `random` returns numbers in [0, 1); injectable for tests. */
  constructor(options: BackoffOptions, random: () => number = Math.random) {
    if (typeof random !== 'function') throw new TransportError('BAD_ARGUMENT', 'The backoff random source must be a function.');
    this.#options = resolveBackoff(options);
    this.#random = random;
    this.#ceiling = this.#options.initialMs;
  }

  /** The next delay in milliseconds; each call doubles the ceiling up to maxMs. */
  next(): number {
    const ceiling = this.#ceiling;
    this.#ceiling = Math.min(this.#options.maxMs, ceiling * 2);
    return ceiling / 2 + this.#random() * (ceiling / 2);
  }

  /** Back to the initial delay, after a connection succeeded. */
  reset(): void {
    this.#ceiling = this.#options.initialMs;
  }
}
