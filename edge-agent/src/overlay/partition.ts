/**
 * Partition watch (issue 6, item 5) as pure cores: the map's connected
 * components, and a watcher that turns successive summaries into events.
 *
 * components() is a union-find over typed arrays (union by size, path
 * halving), edges taken as undirected: one pass over the edges, a few bytes
 * per slot, so it can run every few seconds at 100k peers.
 *
 * The eclipse criterion is the mean pairwise Jaccard overlap of my
 * neighbours' neighbour sets. It needs only the map we already hold, whereas
 * "first seen via the same peer" needs provenance we do not record and an id
 * prefix says nothing, since ids are hashes of keys anyone can mint. In a
 * healthy random overlay that overlap is near 0; when my neighbours are a
 * tight cluster that mostly knows itself (what an eclipse looks like from
 * inside) it approaches 1.
 */
import { PolicyError } from './policy-errors.js';
import { assertPeerGraph, isSlot, type PeerGraph } from './neighbours.js';
import { UnionFind } from './union-find.js';

export interface ComponentSummary {
  /** Component id per slot (ids 0..count-1 in order of their lowest slot); -1 for a slot that holds no peer. */
  readonly componentOf: Int32Array;
  /** Peers per component id. */
  readonly sizes: Uint32Array;
  /** Number of components; an isolated peer is one. */
  readonly count: number;
  /** Peers in the largest component. */
  readonly largest: number;
  /** Id of the largest component (the lowest id among equals), or -1 when there are no peers. */
  readonly largestId: number;
  /** Peers counted. */
  readonly peers: number;
}

/**
 * Connected components of `graph` over slots 0..size-1. Only slots listed by
 * graph.peers() count; edges to slots that hold no peer (stale references)
 * are ignored. A slot at or above `size` is a broken graph.
 */
export function components(graph: PeerGraph, size: number): ComponentSummary {
  assertPeerGraph(graph);
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 0 || size > 1 << 24) {
    throw new PolicyError('BAD_ARGUMENT', `components: size must be an integer in [0, 2^24], got ${String(size)}`);
  }
  const present = new Uint8Array(size);
  const sets = new UnionFind(size);
  for (const p of graph.peers()) {
    if (!isSlot(p) || p >= size) throw new PolicyError('BAD_GRAPH', `components: peer ${String(p)} is not a slot below ${size}`);
    present[p] = 1;
  }
  for (let a = 0; a < size; a++) {
    if (present[a] === 0) continue;
    const list = graph.neighboursOf(a);
    for (let i = 0; i < list.length; i++) {
      const b = list[i]!;
      if (!isSlot(b) || b >= size) throw new PolicyError('BAD_GRAPH', `components: neighbour ${String(b)} of ${a} is not a slot below ${size}`);
      if (present[b] !== 0) sets.union(a, b);
    }
  }
  // Number components by their lowest slot so the ids are deterministic.
  const componentOf = new Int32Array(size).fill(-1);
  const rootId = new Int32Array(size).fill(-1);
  const sizes: number[] = [];
  let peers = 0;
  for (let s = 0; s < size; s++) {
    if (present[s] === 0) continue;
    peers++;
    const r = sets.find(s);
    let id = rootId[r]!;
    if (id < 0) {
      id = sizes.length;
      rootId[r] = id;
      sizes.push(sets.sizeOfRoot(r));
    }
    componentOf[s] = id;
  }
  let largest = 0;
  let largestId = -1;
  sizes.forEach((n, id) => {
    if (n > largest) {
      largest = n;
      largestId = id;
    }
  });
  return { componentOf, sizes: Uint32Array.from(sizes), count: sizes.length, largest, largestId, peers };
}

/**
 * Mean pairwise Jaccard overlap of the neighbour sets of `me`'s neighbours,
 * each set taken without `me` (all of them hold me) and without the other
 * member of the pair (a link between the two is not shared reach). 0 for
 * fewer than two neighbours.
 */
export function neighbourhoodOverlap(me: number, current: readonly number[], graph: PeerGraph): number {
  assertPeerGraph(graph);
  if (!isSlot(me)) throw new PolicyError('BAD_ARGUMENT', 'neighbourhoodOverlap: me must be a slot');
  if (!Array.isArray(current) || !current.every(isSlot)) throw new PolicyError('BAD_ARGUMENT', 'neighbourhoodOverlap: current must be an array of slots');
  const sets = current.map((p) => {
    const s = new Set<number>();
    const list = graph.neighboursOf(p);
    for (let i = 0; i < list.length; i++) if (list[i] !== me && list[i] !== p) s.add(list[i]!);
    return s;
  });
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < sets.length; i++) {
    for (let j = i + 1; j < sets.length; j++) {
      const a = sets[i]!;
      const b = sets[j]!;
      const pa = current[i]!;
      const pb = current[j]!;
      let inter = 0;
      const sizeA = a.size - (a.has(pb) ? 1 : 0);
      const sizeB = b.size - (b.has(pa) ? 1 : 0);
      for (const x of a) if (x !== pb && x !== pa && b.has(x)) inter++;
      const union = sizeA + sizeB - inter;
      sum += union === 0 ? 0 : inter / union;
      pairs++;
    }
  }
  return pairs === 0 ? 0 : sum / pairs;
}

export interface PartitionWatchOptions {
  /** A cut is reported when the largest component holds less than this fraction of the peers. Default 0.9. */
  readonly cutBelow?: number;
  /** ...and cleared only once it holds at least this fraction again (hysteresis). Default 0.95. */
  readonly healAbove?: number;
  /** Components smaller than this are churn (a peer still joining), not a split. Default 4. */
  readonly minSplitSize?: number;
  /** Eclipse is suspected when the neighbourhood overlap reaches this. Default 0.5. */
  readonly eclipseAbove?: number;
  /** ...and cleared only once it falls to this or below. Default 0.25. */
  readonly eclipseClearBelow?: number;
  /** Fewer neighbours than this give no verdict (the state is kept). Default 3. */
  readonly minNeighbours?: number;
}

export type PartitionEvent =
  | { readonly kind: 'cut'; readonly at: number; readonly largestFraction: number; readonly components: number }
  | { readonly kind: 'healed'; readonly at: number; readonly largestFraction: number; readonly components: number }
  | { readonly kind: 'eclipse-suspected'; readonly at: number; readonly peer: number; readonly overlap: number; readonly reason: string }
  | { readonly kind: 'eclipse-cleared'; readonly at: number; readonly peer: number; readonly overlap: number };

function fraction(v: unknown, name: string, fallback: number): number {
  const x = v ?? fallback;
  if (typeof x !== 'number' || !(x >= 0 && x <= 1)) throw new PolicyError('BAD_ARGUMENT', `PartitionWatch: ${name} must be in [0, 1], got ${String(x)}`);
  return x;
}

/** Turns component summaries and neighbourhood overlaps into edge-triggered events. */
export class PartitionWatch {
  readonly cutBelow: number;
  readonly healAbove: number;
  readonly minSplitSize: number;
  readonly eclipseAbove: number;
  readonly eclipseClearBelow: number;
  readonly minNeighbours: number;
  #cut = false;
  #splits = 0;
  readonly #eclipsed = new Set<number>();

  constructor(options: PartitionWatchOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new PolicyError('BAD_ARGUMENT', 'PartitionWatch: options must be an object');
    this.cutBelow = fraction(options.cutBelow, 'cutBelow', 0.9);
    this.healAbove = fraction(options.healAbove, 'healAbove', 0.95);
    this.eclipseAbove = fraction(options.eclipseAbove, 'eclipseAbove', 0.5);
    this.eclipseClearBelow = fraction(options.eclipseClearBelow, 'eclipseClearBelow', 0.25);
    if (this.healAbove < this.cutBelow) throw new PolicyError('BAD_ARGUMENT', 'PartitionWatch: healAbove must be >= cutBelow');
    if (this.eclipseClearBelow > this.eclipseAbove) throw new PolicyError('BAD_ARGUMENT', 'PartitionWatch: eclipseClearBelow must be <= eclipseAbove');
    const m = options.minSplitSize ?? 4;
    const n = options.minNeighbours ?? 3;
    if (!Number.isInteger(m) || m < 1) throw new PolicyError('BAD_ARGUMENT', 'PartitionWatch: minSplitSize must be an integer >= 1');
    if (!Number.isInteger(n) || n < 2) throw new PolicyError('BAD_ARGUMENT', 'PartitionWatch: minNeighbours must be an integer >= 2');
    this.minSplitSize = m;
    this.minNeighbours = n;
  }

  get cut(): boolean {
    return this.#cut;
  }

  isEclipsed(peer: number): boolean {
    return this.#eclipsed.has(peer);
  }

  /**
   * Feeds the latest component summary. Emits 'cut' when the largest
   * component falls below cutBelow or a second component of minSplitSize
   * peers appears, again if the map splits further while cut, and 'healed'
   * once the largest is back above healAbove with no such second component.
   */
  observeComponents(summary: Pick<ComponentSummary, 'sizes' | 'largest' | 'peers'>, now: number): PartitionEvent[] {
    if (typeof summary !== 'object' || summary === null || !(summary.sizes instanceof Uint32Array)) {
      throw new PolicyError('BAD_ARGUMENT', 'PartitionWatch.observeComponents: expected a ComponentSummary');
    }
    if (!Number.isFinite(now)) throw new PolicyError('BAD_ARGUMENT', 'PartitionWatch: now must be finite');
    if (summary.peers === 0) return [];
    let splits = 0;
    for (const n of summary.sizes) if (n >= this.minSplitSize) splits++;
    const largestFraction = summary.largest / summary.peers;
    const components = summary.sizes.length;
    const events: PartitionEvent[] = [];
    if (!this.#cut) {
      if (largestFraction < this.cutBelow || splits > 1) {
        this.#cut = true;
        events.push({ kind: 'cut', at: now, largestFraction, components });
      }
    } else if (largestFraction >= this.healAbove && splits <= 1) {
      this.#cut = false;
      events.push({ kind: 'healed', at: now, largestFraction, components });
    } else if (splits > this.#splits) {
      events.push({ kind: 'cut', at: now, largestFraction, components });
    }
    this.#splits = splits;
    return events;
  }

  /** Feeds `me`'s current neighbourhood; emits on entering and leaving the suspected state. */
  observeNeighbourhood(me: number, current: readonly number[], graph: PeerGraph, now: number): PartitionEvent[] {
    if (!Number.isFinite(now)) throw new PolicyError('BAD_ARGUMENT', 'PartitionWatch: now must be finite');
    const overlap = neighbourhoodOverlap(me, current, graph);
    if (current.length < this.minNeighbours) return [];
    if (!this.#eclipsed.has(me) && overlap >= this.eclipseAbove) {
      this.#eclipsed.add(me);
      const reason = `mean Jaccard overlap of my ${current.length} neighbours' neighbour sets is ${overlap.toFixed(2)} (>= ${this.eclipseAbove})`;
      return [{ kind: 'eclipse-suspected', at: now, peer: me, overlap, reason }];
    }
    if (this.#eclipsed.has(me) && overlap <= this.eclipseClearBelow) {
      this.#eclipsed.delete(me);
      return [{ kind: 'eclipse-cleared', at: now, peer: me, overlap }];
    }
    return [];
  }
}
