/**
 * Liveness bookkeeping without I/O. The shell issues a challenge (a nonce) to
 * a peer, later reports how it ended (answered, answered wrongly, failed) and
 * asks for overdue challenges to be expired; the tracker counts misses per peer
 * and says when a peer's status changes. Time is the `now` each call passes in.
 *
 * Status is a function of the counters: offline once `consecutiveMisses`
 * reaches K, else online once the peer has answered at least once, else
 * unknown. Every challenge ends exactly once: answered or missed.
 */
import { LivenessError } from './errors.js';
import { integerOption, requireBytes, requirePeer, requireTime } from './validate.js';

export type LivenessStatus = 'unknown' | 'online' | 'offline';

/**
 * How a reported answer or failure was taken:
 * - answered: a valid signature within the deadline;
 * - late: valid or not, after the deadline (a miss);
 * - invalid: the signature did not verify (a miss);
 * - failed: the challenge could not be answered at all (a miss);
 * - unknown: no outstanding challenge to this peer with that nonce (ignored).
 */
export type Outcome = 'answered' | 'late' | 'invalid' | 'failed' | 'unknown';

export interface PeerStats {
  readonly status: LivenessStatus;
  readonly consecutiveMisses: number;
  readonly totalMisses: number;
  readonly answered: number;
  /** Round trip of the last good answer; null before the first one. */
  readonly lastRttMs: number | null;
}

export interface StatusChange {
  /** Hex peer id. */
  readonly peer: string;
  readonly from: LivenessStatus;
  readonly to: LivenessStatus;
  /** The `now` of the call that caused the change. */
  readonly at: number;
  readonly consecutiveMisses: number;
}

export interface Resolution {
  readonly outcome: Outcome;
  readonly changes: StatusChange[];
}

export interface Challenge {
  readonly nonce: Uint8Array;
  readonly issuedAt: number;
  /** Answers at or before this instant are on time. */
  readonly deadline: number;
}

export interface TrackerOptions {
  /** Time a peer has to answer a challenge (default 5 s). */
  readonly deadlineMs?: number;
  /** K: consecutive misses that make a peer offline (default 3). */
  readonly missesOffline?: number;
  /** Peers followed at once (default 4096); issue() to one more throws TOO_MANY_PEERS. */
  readonly maxPeers?: number;
}

export const DEFAULT_DEADLINE_MS = 5_000;
export const DEFAULT_MISSES_OFFLINE = 3;
export const DEFAULT_MAX_PEERS = 4096;
export const NONCE_LENGTH = 32;

interface PeerState {
  status: LivenessStatus;
  consecutiveMisses: number;
  totalMisses: number;
  answered: number;
  lastRttMs: number | null;
  challenge: Challenge | undefined;
}

/** Nonces are public, but comparing them in constant time costs nothing. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export class LivenessTracker {
  readonly deadlineMs: number;
  readonly missesOffline: number;
  readonly maxPeers: number;
  readonly #peers = new Map<string, PeerState>();

  constructor(options: TrackerOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new LivenessError('BAD_ARGUMENT', 'The tracker options must be an object.');
    this.deadlineMs = integerOption(options.deadlineMs, DEFAULT_DEADLINE_MS, 'deadlineMs', 1, 86_400_000);
    this.missesOffline = integerOption(options.missesOffline, DEFAULT_MISSES_OFFLINE, 'missesOffline', 1, 1_000_000);
    this.maxPeers = integerOption(options.maxPeers, DEFAULT_MAX_PEERS, 'maxPeers', 1, 1_000_000);
  }

  /** Number of peers followed. */
  get size(): number {
    return this.#peers.size;
  }

  has(peer: string): boolean {
    return this.#peers.has(requirePeer(peer));
  }

  /** Followed peers, in the order they were first challenged. */
  peers(): string[] {
    return [...this.#peers.keys()];
  }

  stats(peer: string): PeerStats | undefined {
    const state = this.#peers.get(requirePeer(peer));
    return state === undefined ? undefined : statsOf(state);
  }

  /** Every followed peer's stats, keyed by hex peer id (copies: safe to publish). */
  snapshot(): Record<string, PeerStats> {
    const out: Record<string, PeerStats> = {};
    for (const [peer, state] of this.#peers) out[peer] = statsOf(state);
    return out;
  }

  /** The challenge awaiting an answer from `peer`, if any. */
  outstanding(peer: string): Challenge | undefined {
    const challenge = this.#peers.get(requirePeer(peer))?.challenge;
    return challenge === undefined ? undefined : { ...challenge, nonce: Uint8Array.from(challenge.nonce) };
  }

  /**
   * Records a challenge to `peer`. One may be outstanding per peer: a previous
   * one still waiting counts as missed first (its answer, if it ever comes,
   * is then 'unknown').
   */
  issue(peer: string, nonce: Uint8Array, now: number): StatusChange[] {
    requirePeer(peer);
    requireBytes(nonce, NONCE_LENGTH, 'The nonce');
    requireTime(now);
    let state = this.#peers.get(peer);
    if (state === undefined) {
      if (this.#peers.size >= this.maxPeers) {
        throw new LivenessError('TOO_MANY_PEERS', `Already following ${this.maxPeers} peers; forget one before challenging ${peer.slice(0, 8)}.`);
      }
      state = { status: 'unknown', consecutiveMisses: 0, totalMisses: 0, answered: 0, lastRttMs: null, challenge: undefined };
      this.#peers.set(peer, state);
    }
    const changes: StatusChange[] = [];
    if (state.challenge !== undefined) this.#miss(peer, state, now, changes);
    state.challenge = { nonce: Uint8Array.from(nonce), issuedAt: now, deadline: now + this.deadlineMs };
    return changes;
  }

  /** Reports an answer to the challenge `nonce`; `valid` says whether its signature verified. */
  answer(peer: string, nonce: Uint8Array, valid: boolean, now: number): Resolution {
    const state = this.#match(peer, nonce, now);
    if (typeof valid !== 'boolean') throw new LivenessError('BAD_ARGUMENT', 'valid must be true or false.');
    const changes: StatusChange[] = [];
    if (state === undefined) return { outcome: 'unknown', changes };
    const challenge = state.challenge!;
    if (!valid) {
      this.#miss(peer, state, now, changes);
      return { outcome: 'invalid', changes };
    }
    if (now > challenge.deadline) {
      this.#miss(peer, state, now, changes);
      return { outcome: 'late', changes };
    }
    state.challenge = undefined;
    state.consecutiveMisses = 0;
    state.answered += 1;
    // A clock stepped backwards must not make a negative round trip.
    state.lastRttMs = Math.max(0, now - challenge.issuedAt);
    this.#set(peer, state, 'online', now, changes);
    return { outcome: 'answered', changes };
  }

  /** Reports that the challenge `nonce` cannot be answered (timeout, channel gone, error reply). */
  fail(peer: string, nonce: Uint8Array, now: number): Resolution {
    const state = this.#match(peer, nonce, now);
    const changes: StatusChange[] = [];
    if (state === undefined) return { outcome: 'unknown', changes };
    this.#miss(peer, state, now, changes);
    return { outcome: 'failed', changes };
  }

  /** Counts every outstanding challenge past its deadline as missed. */
  expire(now: number): StatusChange[] {
    requireTime(now);
    const changes: StatusChange[] = [];
    for (const [peer, state] of this.#peers) {
      if (state.challenge !== undefined && now > state.challenge.deadline) this.#miss(peer, state, now, changes);
    }
    return changes;
  }

  /** Stops following `peer` (its stats and any outstanding challenge are dropped). */
  forget(peer: string): boolean {
    return this.#peers.delete(requirePeer(peer));
  }

  /** The peer's state if `nonce` is its outstanding challenge. */
  #match(peer: string, nonce: Uint8Array, now: number): PeerState | undefined {
    requirePeer(peer);
    requireBytes(nonce, NONCE_LENGTH, 'The nonce');
    requireTime(now);
    const state = this.#peers.get(peer);
    if (state?.challenge === undefined || !sameBytes(state.challenge.nonce, nonce)) return undefined;
    return state;
  }

  #miss(peer: string, state: PeerState, now: number, changes: StatusChange[]): void {
    state.challenge = undefined;
    state.consecutiveMisses += 1;
    state.totalMisses += 1;
    if (state.consecutiveMisses >= this.missesOffline) this.#set(peer, state, 'offline', now, changes);
  }

  #set(peer: string, state: PeerState, to: LivenessStatus, now: number, changes: StatusChange[]): void {
    if (state.status === to) return;
    changes.push({ peer, from: state.status, to, at: now, consecutiveMisses: state.consecutiveMisses });
    state.status = to;
  }
}

function statsOf(state: PeerState): PeerStats {
  return {
    status: state.status,
    consecutiveMisses: state.consecutiveMisses,
    totalMisses: state.totalMisses,
    answered: state.answered,
    lastRttMs: state.lastRttMs,
  };
}
