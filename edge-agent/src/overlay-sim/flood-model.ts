/**
 * The flood modelled at event level, for 10,000 peers: every event (one end's
 * report of a link, or a periodic re-announcement) is one bit; a peer's seen
 * cache and its view of the map are one bitset over all events. The rules are
 * the gossip core's: a peer forwards an event only on first receipt, to every
 * neighbour; both reports of a link make it known; a new link swaps the two
 * ends' views (the joiner's catch-up: each end sends every event it holds),
 * and what an end learns that way it forwards like any first receipt (else
 * a copy still in flight would later arrive as a duplicate and stop there). Time advances in ticks: what a peer
 * learns during a tick it forwards at that tick, arriving after the link's
 * latency rounded to ticks. Word-parallel: the events learned in one tick
 * travel as one 32-bit word per link, and loss drops that batch (a packet).
 * Not modelled: TTL (at degree 12 and maxTtl 6 the flood reaches everyone
 * anyway; the real-core mode checks that), rate limits, bans.
 */
import { SimError } from './errors.js';
import type { EventQueue } from './event-queue.js';
import type { Rng } from './rng.js';
import type { World } from './world.js';

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
  readonly refreshMs: number;
  /** No refresh is scheduled after this. */
  readonly endAt: number;
  /** Event bits to allocate (links × 2 + re-announcements). */
  readonly eventCapacity: number;
}

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
  readonly #fresh = new IntList(4096);
  /** Own announcements waiting for the next tick (peer, word, bits). */
  readonly #own = new IntList(1024);
  /** Events first learned through a catch-up, to forward at the next tick like any first receipt. */
  readonly #caught = new IntList(1024);
  #nextBit = 0;
  #tick = 0;
  totalEdges = 0;
  /** Gossip frames sent (an event to one neighbour is one frame), and catch-up frames. */
  frames = 0;
  syncFrames = 0;

  constructor(world: World, queue: EventQueue, rng: Rng, options: ModelOptions) {
    const o = options;
    if (!Number.isSafeInteger(o.tickMs) || o.tickMs < 1) throw new SimError('BAD_ARGUMENT', 'FloodModel: tickMs must be a positive integer');
    if (!(o.lossRate >= 0 && o.lossRate < 1)) throw new SimError('BAD_ARGUMENT', 'FloodModel: lossRate must be in [0, 1)');
    if (!Number.isSafeInteger(o.refreshMs) || o.refreshMs < 1) throw new SimError('BAD_ARGUMENT', 'FloodModel: refreshMs must be a positive integer');
    if (!Number.isSafeInteger(o.eventCapacity) || o.eventCapacity < 2) throw new SimError('BAD_ARGUMENT', 'FloodModel: eventCapacity must be an integer >= 2');
    this.#w = world;
    this.#q = queue;
    this.#rng = rng;
    this.#o = o;
    this.#words = Math.ceil(o.eventCapacity / 32);
    this.#know = new Uint32Array(world.n * this.#words);
    this.#edgeMask = new Uint32Array(this.#words);
    this.#knownEdges = new Uint32Array(world.n);
    // The longest link is 129 ms (world.ts); one slot more than its ticks.
    const slots = Math.ceil(130 / o.tickMs) + 2;
    this.#ring = Array.from({ length: slots }, () => new IntList(4096));
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
    this.#sync(a, b);
    this.#announce(a, bit);
    this.#announce(b, bit + 1);
    for (const p of [a, b]) {
      const first = now + 1 + Math.floor(this.#rng.next() * this.#o.refreshMs);
      const refresh = (): void => {
        this.#announce(p, this.#alloc(1));
        if (this.#q.now() + this.#o.refreshMs <= this.#o.endAt) this.#q.setTimer(this.#o.refreshMs, refresh);
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
    const i = p * this.#words + w;
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

  #announce(p: number, bit: number): void {
    const w = bit >>> 5;
    const b = 1 << (bit & 31);
    this.#set(p, w, b);
    this.#own.push3(p, w, b);
  }

  /** A new link: each end hands the other what it knows (one frame per event). */
  #sync(a: number, b: number): void {
    const W = this.#words;
    const used = Math.ceil(this.#nextBit / 32);
    const know = this.#know;
    let ka = 0;
    let kb = 0;
    const oa = a * W;
    const ob = b * W;
    for (let w = 0; w < used; w++) {
      const x = know[oa + w]!;
      const y = know[ob + w]!;
      // Each end sends all it holds, as the real mode does; the receiver drops duplicates.
      this.syncFrames += popcount(x) + popcount(y);
      if (x === y) continue;
      const u = x | y;
      know[oa + w] = u;
      know[ob + w] = u;
      if (u !== x) this.#caught.push3(a, w, u ^ x);
      if (u !== y) this.#caught.push3(b, w, u ^ y);
    }
    for (let w = 0; w < used; w++) {
      const m = this.#edgeMask[w]!;
      if (m === 0) continue;
      ka += pairs(know[oa + w]!, m);
      kb += pairs(know[ob + w]!, m);
    }
    this.#knownEdges[a] = ka;
    this.#knownEdges[b] = kb;
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
    this.#send(this.#own, t, 'own');
    this.#own.length = 0;
    this.#send(this.#caught, t, 'caught');
    this.#caught.length = 0;
    this.#send(fresh, t, 'relay');
  }

  #send(list: IntList, t: number, kind: 'own' | 'caught' | 'relay'): void {
    const ring = this.#ring;
    const D = ring.length;
    const tickMs = this.#o.tickMs;
    const loss = this.#o.lossRate;
    const d = list.data;
    for (let i = 0; i < list.length; i += 3) {
      const p = d[i]!;
      const w = d[i + 1]!;
      const bits = d[i + 2]!;
      const adj = this.#w.adj[p]!;
      const lat = this.#w.lat[p]!;
      // Flooding sends each event to every neighbour but the one it came from.
      const sent = popcount(bits) * (kind === 'own' ? adj.length : Math.max(0, adj.length - 1));
      if (kind === 'caught') this.syncFrames += sent;
      else this.frames += sent;
      for (let j = 0; j < adj.length; j++) {
        if (loss > 0 && this.#rng.next() < loss) continue;
        const ticks = Math.max(1, Math.round(lat[j]! / tickMs));
        ring[(t + ticks) % D]!.push3(adj[j]!, w, bits);
      }
    }
  }
}
