/**
 * The simulated overlay's topology: peers with regions and ids, joining over
 * time, dialling the neighbours the real choice function picks from a sample
 * of the peers already there, links with a latency set by region distance.
 * Gossip layers (modelled or real cores) listen for new links; the topology
 * never reads gossip state, so both layers see the same graph for one seed.
 */
import { NeighbourPolicy, kademliaChoice, type PeerGraph } from '../overlay/index.js';
import { SimError } from './errors.js';
import type { EventQueue } from './event-queue.js';
import type { Rng } from './rng.js';

export type Choice = 'least-overlap' | 'kademlia';

export interface WorldOptions {
  readonly peers: number;
  readonly regions: number;
  /** Target neighbours per peer; a joiner dials half of it, maintenance fills the rest. */
  readonly degree: number;
  /** Inbound links accepted up to degree + maxOverflow. */
  readonly maxOverflow: number;
  /** Joins are spread evenly over this span (ms). */
  readonly joinMs: number;
  /** Every this many ms, peers below degree dial more. */
  readonly maintenanceMs: number;
  /** Candidates handed to the choice function per decision. */
  readonly sampleSize: number;
  /**
   * Share of those candidates drawn from the dialler's own region (default 0: uniform over all joined peers).
   * Real discovery is local (a site's bootstrap, LAN neighbours), so candidates lean towards the region.
   */
  readonly localShare?: number;
  readonly choice: Choice;
  /** Ids to use (e.g. from real keys); default pseudo-random 32-byte ids. */
  readonly ids?: readonly Uint8Array[];
}

/** Called once per new link; `a` dialled `b`. */
export type LinkListener = (a: number, b: number, now: number) => void;

/** One-way latency in ms: 20 ms within a region, up to 120 ms for the farthest (ring distance), plus 0–9 ms jitter. */
export function linkLatencyMs(ra: number, rb: number, regions: number, jitter: number): number {
  const d = Math.abs(ra - rb);
  const ring = Math.min(d, regions - d);
  const far = Math.max(1, Math.floor(regions / 2));
  return 20 + Math.round((100 * ring) / far) + jitter;
}

export class World {
  readonly n: number;
  readonly o: WorldOptions;
  readonly region: Uint8Array;
  readonly ids: readonly Uint8Array[];
  readonly joinAt: Float64Array;
  readonly joined: Uint8Array;
  readonly joinedList: number[] = [];
  /** Joined peers by region, for local candidate draws. */
  readonly #joinedIn: number[][];
  /** Undirected adjacency; lat[p][i] is the latency of the link to adj[p][i]. */
  readonly adj: number[][];
  readonly lat: number[][];
  /** Directed as dialled: edgeFrom[e] dialled edgeTo[e]. */
  readonly edgeFrom: number[] = [];
  readonly edgeTo: number[] = [];
  readonly graph: PeerGraph;
  readonly lastJoinAt: number;
  readonly #rng: Rng;
  readonly #queue: EventQueue;
  readonly #policy: NeighbourPolicy;
  #listener: LinkListener = () => {};

  constructor(options: WorldOptions, queue: EventQueue, rng: Rng) {
    const o = options;
    const int = (v: unknown, what: string, min: number): void => {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new SimError('BAD_ARGUMENT', `World: ${what} must be an integer >= ${min}, got ${String(v)}`);
    };
    int(o.peers, 'peers', 2);
    int(o.regions, 'regions', 1);
    if (o.regions > 255) throw new SimError('BAD_ARGUMENT', 'World: at most 255 regions');
    int(o.degree, 'degree', 2);
    int(o.maxOverflow, 'maxOverflow', 0);
    int(o.joinMs, 'joinMs', 0);
    int(o.maintenanceMs, 'maintenanceMs', 1);
    int(o.sampleSize, 'sampleSize', 1);
    if (o.localShare !== undefined && !(o.localShare >= 0 && o.localShare <= 1)) throw new SimError('BAD_ARGUMENT', `World: localShare must lie in [0, 1], got ${String(o.localShare)}`);
    if (o.choice !== 'least-overlap' && o.choice !== 'kademlia') throw new SimError('BAD_ARGUMENT', `World: unknown choice ${String(o.choice)}`);
    if (o.ids !== undefined && (o.ids.length !== o.peers || o.ids.some((id) => !(id instanceof Uint8Array) || id.length !== 32))) {
      throw new SimError('BAD_ARGUMENT', 'World: ids must be one 32-byte Uint8Array per peer');
    }
    this.o = o;
    this.n = o.peers;
    this.#queue = queue;
    this.#rng = rng;
    this.#policy = new NeighbourPolicy({ degree: o.degree, maxOverflow: o.maxOverflow, seed: rng.u32() });
    this.#joinedIn = Array.from({ length: o.regions }, () => []);
    this.region = new Uint8Array(this.n);
    for (let i = 0; i < this.n; i++) this.region[i] = rng.int(o.regions);
    const idRng = rng.fork(1);
    this.ids = o.ids ?? Array.from({ length: this.n }, () => idRng.bytes(32));
    this.joinAt = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) this.joinAt[i] = Math.round((i * o.joinMs) / (this.n - 1));
    this.lastJoinAt = this.joinAt[this.n - 1]!;
    this.joined = new Uint8Array(this.n);
    this.adj = Array.from({ length: this.n }, () => []);
    this.lat = Array.from({ length: this.n }, () => []);
    const adj = this.adj;
    const list = this.joinedList;
    this.graph = { neighboursOf: (p: number) => adj[p] ?? [], peers: () => list };
  }

  get edges(): number {
    return this.edgeFrom.length;
  }

  /** Schedules every join and the maintenance rounds up to `endAt`; `listener` hears of each new link. */
  start(endAt: number, listener: LinkListener): void {
    this.#listener = listener;
    for (let i = 0; i < this.n; i++) this.#queue.at(this.joinAt[i]!, () => this.#join(i));
    const round = (): void => {
      const now = this.#queue.now();
      for (const p of this.joinedList) if (this.adj[p]!.length < this.o.degree) this.#dial(p, this.o.degree - this.adj[p]!.length, now);
      if (now + this.o.maintenanceMs <= endAt) this.#queue.setTimer(this.o.maintenanceMs, round);
    };
    this.#queue.at(this.o.maintenanceMs, round);
  }

  #join(p: number): void {
    this.joined[p] = 1;
    this.joinedList.push(p);
    this.#joinedIn[this.region[p]!]!.push(p);
    this.#dial(p, Math.ceil(this.o.degree / 2), this.#queue.now());
  }

  #sample(p: number): number[] {
    const pool = this.joinedList;
    const mine = new Set(this.adj[p]);
    mine.add(p);
    if (pool.length - mine.size <= this.o.sampleSize) return pool.filter((c) => !mine.has(c));
    const out = new Set<number>();
    const local = this.#joinedIn[this.region[p]!]!;
    const localShare = this.o.localShare ?? 0;
    for (let tries = 0; out.size < this.o.sampleSize && tries < 4 * this.o.sampleSize; tries++) {
      const from = localShare > 0 && this.#rng.next() < localShare ? local : pool;
      const c = from[this.#rng.int(from.length)]!;
      if (!mine.has(c)) out.add(c);
    }
    return [...out];
  }

  #dial(p: number, want: number, now: number, retries = 3): void {
    const sample = this.#sample(p);
    if (sample.length === 0 || want <= 0) return;
    let picks: number[];
    if (this.o.choice === 'least-overlap') {
      picks = this.#policy.plan(p, this.adj[p]!, this.graph, sample, now).connect.slice(0, want);
    } else {
      picks = kademliaChoice(this.ids[p]!, sample.map((c) => this.ids[c]!), want).map((i) => sample[i]!);
    }
    for (const c of picks) {
      const ms = linkLatencyMs(this.region[p]!, this.region[c]!, this.o.regions, this.#rng.int(10));
      // The link exists once the dial has crossed it; both ends must still have room then.
      this.#queue.setTimer(ms, () => this.#establish(p, c, ms, retries));
    }
  }

  #establish(a: number, b: number, ms: number, retries: number): void {
    const cap = this.o.degree + this.o.maxOverflow;
    const la = this.adj[a]!;
    const lb = this.adj[b]!;
    if (la.length >= cap || la.includes(b)) return;
    if (lb.length >= cap) {
      // Refused (the other end is full): try another candidate at once, a few times.
      if (retries > 0 && la.length < this.o.degree) this.#dial(a, 1, this.#queue.now(), retries - 1);
      return;
    }
    la.push(b);
    lb.push(a);
    this.lat[a]!.push(ms);
    this.lat[b]!.push(ms);
    this.edgeFrom.push(a);
    this.edgeTo.push(b);
    this.#listener(a, b, this.#queue.now());
  }
}
