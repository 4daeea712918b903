/**
 * GossipCore: floods signed connect/disconnect events through the overlay and
 * keeps the table of links both ends confirmed. Pure: the shell hands it
 * bytes from a neighbour and the time, and sends what it returns; no I/O, no
 * timers (call sweep() on a tick), so a simulator can run thousands of them.
 *
 * Order of checks in receive(), cheapest first, so that a duplicate costs one
 * hash and an abusive neighbour costs a map lookup:
 *   banned neighbour → rate limit → frame → hash → seen cache → body →
 *   banned signer → time window → stale (no change) → PoW → signature →
 *   edge table (equivocation) → forward decision.
 * An event enters the seen cache only once its signature verified: otherwise
 * anyone could pre-empt a genuine event by sending its body with a bad
 * signature first.
 */
import { hash as nodeHash } from 'node:crypto';
import type { Clock } from '../clock/index.js';
import { isClock } from '../clock/index.js';
import { DEFAULT_POW_DIFFICULTY, MAX_POW_DIFFICULTY, verify as identityVerify } from '../identity/index.js';
import { EdgeTable, type EdgeChange, type ReportProof, type TableDigest } from './edges.js';
import { GossipError } from './gossip-errors.js';
import {
  MAX_WIRE_TTL,
  PEER_ID_BYTES,
  encodeFrame,
  parseBody,
  parseFrame,
  signEvent,
  verifyEventBody,
  type Direction,
  type EventKind,
  type EventSigner,
  type GossipEvent,
  type Verifier,
} from './gossip-event.js';
import { SeenCache } from './seen-cache.js';

/** Why an event was not accepted. */
export type RejectReason =
  | 'BANNED'
  | 'RATE_LIMITED'
  | 'MALFORMED'
  | 'DUPLICATE'
  | 'INCONSISTENT'
  | 'FROM_FUTURE'
  | 'TOO_OLD'
  | 'STALE'
  | 'BAD_POW'
  | 'BAD_SIGNATURE'
  | 'CAPACITY';

export interface Forward {
  /** The frame with one hop less. */
  readonly bytes: Uint8Array;
  /** Hex id of the neighbour it came from: do not send it back there. */
  readonly exclude: string;
}

export type ReceiveResult =
  | { readonly accepted: true; readonly reason?: 'TTL_EXHAUSTED'; readonly event: GossipEvent; readonly forward: Forward | null; readonly edgeChanges: EdgeChange[] }
  | { readonly accepted: false; readonly reason: RejectReason; readonly forward: null; readonly edgeChanges: EdgeChange[] };

/**
 * Misbehaviour points a rejection costs the neighbour that sent it. Honest
 * neighbours verify before forwarding, so a bad signature or PoW is never an
 * accident; a stale, old or duplicate event can be, and costs nothing.
 */
export const PENALTY: Readonly<Partial<Record<RejectReason, number>>> = Object.freeze({
  MALFORMED: 5,
  INCONSISTENT: 10,
  BAD_POW: 10,
  BAD_SIGNATURE: 10,
  RATE_LIMITED: 1,
  FROM_FUTURE: 2,
});

export interface GossipOptions {
  /** Our peer id (32 bytes): events we sign must carry it. */
  readonly ourId: Uint8Array;
  readonly clock: Clock;
  /** Proof-of-work bits demanded of every signer (default identity's DEFAULT_POW_DIFFICULTY). */
  readonly difficulty?: number;
  /** Hops an announced event may travel (default 6). */
  readonly maxTtl?: number;
  /**
   * Events with a timestamp older than now - maxAgeMs are TOO_OLD (default 30 days). Only changes are
   * flooded, so a live link's reports are as old as the link: the agent re-announces every link well
   * within this (every 7 days) so that a new peer's catch-up never meets a TOO_OLD report.
   */
  readonly maxAgeMs?: number;
  /** Events with a timestamp beyond now + maxFutureSkewMs are FROM_FUTURE (default 30 s). */
  readonly maxFutureSkewMs?: number;
  /**
   * How long a hash stays in the seen cache (default 10 min + maxFutureSkewMs). It only has to outlast a
   * flood: a later copy of a held report is STALE (no signature check), one of a forgotten report TOO_OLD.
   */
  readonly seenTtlMs?: number;
  /** Seen-cache entries (default 100 000). */
  readonly seenCapacity?: number;
  /** Both ends' reports must lie this close in time for an edge to confirm (default 30 s). */
  readonly confirmTimeoutMs?: number;
  /** A confirmed edge whose older report is this old is collected by sweep() unless its `keep` vouches for it (default 15 min). */
  readonly edgeTtlMs?: number;
  /** Edge records held (default 200 000). */
  readonly maxEdgeRecords?: number;
  /** Sustained events per second accepted from one neighbour (default 100). */
  readonly eventsPerSec?: number;
  /** Events one neighbour may send at once (default 1000). */
  readonly eventBurst?: number;
  /** Misbehaviour points that get a neighbour banned (default 20). */
  readonly banThreshold?: number;
  /** One misbehaviour point is forgiven per this many ms (default 10 s). */
  readonly scoreDecayMs?: number;
  /** How long a ban lasts (default 10 min). */
  readonly banMs?: number;
  /** Neighbours whose rate and score are tracked, and bans held; least recently seen dropped first (default 10 000). */
  readonly maxTrackedPeers?: number;
  /** Signature check, injectable so tests can count calls and simulators can swap in a cheap one. */
  readonly verify?: Verifier;
}

interface PeerState {
  tokens: number;
  at: number;
  score: number;
  scoreAt: number;
}

interface Resolved {
  difficulty: number;
  maxTtl: number;
  maxAgeMs: number;
  maxFutureSkewMs: number;
  eventsPerSec: number;
  eventBurst: number;
  banThreshold: number;
  scoreDecayMs: number;
  banMs: number;
  maxTrackedPeers: number;
}

function intOption(value: unknown, fallback: number, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new GossipError('BAD_ARGUMENT', `GossipCore: ${what} must be an integer from ${min} to ${max}, got ${String(v)}`);
  }
  return v;
}

function positiveOption(value: unknown, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !(v > 0) || Number.isNaN(v)) {
    throw new GossipError('BAD_ARGUMENT', `GossipCore: ${what} must be a positive number, got ${String(v)}`);
  }
  return v;
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

export class GossipCore {
  readonly ourId: string;
  readonly #o: Resolved;
  readonly #clock: Clock;
  readonly #verify: Verifier;
  readonly #seen: SeenCache;
  readonly #edges: EdgeTable;
  /** Map order is recency: touched entries are re-inserted, the first is the least recent. */
  readonly #peers = new Map<string, PeerState>();
  /** Ban expiry by hex id (neighbours and signers alike); bans have one length, so the first expires first. */
  readonly #bans = new Map<string, number>();

  constructor(opts: GossipOptions) {
    if (typeof opts !== 'object' || opts === null) throw new GossipError('BAD_ARGUMENT', 'GossipCore: options must be an object');
    if (!(opts.ourId instanceof Uint8Array) || opts.ourId.length !== PEER_ID_BYTES) {
      throw new GossipError('BAD_ARGUMENT', `GossipCore: ourId must be ${PEER_ID_BYTES} bytes`);
    }
    if (!isClock(opts.clock)) throw new GossipError('BAD_ARGUMENT', 'GossipCore: clock must be a Clock');
    if (opts.verify !== undefined && typeof opts.verify !== 'function') throw new GossipError('BAD_ARGUMENT', 'GossipCore: verify must be a function');
    this.ourId = toHex(opts.ourId);
    this.#clock = opts.clock;
    this.#verify = opts.verify ?? identityVerify;
    const maxAgeMs = intOption(opts.maxAgeMs, 30 * 24 * 3_600_000, 'maxAgeMs', 1);
    const maxFutureSkewMs = intOption(opts.maxFutureSkewMs, 30_000, 'maxFutureSkewMs', 0);
    const seenTtlMs = intOption(opts.seenTtlMs, 10 * 60_000 + maxFutureSkewMs, 'seenTtlMs', 1);
    this.#o = {
      difficulty: intOption(opts.difficulty, DEFAULT_POW_DIFFICULTY, 'difficulty', 0, MAX_POW_DIFFICULTY),
      maxTtl: intOption(opts.maxTtl, 6, 'maxTtl', 1, MAX_WIRE_TTL),
      maxAgeMs,
      maxFutureSkewMs,
      eventsPerSec: positiveOption(opts.eventsPerSec, 100, 'eventsPerSec'),
      eventBurst: positiveOption(opts.eventBurst, 1000, 'eventBurst'),
      banThreshold: positiveOption(opts.banThreshold, 20, 'banThreshold'),
      scoreDecayMs: intOption(opts.scoreDecayMs, 10_000, 'scoreDecayMs', 1),
      banMs: intOption(opts.banMs, 10 * 60_000, 'banMs', 1),
      maxTrackedPeers: intOption(opts.maxTrackedPeers, 10_000, 'maxTrackedPeers', 1),
    };
    this.#seen = new SeenCache(seenTtlMs, intOption(opts.seenCapacity, 100_000, 'seenCapacity', 1));
    this.#edges = new EdgeTable({
      confirmTimeoutMs: intOption(opts.confirmTimeoutMs, 30_000, 'confirmTimeoutMs', 1),
      edgeTtlMs: intOption(opts.edgeTtlMs, 15 * 60_000, 'edgeTtlMs', 1),
      retainMs: maxAgeMs,
      maxRecords: intOption(opts.maxEdgeRecords, 200_000, 'maxEdgeRecords', 1),
    });
  }

  /** The confirmed-edge table (read it; changes come only through receive/announce/sweep). */
  get edges(): EdgeTable {
    return this.#edges;
  }

  get seenSize(): number {
    return this.#seen.size;
  }

  /** Hops our own events start with. */
  get maxTtl(): number {
    return this.#o.maxTtl;
  }

  /**
   * Summary of the reports held; a neighbour with the same digest needs no
   * catch-up. With `neighbour` (hex id), the reports of our link to it are
   * left out, so both ends of a new link compare what they knew before it.
   */
  digest(neighbour?: string): TableDigest {
    if (neighbour === undefined) return this.#edges.digest();
    return this.#edges.digest([
      [this.ourId, neighbour],
      [neighbour, this.ourId],
    ]);
  }

  /** Every signed report held, as frames with a full hop budget: a new neighbour's catch-up. */
  catchUpFrames(): Uint8Array[] {
    return this.#edges.proofs().map((p) => encodeFrame({ body: p.body, sig: p.sig, ttl: this.#o.maxTtl }));
  }

  /** True while `peer` (hex id) is banned. */
  isBanned(peer: string, now: number = this.#clock.now()): boolean {
    const until = this.#bans.get(peer);
    if (until === undefined) return false;
    if (now < until) return true;
    this.#bans.delete(peer);
    return false;
  }

  /** Current misbehaviour points of a neighbour, after decay. */
  score(peer: string, now: number = this.#clock.now()): number {
    const state = this.#peers.get(peer);
    return state === undefined ? 0 : this.#decayed(state, now);
  }

  /**
   * Handles one frame from neighbour `from` (hex id). Never throws on remote
   * bytes: every problem is a typed rejection. Throws only for a caller bug.
   */
  receive(from: string, bytes: Uint8Array, now: number = this.#clock.now()): ReceiveResult {
    return this.#receive(from, bytes, now, true);
  }

  /**
   * receive() without the neighbour's rate limit, for the one catch-up a new
   * link brings (thousands of reports at once). The shell bounds how many
   * frames a neighbour may send this way; every other check applies.
   */
  receiveCatchUp(from: string, bytes: Uint8Array, now: number = this.#clock.now()): ReceiveResult {
    return this.#receive(from, bytes, now, false);
  }

  #receive(from: string, bytes: Uint8Array, now: number, limited: boolean): ReceiveResult {
    if (typeof from !== 'string' || from.length === 0 || from.length > 2 * PEER_ID_BYTES) {
      throw new GossipError('BAD_ARGUMENT', 'receive: from must be a hex peer id');
    }
    if (!(bytes instanceof Uint8Array)) throw new GossipError('BAD_ARGUMENT', 'receive: bytes must be a Uint8Array');
    if (typeof now !== 'number' || !Number.isFinite(now)) throw new GossipError('BAD_ARGUMENT', 'receive: now must be a finite number');

    if (this.isBanned(from, now)) return reject('BANNED');
    if (limited && !this.#takeToken(from, now)) return this.#penalise(from, 'RATE_LIMITED', now);

    let frame;
    try {
      frame = parseFrame(bytes);
    } catch {
      return this.#penalise(from, 'MALFORMED', now);
    }
    const hash = new Uint8Array(nodeHash('sha256', frame.body, 'buffer'));
    if (this.#seen.has(hash, now)) return reject('DUPLICATE');

    let event: GossipEvent;
    try {
      event = parseBody(frame.body);
    } catch (err) {
      return this.#penalise(from, err instanceof GossipError && err.code === 'INCONSISTENT' ? 'INCONSISTENT' : 'MALFORMED', now);
    }
    const signer = toHex(event.peerId);
    if (this.isBanned(signer, now)) return reject('BANNED');
    if (event.timestamp > now + this.#o.maxFutureSkewMs) return this.#penalise(from, 'FROM_FUTURE', now);
    if (event.timestamp < now - this.#o.maxAgeMs) return reject('TOO_OLD');
    const report = {
      reporter: signer,
      neighbour: toHex(event.neighbour),
      direction: event.direction,
      connect: event.event === 'connect',
      timestamp: event.timestamp,
      proof: proofOf(frame.body, frame.sig, hash),
    };
    // Only 'stale' is decided before verifying: dropping is safe either way, while a
    // ban for equivocation must rest on two verified signatures.
    if (this.#edges.check(report) === 'stale') return reject('STALE');

    try {
      verifyEventBody(event, frame.body, frame.sig, this.#o.difficulty, this.#verify);
    } catch (err) {
      return this.#penalise(from, err instanceof GossipError && err.code === 'BAD_POW' ? 'BAD_POW' : 'BAD_SIGNATURE', now);
    }
    this.#seen.add(hash, now);

    const applied = this.#edges.apply(report, now);
    switch (applied.status) {
      case 'stale':
        return reject('STALE', applied.changes);
      case 'full':
        return reject('CAPACITY', applied.changes);
      case 'inconsistent':
        // Two valid signatures on contradicting events: the signer is at fault,
        // not the neighbour that relayed the second one.
        this.#ban(signer, now);
        return reject('INCONSISTENT', applied.changes);
      case 'ok':
        break;
    }
    const hopsLeft = Math.min(frame.ttl, this.#o.maxTtl) - 1;
    if (hopsLeft < 1) return { accepted: true, reason: 'TTL_EXHAUSTED', event, forward: null, edgeChanges: applied.changes };
    const forward = { bytes: encodeFrame({ body: frame.body, sig: frame.sig, ttl: hopsLeft }), exclude: from };
    return { accepted: true, event, forward, edgeChanges: applied.changes };
  }

  /**
   * Signs our own event, applies it to our table, marks it seen, and returns
   * the frame to send to every neighbour (ttl = maxTtl).
   */
  announce(
    input: { readonly event: EventKind; readonly neighbour: Uint8Array; readonly direction: Direction },
    signer: EventSigner,
    now: number = this.#clock.now(),
  ): { bytes: Uint8Array; event: GossipEvent; edgeChanges: EdgeChange[] } {
    if (typeof now !== 'number' || !Number.isSafeInteger(now) || now < 0) throw new GossipError('BAD_ARGUMENT', 'announce: now must be a non-negative integer');
    if (typeof input !== 'object' || input === null) throw new GossipError('BAD_ARGUMENT', 'announce: input must be an object');
    const signed = signEvent({ event: input.event, neighbour: input.neighbour, direction: input.direction, timestamp: now }, signer);
    if (toHex(signed.event.peerId) !== this.ourId) throw new GossipError('BAD_ARGUMENT', "announce: the signer's key is not ourId's");
    const report = {
      reporter: this.ourId,
      neighbour: toHex(signed.event.neighbour),
      direction: signed.event.direction,
      connect: signed.event.event === 'connect',
      timestamp: now,
      proof: proofOf(signed.body, signed.sig, signed.hash),
    };
    if (this.#edges.check(report) !== 'ok') {
      throw new GossipError('BAD_ARGUMENT', 'announce: an event for this link at the same or a later time was already announced');
    }
    this.#seen.add(signed.hash, now);
    const applied = this.#edges.apply(report, now);
    return { bytes: encodeFrame({ body: signed.body, sig: signed.sig, ttl: this.#o.maxTtl }), event: signed.event, edgeChanges: applied.changes };
  }

  /**
   * Ages confirmed edges (those `keep` vouches for stay; see EdgeTable.sweep)
   * and forgets old records and bans. Call it every few seconds.
   */
  sweep(now: number = this.#clock.now(), keep?: (from: string, to: string) => boolean): EdgeChange[] {
    this.#seen.expire(now);
    for (const [peer, until] of this.#bans) if (now >= until) this.#bans.delete(peer);
    return this.#edges.sweep(now, keep);
  }

  #state(peer: string, now: number): PeerState {
    let state = this.#peers.get(peer);
    if (state === undefined) {
      state = { tokens: this.#o.eventBurst, at: now, score: 0, scoreAt: now };
      if (this.#peers.size >= this.#o.maxTrackedPeers) {
        const oldest = this.#peers.keys().next();
        if (oldest.done !== true) this.#peers.delete(oldest.value);
      }
    } else {
      this.#peers.delete(peer);
    }
    this.#peers.set(peer, state);
    return state;
  }

  #takeToken(peer: string, now: number): boolean {
    const s = this.#state(peer, now);
    // A clock stepping back must not mint tokens.
    s.tokens = Math.min(this.#o.eventBurst, s.tokens + (Math.max(0, now - s.at) * this.#o.eventsPerSec) / 1000);
    s.at = Math.max(s.at, now);
    if (s.tokens < 1) return false;
    s.tokens -= 1;
    return true;
  }

  #decayed(s: PeerState, now: number): number {
    return Math.max(0, s.score - Math.max(0, now - s.scoreAt) / this.#o.scoreDecayMs);
  }

  #penalise(peer: string, reason: RejectReason, now: number): ReceiveResult {
    const points = PENALTY[reason] ?? 0;
    if (points > 0) {
      const s = this.#state(peer, now);
      s.score = this.#decayed(s, now) + points;
      s.scoreAt = Math.max(s.scoreAt, now);
      if (s.score >= this.#o.banThreshold) {
        s.score = 0;
        this.#ban(peer, now);
      }
    }
    return reject(reason);
  }

  #ban(peer: string, now: number): void {
    this.#bans.delete(peer);
    if (this.#bans.size >= this.#o.maxTrackedPeers) {
      const first = this.#bans.keys().next();
      if (first.done !== true) this.#bans.delete(first.value);
    }
    this.#bans.set(peer, now + this.#o.banMs);
  }
}

/** The proof a report keeps: its signed body and the first 64 bits of its hash as the digest tag. */
function proofOf(body: Uint8Array, sig: Uint8Array, hash: Uint8Array): ReportProof {
  const view = new DataView(hash.buffer, hash.byteOffset, 8);
  return { body, sig, tagHi: view.getUint32(0), tagLo: view.getUint32(4) };
}

function reject(reason: RejectReason, edgeChanges: EdgeChange[] = []): ReceiveResult {
  return { accepted: false, reason, forward: null, edgeChanges };
}
