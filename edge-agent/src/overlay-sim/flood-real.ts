/**
 * The same flood run by real GossipCore instances, one per peer: signed
 * frames, the core's seen cache, TTL, stale checks and edge confirmation.
 * Signatures are real (ECDSA via identity/, deterministic keys from the
 * seed); `verify` is stubbed because checking thousands of them per second
 * is not what the simulation measures. Each frame is its own queue event
 * with the link's exact latency and its own loss draw. Practical up to a few
 * hundred peers; it is the check on the modelled flood (flood-model.ts).
 * Catch-up on a new link is digest-first: each end sends one digest frame
 * (count + XOR of its record hashes). The simulator compares the two ends'
 * held event sets at link time; equal sets end the exchange at the two digest
 * frames. Otherwise each end replays the original frames of every event it
 * holds; the other end treats them like any frame (first receipt is
 * forwarded, duplicates stop). Frames that stem from a catch-up are counted
 * apart from ordinary gossip, and digest frames apart from both. Links are
 * re-announced only if refreshMs is set.
 * Gossip is paced as in the agent: a peer's frames to forward wait in an
 * outbox that leaves as one batch (one message) per neighbour, at once after
 * a quiet gossip interval, else when the interval ends; loss drops a batch.
 */
import { POW_NONCE_LENGTH, peerIdOf, publicKeyOf } from '../identity/index.js';
import { GossipCore, type Direction, type EventSigner } from '../overlay/index.js';
import { SimError } from './errors.js';
import type { EventQueue } from './event-queue.js';
import type { Rng } from './rng.js';
import type { World } from './world.js';

export interface RealOptions {
  readonly lossRate: number;
  /** Re-announce every link end this often; null: never (only changes are flooded). */
  readonly refreshMs: number | null;
  readonly endAt: number;
  readonly maxTtl: number;
  /** A peer sends at most one gossip batch per neighbour this often (ms); 0: no pacing. */
  readonly gossipIntervalMs: number;
  /** Frames per message (the agent's MAX_BATCH). */
  readonly maxBatch: number;
}

interface Outgoing {
  readonly bytes: Uint8Array;
  readonly id: number;
  readonly sync: boolean;
  /** The neighbour it came from (not sent back), or -1. */
  readonly exclude: number;
}

/** Deterministic signers: secret keys drawn from `rng`, PoW difficulty 0 (any nonce). */
export function makeSigners(count: number, rng: Rng): { signers: EventSigner[]; ids: Uint8Array[] } {
  if (!Number.isSafeInteger(count) || count < 0) throw new SimError('BAD_ARGUMENT', 'makeSigners: count must be a non-negative integer');
  const signers: EventSigner[] = [];
  const ids: Uint8Array[] = [];
  while (signers.length < count) {
    const secretKey = rng.bytes(32);
    let publicKey: Uint8Array;
    try {
      publicKey = publicKeyOf(secretKey);
    } catch {
      continue; // out of the curve order: astronomically rare, draw again
    }
    signers.push({ secretKey, publicKey, pow: new Uint8Array(POW_NONCE_LENGTH) });
    ids.push(peerIdOf(publicKey));
  }
  return { signers, ids };
}

const acceptAll = (): boolean => true;

export class RealFlood {
  readonly #w: World;
  readonly #q: EventQueue;
  readonly #rng: Rng;
  readonly #o: RealOptions;
  readonly #signers: readonly EventSigner[];
  readonly cores: GossipCore[];
  readonly #hex: string[];
  readonly #slot = new Map<string, number>();
  /** The original frame of every event, by the simulator's event number: what catch-up replays. */
  readonly #catchUp: Uint8Array[] = [];
  /** Per peer, the event numbers it accepted or announced (in that order): what it hands a new neighbour, and what its digest covers. */
  readonly #held: Set<number>[];
  frames = 0;
  syncFrames = 0;
  digestFrames = 0;
  /** New links whose two digests differed (so the full catch-up ran). */
  fullSyncs = 0;
  /** Wire messages: gossip batches and catch-up batches. */
  messages = 0;
  syncMessages = 0;
  readonly #outbox: (Outgoing[] | undefined)[];
  readonly #nextBatch: Float64Array;

  constructor(world: World, queue: EventQueue, rng: Rng, signers: readonly EventSigner[], options: RealOptions) {
    if (signers.length !== world.n) throw new SimError('BAD_ARGUMENT', 'RealFlood: one signer per peer');
    if (!(options.lossRate >= 0 && options.lossRate < 1)) throw new SimError('BAD_ARGUMENT', 'RealFlood: lossRate must be in [0, 1)');
    if (options.refreshMs !== null && (!Number.isSafeInteger(options.refreshMs) || options.refreshMs < 1)) throw new SimError('BAD_ARGUMENT', 'RealFlood: refreshMs must be null or a positive integer');
    this.#w = world;
    this.#q = queue;
    this.#rng = rng;
    this.#o = options;
    this.#signers = signers;
    this.cores = world.ids.map(
      (id) =>
        new GossipCore({
          ourId: id,
          clock: queue,
          difficulty: 0,
          maxTtl: options.maxTtl,
          maxAgeMs: 60 * 60_000,
          verify: acceptAll,
          eventsPerSec: 1e6,
          eventBurst: 1e6,
        }),
    );
    this.#hex = world.ids.map((id) => Buffer.from(id).toString('hex'));
    this.#hex.forEach((h, i) => this.#slot.set(h, i));
    this.#held = Array.from({ length: world.n }, () => new Set<number>());
    this.#outbox = new Array<Outgoing[] | undefined>(world.n);
    this.#nextBatch = new Float64Array(world.n);
  }

  /** Edges of the world that peer p's core holds as confirmed. */
  knownEdges(p: number): number {
    const table = this.cores[p]!.edges;
    let n = 0;
    for (let e = 0; e < this.#w.edgeFrom.length; e++) if (table.isConfirmed(this.#hex[this.#w.edgeFrom[e]!]!, this.#hex[this.#w.edgeTo[e]!]!)) n++;
    return n;
  }

  get totalEdges(): number {
    return this.#w.edges;
  }

  readonly onLink = (a: number, b: number, now: number): void => {
    // Catch-up first, from what each end held before this link: digests, then everything only if they differ.
    this.digestFrames += 2;
    if (!this.#sameHeld(a, b)) {
      this.fullSyncs++;
      const fromA = [...this.#held[a]!];
      const fromB = [...this.#held[b]!];
      this.syncMessages += Math.ceil(fromA.length / this.#o.maxBatch) + Math.ceil(fromB.length / this.#o.maxBatch);
      for (const id of fromA) this.#sendTo(a, b, this.#catchUp[id]!, id, true);
      for (const id of fromB) this.#sendTo(b, a, this.#catchUp[id]!, id, true);
    }
    this.#announce(a, b, 'out', now);
    this.#announce(b, a, 'in', now);
    const every = this.#o.refreshMs;
    if (every === null) return;
    for (const [p, nb, dir] of [[a, b, 'out'], [b, a, 'in']] as const) {
      const first = now + 1 + Math.floor(this.#rng.next() * every);
      const refresh = (): void => {
        this.#announce(p, nb, dir, this.#q.now());
        if (this.#q.now() + every <= this.#o.endAt) this.#q.setTimer(every, refresh);
      };
      if (first <= this.#o.endAt) this.#q.at(first, refresh);
    }
  };

  /** Equal digests: both ends hold the same events (the count and XOR of hashes differ otherwise, bar a collision). */
  #sameHeld(a: number, b: number): boolean {
    const x = this.#held[a]!;
    const y = this.#held[b]!;
    if (x.size !== y.size) return false;
    for (const id of x) if (!y.has(id)) return false;
    return true;
  }

  /** Sweeps every core (edge ageing, seen-cache expiry) every `everyMs` until endAt. */
  startSweeps(everyMs: number): void {
    const sweep = (): void => {
      for (const c of this.cores) c.sweep(this.#q.now());
      if (this.#q.now() + everyMs <= this.#o.endAt) this.#q.setTimer(everyMs, sweep);
    };
    this.#q.setTimer(everyMs, sweep);
  }

  #announce(p: number, nb: number, direction: Direction, now: number): void {
    const input = { event: 'connect' as const, neighbour: this.#w.ids[nb]!, direction };
    const out = this.cores[p]!.announce(input, this.#signers[p]!, now);
    const id = this.#catchUp.push(out.bytes) - 1;
    this.#held[p]!.add(id);
    this.#post(p, { bytes: out.bytes, id, sync: false, exclude: -1 });
  }

  /** Queues a frame for p's next batch, which leaves at once if p has been quiet for an interval. */
  #post(p: number, frame: Outgoing): void {
    let box = this.#outbox[p];
    if (box === undefined || box.length === 0) {
      this.#outbox[p] = box = [];
      const now = this.#q.now();
      const at = Math.max(now, this.#nextBatch[p]!);
      this.#q.at(at, () => this.#flush(p));
    }
    box.push(frame);
  }

  #flush(p: number): void {
    const box = this.#outbox[p] ?? [];
    this.#outbox[p] = undefined;
    this.#nextBatch[p] = this.#q.now() + this.#o.gossipIntervalMs;
    const adj = this.#w.adj[p]!;
    const lat = this.#w.lat[p]!;
    for (let j = 0; j < adj.length; j++) {
      const q = adj[j]!;
      const batch = box.filter((f) => f.exclude !== q);
      if (batch.length === 0) continue;
      this.messages += Math.ceil(batch.length / this.#o.maxBatch);
      for (const f of batch) {
        if (f.sync) this.syncFrames++;
        else this.frames++;
      }
      if (this.#o.lossRate > 0 && this.#rng.next() < this.#o.lossRate) continue;
      this.#q.setTimer(lat[j]!, () => {
        // Beyond the first forward, an event learned by catch-up is ordinary gossip (as the model counts it).
        for (const f of batch) this.#deliver(q, p, f.bytes, f.id, false);
      });
    }
  }

  /** A catch-up record straight to one neighbour. `id` is simulator metadata (which event the frame carries), never read by the cores. */
  #sendTo(p: number, q: number, bytes: Uint8Array, id: number, sync: boolean): void {
    if (sync) this.syncFrames++;
    else this.frames++;
    if (this.#o.lossRate > 0 && this.#rng.next() < this.#o.lossRate) return;
    const i = this.#w.adj[p]!.indexOf(q);
    const ms = i >= 0 ? this.#w.lat[p]![i]! : 20;
    this.#q.setTimer(ms, () => this.#deliver(q, p, bytes, id, sync));
  }

  #deliver(q: number, from: number, bytes: Uint8Array, id: number, sync: boolean): void {
    const r = this.cores[q]!.receive(this.#hex[from]!, bytes, this.#q.now());
    if (!r.accepted) return;
    this.#held[q]!.add(id);
    if (r.forward === null) return;
    const exclude = this.#slot.get(r.forward.exclude) ?? -1;
    this.#post(q, { bytes: r.forward.bytes, id, sync, exclude });
  }
}

