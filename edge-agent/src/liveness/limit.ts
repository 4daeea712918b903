/**
 * How often the responder signs for one challenger. An answer costs an ECDSA
 * signature (milliseconds on a Pi), and any connected peer may ask: without a
 * budget a peer could turn the channel's message allowance into our CPU time.
 * Token buckets per challenger, without I/O: time is the `now` passed in.
 */
import { LivenessError } from './errors.js';
import { integerOption, positiveOption, requirePeer, requireTime } from './validate.js';

export interface AnswerLimit {
  /** Sustained answers per second to one challenger (default 1). */
  readonly answersPerSecond?: number;
  /** Answers one challenger may get at once after being quiet (default 4). */
  readonly answerBurst?: number;
  /** Challengers remembered at once (default 4096); beyond that, new ones are refused. */
  readonly maxPeers?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class AnswerLimiter {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #maxPeers: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: AnswerLimit = {}) {
    if (typeof options !== 'object' || options === null) throw new LivenessError('BAD_ARGUMENT', 'The answer limit must be an object.');
    this.#perMs = positiveOption(options.answersPerSecond, 1, 'answersPerSecond') / 1000;
    this.#burst = integerOption(options.answerBurst, 4, 'answerBurst', 1, 1_000_000);
    this.#maxPeers = integerOption(options.maxPeers, 4096, 'maxPeers', 1, 1_000_000);
  }

  /** Takes one answer from `peer`'s budget; false when it has none left. */
  take(peer: string, now: number): boolean {
    requirePeer(peer);
    requireTime(now);
    let bucket = this.#buckets.get(peer);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxPeers) this.#prune(now);
      if (this.#buckets.size >= this.#maxPeers) return false;
      bucket = { tokens: this.#burst, at: now };
      this.#buckets.set(peer, bucket);
    }
    this.#refill(bucket, now);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Challengers currently remembered. */
  get size(): number {
    return this.#buckets.size;
  }

  #refill(bucket: Bucket, now: number): void {
    // A clock stepped backwards adds nothing (and does not take anything away).
    const elapsed = Math.max(0, now - bucket.at);
    bucket.tokens = Math.min(this.#burst, bucket.tokens + elapsed * this.#perMs);
    bucket.at = Math.max(bucket.at, now);
  }

  /** A full bucket says nothing a fresh one would not: drop those. */
  #prune(now: number): void {
    for (const [peer, bucket] of this.#buckets) {
      this.#refill(bucket, now);
      if (bucket.tokens >= this.#burst) this.#buckets.delete(peer);
    }
  }
}
