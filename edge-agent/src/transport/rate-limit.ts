/**
 * Per-peer inbound budgets: token buckets for messages and for bytes, refilled
 * from the Clock. A peer that overdraws either one is cut off (RATE_LIMIT).
 */
import type { Clock } from '../clock/index.js';
import { TransportError } from './errors.js';

export interface RateLimit {
  /** Sustained application messages (and pings) per second. */
  readonly messagesPerSec: number;
  /** Messages a peer may send at once after being quiet. */
  readonly messageBurst: number;
  /** Sustained payload bytes per second. */
  readonly bytesPerSec: number;
  /** Bytes a peer may send at once; at least the largest message allowed. */
  readonly byteBurst: number;
}

export const DEFAULT_RATE_LIMIT: RateLimit = Object.freeze({
  messagesPerSec: 200,
  messageBurst: 400,
  bytesPerSec: 2 * 1024 * 1024,
  byteBurst: 8 * 1024 * 1024,
});

/** Infinity is allowed everywhere and means "no limit". */
function positive(value: unknown, what: string): number {
  if (typeof value !== 'number' || !(value > 0)) {
    throw new TransportError('BAD_ARGUMENT', `The rate limit's ${what} must be a positive number (Infinity for none).`);
  }
  return value;
}

export function resolveRateLimit(value: Partial<RateLimit> | undefined): RateLimit {
  if (value === undefined) return DEFAULT_RATE_LIMIT;
  if (typeof value !== 'object' || value === null) {
    throw new TransportError('BAD_ARGUMENT', 'The rate limit must be an object.');
  }
  const d = DEFAULT_RATE_LIMIT;
  return Object.freeze({
    messagesPerSec: positive(value.messagesPerSec ?? d.messagesPerSec, 'messagesPerSec'),
    messageBurst: positive(value.messageBurst ?? d.messageBurst, 'messageBurst'),
    bytesPerSec: positive(value.bytesPerSec ?? d.bytesPerSec, 'bytesPerSec'),
    byteBurst: positive(value.byteBurst ?? d.byteBurst, 'byteBurst'),
  });
}

export class TokenBucket {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #at: number;

  constructor(perSec: number, burst: number, clock: Clock) {
    this.#perMs = positive(perSec, 'rate') / 1000;
    this.#burst = positive(burst, 'burst');
    this.#clock = clock;
    this.#tokens = this.#burst;
    this.#at = clock.now();
  }

  /** Takes `n` tokens if that many are there; false (taking nothing) otherwise. */
  take(n: number): boolean {
    if (this.#perMs === Infinity) return true;
    const now = this.#clock.now();
    // A clock that steps back must not mint tokens, hence the max.
    this.#tokens = Math.min(this.#burst, this.#tokens + Math.max(0, now - this.#at) * this.#perMs);
    this.#at = now;
    if (this.#tokens < n) return false;
    this.#tokens -= n;
    return true;
  }
}

/** The two buckets of one peer. */
export class InboundLimiter {
  readonly #messages: TokenBucket;
  readonly #bytes: TokenBucket;

  constructor(limit: RateLimit, clock: Clock) {
    this.#messages = new TokenBucket(limit.messagesPerSec, limit.messageBurst, clock);
    this.#bytes = new TokenBucket(limit.bytesPerSec, limit.byteBurst, clock);
  }

  /** Charges one BOLT 8 message of `bytes` payload bytes; false means over budget. */
  bytes(bytes: number): boolean {
    return this.#bytes.take(bytes);
  }

  /** Charges one application message or ping; false means over budget. */
  message(): boolean {
    return this.#messages.take(1);
  }
}
