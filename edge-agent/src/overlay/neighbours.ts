/**
 * Neighbour selection (issue 6, item 3) as a pure core: given my current
 * neighbours, the map and the candidates, it returns which peers to connect
 * and which to drop. It never dials; the shell acts on the plan.
 *
 * The score of a peer is how much its neighbourhood overlaps mine: a peer
 * whose neighbours are already mine adds little reach and makes an eclipse
 * cheaper. Lower is better. Hysteresis (a margin plus a minimum dwell time)
 * keeps a marginally better candidate from churning the overlay, and ties are
 * broken by a per-peer seeded hash so the whole fleet does not converge on the
 * same few "best" peers.
 */
import { isClock, type Clock } from '../clock/index.js';
import { PolicyError } from './policy-errors.js';

/**
 * The least a policy needs of the map: peers are integer slots. A PeerStore,
 * plain arrays in tests and a simulator all fit. Neighbour lists should hold
 * each slot at most once.
 */
export interface PeerGraph {
  neighboursOf(peer: number): ArrayLike<number>;
  peers(): Iterable<number>;
}

/** A PeerGraph over plain arrays: slot i has neighbours lists[i]. */
export function graphFromLists(lists: readonly (readonly number[])[]): PeerGraph {
  if (!Array.isArray(lists)) throw new PolicyError('BAD_ARGUMENT', 'graphFromLists: expected an array of neighbour lists');
  for (const l of lists) {
    if (!Array.isArray(l)) throw new PolicyError('BAD_ARGUMENT', 'graphFromLists: every entry must be an array');
    for (const x of l) {
      if (!isSlot(x) || x >= lists.length) throw new PolicyError('BAD_GRAPH', `graphFromLists: neighbour ${String(x)} is not a slot below ${lists.length}`);
    }
  }
  return {
    neighboursOf: (p) => lists[p] ?? [],
    peers: () => lists.keys(),
  };
}

export interface NeighbourPolicyOptions {
  /** Target number of neighbours. Default 12. */
  readonly degree?: number;
  /** How far above degree inbound links may briefly take us. Default 2. */
  readonly maxOverflow?: number;
  /** How long an overflow above degree is tolerated before the worst are dropped. Default 30 s. */
  readonly overflowGraceMs?: number;
  /** A candidate replaces the worst neighbour only if its score is lower by at least this. Default 2. */
  readonly margin?: number;
  /** A neighbour is not replaced (nor dropped on overflow, if avoidable) for this long after it first appeared. Default 60 s. */
  readonly minDwellMs?: number;
  /** Seed of the tie-break hash; peers with different seeds (or slots) break ties differently. Default 0. */
  readonly seed?: number;
  /** Used when plan() is not given `now`. */
  readonly clock?: Clock;
}

export interface NeighbourPlan {
  readonly connect: number[];
  readonly disconnect: number[];
}

interface Resolved {
  degree: number;
  maxOverflow: number;
  overflowGraceMs: number;
  margin: number;
  minDwellMs: number;
  seed: number;
}

export const DEFAULT_NEIGHBOUR_POLICY: Readonly<Resolved> = Object.freeze({
  degree: 12,
  maxOverflow: 2,
  overflowGraceMs: 30_000,
  margin: 2,
  minDwellMs: 60_000,
  seed: 0,
});

function isSlot(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0x7fff_ffff;
}

function checkCount(v: unknown, name: string, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 1_000_000) {
    throw new PolicyError('BAD_ARGUMENT', `NeighbourPolicy: ${name} must be an integer >= ${min}, got ${String(v)}`);
  }
  return v;
}

function checkMs(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new PolicyError('BAD_ARGUMENT', `NeighbourPolicy: ${name} must be a finite number >= 0, got ${String(v)}`);
  }
  return v;
}

/** Murmur3's finaliser over (seed, me, slot): cheap, well mixed, stable across runs. */
export function tieHash(seed: number, me: number, slot: number): number {
  let h = (seed ^ Math.imul(me + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ slot, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h ^ (slot >>> 16), 0x27d4eb2f);
  h ^= h >>> 15;
  return h >>> 0;
}

/** Neighbours of `peer` that are in `base`, not counting `skip` (pass -1 to skip nothing). */
function overlap(graph: PeerGraph, peer: number, base: ReadonlySet<number>, skip: number): number {
  const list = graph.neighboursOf(peer);
  let n = 0;
  for (let i = 0; i < list.length; i++) {
    const x = list[i]!;
    if (x !== skip && x !== peer && base.has(x)) n++;
  }
  return n;
}

/** A binary min-heap of (score, tie, slot) triples for the lazy greedy fill. */
class Heap {
  private readonly score: number[] = [];
  private readonly tie: number[] = [];
  private readonly slot: number[] = [];

  get size(): number {
    return this.slot.length;
  }

  private less(i: number, j: number): boolean {
    const a = this.score[i]!;
    const b = this.score[j]!;
    if (a !== b) return a < b;
    const ta = this.tie[i]!;
    const tb = this.tie[j]!;
    return ta !== tb ? ta < tb : this.slot[i]! < this.slot[j]!;
  }

  private swap(i: number, j: number): void {
    const s = this.score[i]!;
    this.score[i] = this.score[j]!;
    this.score[j] = s;
    const t = this.tie[i]!;
    this.tie[i] = this.tie[j]!;
    this.tie[j] = t;
    const p = this.slot[i]!;
    this.slot[i] = this.slot[j]!;
    this.slot[j] = p;
  }

  push(score: number, tie: number, slot: number): void {
    this.score.push(score);
    this.tie.push(tie);
    this.slot.push(slot);
    let i = this.slot.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  pop(): { score: number; slot: number } {
    const top = { score: this.score[0]!, slot: this.slot[0]! };
    const last = this.slot.length - 1;
    this.swap(0, last);
    this.score.pop();
    this.tie.pop();
    this.slot.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.slot.length && this.less(l, m)) m = l;
      if (r < this.slot.length && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
}

export class NeighbourPolicy {
  readonly options: Readonly<Resolved>;
  readonly #clock: Clock | undefined;
  /** When each current neighbour was first seen in `current`, per `me`. */
  readonly #since = new Map<number, Map<number, number>>();
  /** When the current overflow above degree began, per `me`. */
  readonly #overflowSince = new Map<number, number>();

  constructor(options: NeighbourPolicyOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new PolicyError('BAD_ARGUMENT', 'NeighbourPolicy: options must be an object');
    const d = DEFAULT_NEIGHBOUR_POLICY;
    const degree = checkCount(options.degree ?? d.degree, 'degree', 1);
    const maxOverflow = checkCount(options.maxOverflow ?? d.maxOverflow, 'maxOverflow', 0);
    const overflowGraceMs = checkMs(options.overflowGraceMs ?? d.overflowGraceMs, 'overflowGraceMs');
    const margin = checkMs(options.margin ?? d.margin, 'margin');
    const minDwellMs = checkMs(options.minDwellMs ?? d.minDwellMs, 'minDwellMs');
    const seed = options.seed ?? d.seed;
    if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new PolicyError('BAD_ARGUMENT', 'NeighbourPolicy: seed must be an integer');
    if (options.clock !== undefined && !isClock(options.clock)) throw new PolicyError('BAD_ARGUMENT', 'NeighbourPolicy: clock must be a Clock');
    this.#clock = options.clock;
    this.options = Object.freeze({ degree, maxOverflow, overflowGraceMs, margin, minDwellMs, seed: seed >>> 0 });
  }

  /**
   * Overlap of `peer`'s neighbours with my neighbourhood `current` ∪ {me}.
   * For a peer that is already my neighbour, its link to me is the edge being
   * scored, not redundancy, so it is not counted.
   */
  score(me: number, current: readonly number[], graph: PeerGraph, peer: number): number {
    const cur = this.#checkCurrent(me, current);
    checkGraph(graph);
    if (!isSlot(peer)) throw new PolicyError('BAD_ARGUMENT', 'NeighbourPolicy.score: peer must be a slot');
    const base = new Set(cur);
    base.add(me);
    return overlap(graph, peer, base, cur.has(peer) ? me : -1);
  }

  /**
   * The next step for `me`: fill up to degree with the least-overlap
   * candidates (greedy: each pick joins the neighbourhood the next is scored
   * against); above degree + maxOverflow, or above degree for longer than the
   * grace time, drop the worst; at degree, swap the worst neighbour that is
   * past its dwell time for a clearly better candidate (at most one per call).
   * `candidates` defaults to every peer of the graph.
   */
  plan(me: number, current: readonly number[], graph: PeerGraph, candidates?: Iterable<number>, now?: number): NeighbourPlan {
    const cur = this.#checkCurrent(me, current);
    checkGraph(graph);
    const t = now ?? this.#clock?.now();
    if (typeof t !== 'number' || !Number.isFinite(t)) throw new PolicyError('BAD_ARGUMENT', 'NeighbourPolicy.plan: pass a finite `now` or give the policy a clock');
    const { degree, maxOverflow, overflowGraceMs, margin, minDwellMs, seed } = this.options;

    // Remember when each neighbour first appeared, forget the ones that left.
    let since = this.#since.get(me);
    if (since === undefined) this.#since.set(me, (since = new Map()));
    for (const p of since.keys()) if (!cur.has(p)) since.delete(p);
    for (const p of current) if (!since.has(p)) since.set(p, t);
    const dwelt = (p: number): boolean => t - (since.get(p) ?? t) >= minDwellMs;

    const base = new Set(cur);
    base.add(me);
    // Worst first: highest score, then the larger tie hash, so the order is total and stable.
    const byWorst = (a: { s: number; k: number; p: number }, b: { s: number; k: number; p: number }): number =>
      b.s - a.s || b.k - a.k || b.p - a.p;
    const rankCurrent = () =>
      current.map((p) => ({ p, s: overlap(graph, p, base, me), k: tieHash(seed, me, p) })).sort(byWorst);

    if (current.length > degree) {
      if (!this.#overflowSince.has(me)) this.#overflowSince.set(me, t);
      const started = this.#overflowSince.get(me)!;
      const target = t - started >= overflowGraceMs ? degree : degree + maxOverflow;
      const excess = current.length - target;
      if (excess <= 0) return { connect: [], disconnect: [] };
      const ranked = rankCurrent();
      // Prefer dropping neighbours past their dwell time; fall back to the rest.
      const order = [...ranked.filter((r) => dwelt(r.p)), ...ranked.filter((r) => !dwelt(r.p))];
      return { connect: [], disconnect: order.slice(0, excess).map((r) => r.p) };
    }
    this.#overflowSince.delete(me);

    // At degree, the only move is one swap: judge candidates against the
    // neighbourhood they would join, without the neighbour they would replace.
    let worst: { p: number; s: number } | undefined;
    if (current.length === degree) {
      worst = rankCurrent().find((r) => dwelt(r.p));
      if (worst === undefined) return { connect: [], disconnect: [] };
      base.delete(worst.p);
    }

    // Score every eligible candidate once; at degree only the best one matters.
    const heap = new Heap();
    let best = -1;
    let bestScore = Infinity;
    let bestTie = 0;
    for (const c of candidates ?? graph.peers()) {
      if (!isSlot(c)) throw new PolicyError(candidates === undefined ? 'BAD_GRAPH' : 'BAD_ARGUMENT', `NeighbourPolicy.plan: candidate ${String(c)} is not a slot`);
      // Repeats are not filtered here (a Set would dominate the cost); a pick is never picked twice below.
      if (c === me || cur.has(c)) continue;
      const score = overlap(graph, c, base, -1);
      const tie = tieHash(seed, me, c);
      if (worst === undefined) heap.push(score, tie, c);
      else if (score < bestScore || (score === bestScore && (tie < bestTie || (tie === bestTie && c < best)))) {
        best = c;
        bestScore = score;
        bestTie = tie;
      }
    }

    if (worst !== undefined) {
      return best >= 0 && bestScore + margin <= worst.s ? { connect: [best], disconnect: [worst.p] } : { connect: [], disconnect: [] };
    }

    // Below degree: fill. Lazy greedy: scores only grow as picks join the base,
    // so a popped candidate whose stored score is still its true score is the best left.
    const connect: number[] = [];
    while (connect.length < degree - current.length && heap.size > 0) {
      const top = heap.pop();
      if (base.has(top.slot)) continue; // a repeated candidate already picked
      const fresh = overlap(graph, top.slot, base, -1);
      if (fresh !== top.score) {
        // Stale: re-queue at its true score; it comes back out in (score, tie) order.
        heap.push(fresh, tieHash(seed, me, top.slot), top.slot);
        continue;
      }
      connect.push(top.slot);
      base.add(top.slot);
    }
    return { connect, disconnect: [] };
  }

  /** Forgets the dwell and overflow bookkeeping for `me` (e.g. after a restart of its links). */
  forget(me: number): void {
    this.#since.delete(me);
    this.#overflowSince.delete(me);
  }

  #checkCurrent(me: number, current: readonly number[]): Set<number> {
    if (!isSlot(me)) throw new PolicyError('BAD_ARGUMENT', 'NeighbourPolicy: me must be a non-negative integer slot');
    if (!Array.isArray(current)) throw new PolicyError('BAD_ARGUMENT', 'NeighbourPolicy: current must be an array of slots');
    const cur = new Set<number>();
    for (const p of current) {
      if (!isSlot(p)) throw new PolicyError('BAD_ARGUMENT', `NeighbourPolicy: current neighbour ${String(p)} is not a slot`);
      if (p === me) throw new PolicyError('BAD_ARGUMENT', 'NeighbourPolicy: current neighbours must not include me');
      if (cur.has(p)) throw new PolicyError('BAD_ARGUMENT', `NeighbourPolicy: current neighbour ${p} is listed twice`);
      cur.add(p);
    }
    return cur;
  }
}

function checkGraph(graph: unknown): asserts graph is PeerGraph {
  const g = graph as Partial<PeerGraph> | null;
  if (typeof g !== 'object' || g === null || typeof g.neighboursOf !== 'function' || typeof g.peers !== 'function') {
    throw new PolicyError('BAD_ARGUMENT', 'expected a PeerGraph (neighboursOf, peers)');
  }
}

export { checkGraph as assertPeerGraph, isSlot };

/**
 * Kademlia-style baseline for the simulator comparison: candidates fall into
 * buckets by the number of leading bits their id shares with mine; take the
 * closest (XOR) of each bucket, farthest bucket first (the far buckets give
 * the long-range links), then fill by closeness. Returns indices into
 * `candidateIds`, in choice order. Ids equal to mine and repeated ids are skipped.
 */
export function kademliaChoice(myId: Uint8Array, candidateIds: readonly Uint8Array[], degree: number): number[] {
  if (!(myId instanceof Uint8Array) || myId.length === 0) throw new PolicyError('BAD_ARGUMENT', 'kademliaChoice: myId must be a non-empty Uint8Array');
  if (!Array.isArray(candidateIds)) throw new PolicyError('BAD_ARGUMENT', 'kademliaChoice: candidateIds must be an array');
  checkCount(degree, 'degree', 0);
  const len = myId.length;
  const entries: { i: number; cpl: number; dist: Uint8Array }[] = [];
  const keys = new Set<string>();
  candidateIds.forEach((id, i) => {
    if (!(id instanceof Uint8Array) || id.length !== len) throw new PolicyError('BAD_ARGUMENT', `kademliaChoice: candidate ${i} must be a ${len}-byte Uint8Array`);
    const dist = new Uint8Array(len);
    let cpl = -1;
    for (let b = 0; b < len; b++) {
      dist[b] = myId[b]! ^ id[b]!;
      if (cpl < 0 && dist[b] !== 0) cpl = b * 8 + Math.clz32(dist[b]!) - 24;
    }
    if (cpl < 0) return; // my own id
    const key = Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
    if (keys.has(key)) return;
    keys.add(key);
    entries.push({ i, cpl, dist });
  });
  const closer = (a: { i: number; dist: Uint8Array }, b: { i: number; dist: Uint8Array }): number => {
    for (let k = 0; k < len; k++) if (a.dist[k] !== b.dist[k]) return a.dist[k]! - b.dist[k]!;
    return a.i - b.i;
  };
  entries.sort(closer);
  const chosen: number[] = [];
  const taken = new Set<number>();
  // entries are sorted by XOR distance, so the first of each cpl is its bucket's closest;
  // cpl grows as distance shrinks, so walking buckets far-first is walking cpl upwards.
  const firstOfBucket = new Map<number, { i: number }>();
  for (const e of entries) if (!firstOfBucket.has(e.cpl)) firstOfBucket.set(e.cpl, e);
  for (const cpl of [...firstOfBucket.keys()].sort((a, b) => a - b)) {
    if (chosen.length >= degree) break;
    const e = firstOfBucket.get(cpl)!;
    chosen.push(e.i);
    taken.add(e.i);
  }
  for (const e of entries) {
    if (chosen.length >= degree) break;
    if (!taken.has(e.i)) {
      chosen.push(e.i);
      taken.add(e.i);
    }
  }
  return chosen;
}
