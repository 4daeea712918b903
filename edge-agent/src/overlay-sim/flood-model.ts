/**
 * The flood modelled at event level, for 10,000 peers: every event (one end's
 * report of a link, or, only if refreshMs is set, a periodic re-announcement)
 * is one bit; a peer's seen cache and its view of the map are one bitset over
 * all events. The rules are the gossip core's: a peer forwards an event only on
 * first receipt, to every neighbour; both reports of a link make it known.
 * Catch-up on a new link is digest-first: each end sends one digest frame
 * (count + XOR of its record hashes); only if the two views differ (compared
 * at link time) does each end send every event it held then, arriving one
 * link latency later (loss drops a word of them). What an end learns that way
 * it forwards like any first receipt (else a copy still in flight would later
 * arrive as a duplicate and stop there). Time advances in ticks: what a peer
 * learns during a tick it forwards at that tick, arriving after the link's
 * latency rounded to ticks. Word-parallel: the events learned in one tick
 * travel as one 32-bit word per link.
 * Gossip is paced as the agent paces it: a peer sends what it has to forward
 * at once when it has been quiet for a gossip interval, else at the end of
 * that interval, as one batch (one message) per neighbour; loss drops a whole
 * batch. Messages are counted apart from event frames (one event to one
 * neighbour).
 * Not modelled: TTL (at degree 12 and maxTtl 6 the flood reaches everyone
 * anyway; the real-core mode checks that), rate limits, bans.
 */
import { SimError } from './errors.js';
import type { EventQueue } from './event-queue.js';
import type { Rng } from './rng.js';
import type { World } from './world.js';

/**
 * Knowledge layout: blocks of 16 words (one 64-byte cache line) per peer, all
 * peers' lines of one block together: word w of peer p is at
 * ((w >> 4) · n + p) · 16 + (w & 15). The flood at any moment touches only
 * the newest words, so it stays within one or two blocks (n cache lines each)
 * instead of one line per peer spread over the whole array; a catch-up reads
 * a peer's words line by line.
 */
const BLOCK = 16;

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** Complete (both bits set) edge pairs in word `x` under `mask`. */
function pairs(x: number, mask: number): number {
  return popcount(x & (x >>> 1) & mask & 0x55555555);
}

class IntList {
  data: Int32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Int32Array(capacity);
  }
  push3(a: number, b: number, c: number): void {
    if (this.length + 3 > this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    const d = this.data;
    d[this.length] = a;
    d[this.length + 1] = b;
    d[this.length + 2] = c;
    this.length += 3;
  }
}

export interface ModelOptions {
  readonly tickMs: number;
  readonly lossRate: number;
  /** Re-announce every link end this often; null: never (the protocol's default: only changes are flooded). */
  readonly refreshMs: number | null;
  /** No refresh is scheduled after this. */
  readonly endAt: number;
  /** Event bits to allocate (links × 2, plus re-announcements if any). */
  readonly eventCapacity: number;
  /** A peer sends at most one gossip batch per neighbour this often (ms); 0: every tick. */
  readonly gossipIntervalMs: number;
  /** Events per message (the agent's MAX_BATCH). */
  readonly maxBatch: number;
}

const OWN = 0;
const RELAY = 1;
const CAUGHT = 2;

export class FloodModel {
  readonly #w: World;
  readonly #q: EventQueue;
  readonly #rng: Rng;
  readonly #o: ModelOptions;
  readonly #words: number;
  readonly #know: Uint32Array;
  readonly #edgeMask: Uint32Array;
  readonly #knownEdges: Uint32Array;
  readonly #ring: IntList[];
  /** Catch-up deliveries, by arrival tick like #ring: what the other end held at link time. */
  readonly #syncRing: IntList[];
  readonly #fresh = new IntList(4096);
  /** Own announcements waiting for the next tick (peer, word, bits). */
  readonly #own = new IntList(1024);
  /** Events first learned through a catch-up, to forward at once like any first receipt. */
  readonly #caught = new IntList(1024);
  /** Per peer, what waits for its next batch: (word, bits, kind) triples. */
  readonly #pending: (IntList | undefined)[];
  /** Per peer, the first tick at which it may send its next batch. */
  readonly #nextBatch: Float64Array;
  /** Peers with something pending. */
  #waiting: number[] = [];
  readonly #intervalTicks: number;
  #nextBit = 0;
  #tick = 0;
  totalEdges = 0;
  /** Gossip frames sent (an event to one neighbour is one frame), catch-up record frames, digest frames. */
  frames = 0;
  syncFrames = 0;
  digestFrames = 0;
  /** New links whose two digests differed (so the full catch-up ran). */
  fullSyncs = 0;
  /** Wire messages: gossip batches (one per neighbour per batch) and catch-up batches (maxBatch records each). */
  messages = 0;
  syncMessages = 0;

  constructor(world: World, queue: EventQueue, rng: Rng, options: ModelOptions) {
    const o = options;
    if (!Number.isSafeInteger(o.tickMs) || o.tickMs < 1) throw new SimError('BAD_ARGUMENT', 'FloodModel: tickMs must be a positive integer');
    if (!(o.lossRate >= 0 && o.lossRate < 1)) throw new SimError('BAD_ARGUMENT', 'FloodModel: lossRate must be in [0, 1)');
    if (o.refreshMs !== null && (!Number.isSafeInteger(o.refreshMs) || o.refreshMs < 1)) throw new SimError('BAD_ARGUMENT', 'FloodModel: refreshMs must be null or a positive integer');
    if (!Number.isSafeInteger(o.eventCapacity) || o.eventCapacity < 2) throw new SimError('BAD_ARGUMENT', 'FloodModel: eventCapacity must be an integer >= 2');
    if (!Number.isSafeInteger(o.gossipIntervalMs) || o.gossipIntervalMs < 0) throw new SimError('BAD_ARGUMENT', 'FloodModel: gossipIntervalMs must be an integer >= 0');
    if (!Number.isSafeInteger(o.maxBatch) || o.maxBatch < 1) throw new SimError('BAD_ARGUMENT', 'FloodModel: maxBatch must be a positive integer');
    this.#w = world;
    this.#q = queue;
    this.#rng = rng;
    this.#o = o;
    this.#words = Math.ceil(o.eventCapacity / 32 / BLOCK) * BLOCK;
    this.#know = new Uint32Array(world.n * this.#words);
    this.#edgeMask = new Uint32Array(this.#words);
    this.#knownEdges = new Uint32Array(world.n);
    // The longest link is 129 ms (world.ts); one slot more than its ticks.
    const slots = Math.ceil(130 / o.tickMs) + 2;
    this.#ring = Array.from({ length: slots }, () => new IntList(4096));
    this.#syncRing = Array.from({ length: slots }, () => new IntList(1024));
    this.#pending = new Array<IntList | undefined>(world.n);
    this.#nextBatch = new Float64Array(world.n);
    this.#intervalTicks = Math.max(1, Math.round(o.gossipIntervalMs / o.tickMs));
  }

  /** Starts the tick loop; the world's link listener is onLink. */
  start(): void {
    const tick = (): void => {
      this.#step();
      if (this.#q.now() + this.#o.tickMs <= this.#o.endAt) this.#q.setTimer(this.#o.tickMs, tick);
    };
    this.#q.at(this.#q.now(), tick);
  }

  /** Edges peer p knows (both reports seen). */
  knownEdges(p: number): number {
    return this.#knownEdges[p]!;
  }

  readonly onLink = (a: number, b: number, now: number): void => {
    if (this.#nextBit % 2 === 1) this.#nextBit++;
    const bit = this.#alloc(2);
    this.#edgeMask[bit >>> 5]! |= 3 << (bit & 31);
    this.totalEdges++;
    const la = this.#w.lat[a]!;
    this.#sync(a, b, la[la.length - 1]!);
    this.#announce(a, bit);
    this.#announce(b, bit + 1);
    const every = this.#o.refreshMs;
    if (every === null) return;
    for (const p of [a, b]) {
      const first = now + 1 + Math.floor(this.#rng.next() * every);
      const refresh = (): void => {
        this.#announce(p, this.#alloc(1));
        if (this.#q.now() + every <= this.#o.endAt) this.#q.setTimer(every, refresh);
      };
      if (first <= this.#o.endAt) this.#q.at(first, refresh);
    }
  };

  #alloc(n: number): number {
    const bit = this.#nextBit;
    if (bit + n > this.#words * 32) throw new SimError('CAPACITY', `FloodModel: more than ${this.#words * 32} events; raise eventCapacity`);
    this.#nextBit += n;
    return bit;
  }

  #set(p: number, w: number, bits: number): number {
    const i = this.#at(p, w);
    const k = this.#know[i]!;
    const nb = bits & ~k;
    if (nb !== 0) {
      const mask = this.#edgeMask[w]!;
      const after = k | nb;
      this.#know[i] = after;
      this.#knownEdges[p]! += pairs(after, mask) - pairs(k, mask);
    }
    return nb;
  }

  #at(p: number, w: number): number {
    return ((w >>> 4) * this.#w.n + p) * BLOCK + (w & (BLOCK - 1));
  }

  #announce(p: number, bit: number): void {
    const w = bit >>> 5;
    const b = 1 << (bit & 31);
    this.#set(p, w, b);
    this.#own.push3(p, w, b);
  }

  /**
   * A new link. Each end sends one digest frame; equal views (same events, so
   * the same count and XOR) end it there. Otherwise each end sends every event
   * it holds (one frame per event; the receiver drops duplicates), arriving
   * after the link latency.
   */
  #sync(a: number, b: number, latencyMs: number): void {
    const used = Math.ceil(this.#nextBit / 32);
    const know = this.#know;
    this.digestFrames += 2;
    let heldA = 0;
    let heldB = 0;
    let differ = false;
    for (let w = 0; w < used; w++) {
      const x = know[this.#at(a, w)]!;
      const y = know[this.#at(b, w)]!;
      heldA += popcount(x);
      heldB += popcount(y);
      if (x !== y) differ = true;
    }
    if (!differ) return;
    this.fullSyncs++;
    this.syncFrames += heldA + heldB;
    this.syncMessages += Math.ceil(heldA / this.#o.maxBatch) + Math.ceil(heldB / this.#o.maxBatch);
    const ring = this.#syncRing;
    const slot = ring[(this.#tick + Math.max(1, Math.round(latencyMs / this.#o.tickMs))) % ring.length]!;
    const loss = this.#o.lossRate;
    for (let w = 0; w < used; w++) {
      const x = know[this.#at(a, w)]!;
      const y = know[this.#at(b, w)]!;
      if (x === y) continue;
      // Only what the receiver lacks can change it; the rest are duplicates (counted above).
      if ((y & ~x) !== 0 && !(loss > 0 && this.#rng.next() < loss)) slot.push3(a, w, y & ~x);
      if ((x & ~y) !== 0 && !(loss > 0 && this.#rng.next() < loss)) slot.push3(b, w, x & ~y);
    }
  }

  #step(): void {
    const t = this.#tick++;
    const ring = this.#ring;
    const D = ring.length;
    const slot = ring[t % D]!;
    const fresh = this.#fresh;
    fresh.length = 0;
    const sd = slot.data;
    for (let i = 0; i < slot.length; i += 3) {
      const q = sd[i]!;
      const w = sd[i + 1]!;
      const nb = this.#set(q, w, sd[i + 2]!);
      if (nb !== 0) fresh.push3(q, w, nb);
    }
    slot.length = 0;
    const sync = this.#syncRing[t % D]!;
    const yd = sync.data;
    for (let i = 0; i < sync.length; i += 3) {
      const q = yd[i]!;
      const w = yd[i + 1]!;
      const nb = this.#set(q, w, yd[i + 2]!);
      if (nb !== 0) this.#caught.push3(q, w, nb);
    }
    sync.length = 0;
    this.#enqueue(this.#own, OWN);
    this.#own.length = 0;
    this.#enqueue(this.#caught, CAUGHT);
    this.#caught.length = 0;
    this.#enqueue(fresh, RELAY);
    const still: number[] = [];
    for (const p of this.#waiting) {
      if (this.#nextBatch[p]! <= t) this.#flush(p, t);
      else still.push(p);
    }
    this.#waiting = still;
  }

  #enqueue(list: IntList, kind: number): void {
    const d = list.data;
    for (let i = 0; i < list.length; i += 3) {
      const p = d[i]!;
      let q = this.#pending[p];
      if (q === undefined) this.#pending[p] = q = new IntList(48);
      if (q.length === 0) this.#waiting.push(p);
      q.push3(d[i + 1]!, d[i + 2]!, kind);
    }
  }

  /** One batch from p to each neighbour: every pending event, one loss draw per message. */
  #flush(p: number, t: number): void {
    const list = this.#pending[p]!;
    this.#nextBatch[p] = t + this.#intervalTicks;
    const ring = this.#ring;
    const D = ring.length;
    const tickMs = this.#o.tickMs;
    const loss = this.#o.lossRate;
    const know = this.#know;
    const n = this.#w.n;
    const adj = this.#w.adj[p]!;
    const lat = this.#w.lat[p]!;
    const d = list.data;
    let events = 0;
    let own = false;
    for (let i = 0; i < list.length; i += 3) {
      const bits = d[i + 1]!;
      const kind = d[i + 2]!;
      const c = popcount(bits);
      events += c;
      if (kind === OWN) own = true;
      // Flooding sends each event to every neighbour but the one it came from.
      const sent = c * (kind === OWN ? adj.length : Math.max(0, adj.length - 1));
      if (kind === CAUGHT) this.syncFrames += sent;
      else this.frames += sent;
    }
    // One message per neighbour per maxBatch events; a batch of one relayed event skips its sender.
    const perLink = Math.ceil(events / this.#o.maxBatch);
    this.messages += perLink * (!own && events === 1 ? Math.max(0, adj.length - 1) : adj.length);
    for (let j = 0; j < adj.length; j++) {
      if (loss > 0 && this.#rng.next() < loss) continue;
      const q = adj[j]!;
      const ticks = Math.max(1, Math.round(lat[j]! / tickMs));
      const slot = ring[(t + ticks) % D]!;
      for (let i = 0; i < list.length; i += 3) {
        const w = d[i]!;
        const bits = d[i + 1]!;
        // A receiver that already holds every bit would drop them as duplicates on arrival
        // (knowledge only grows): counted above as sent, but not queued. Same outcome, far less work.
        if ((know[(w >>> 4) * n * BLOCK + (w & (BLOCK - 1)) + q * BLOCK]! & bits) === bits) continue;
        slot.push3(q, w, bits);
      }
    }
    list.length = 0;
  }
}
