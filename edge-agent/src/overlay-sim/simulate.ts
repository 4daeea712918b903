/**
 * One simulation run: build the world, drive joins and the flood (modelled or
 * real cores) in virtual time, sample convergence, measure steady-state
 * traffic, then the correlated-failure experiment against a Kademlia-style
 * network grown the same way in the same simulator.
 */
import { SimError } from './errors.js';
import { EventQueue } from './event-queue.js';
import { overlapStats, pickRegions, stats, survivorsConnected, type Stats } from './experiment.js';
import { FloodModel } from './flood-model.js';
import { RealFlood, makeSigners } from './flood-real.js';
import { Rng } from './rng.js';
import { World, type Choice } from './world.js';

export type SimMode = 'model' | 'real';

export interface SimOptions {
  readonly peers?: number;
  /** 'model': bitset flood (any size); 'real': one GossipCore per peer (a few hundred at most). */
  readonly mode?: SimMode;
  readonly seed?: number;
  readonly regions?: number;
  readonly degree?: number;
  readonly maxOverflow?: number;
  readonly joinSeconds?: number;
  readonly maintenanceSeconds?: number;
  readonly sampleSize?: number;
  readonly lossRate?: number;
  readonly refreshSeconds?: number;
  /** Modelled mode's time step. */
  readonly tickMs?: number;
  readonly maxTtl?: number;
  /** Convergence is sampled this often. */
  readonly sampleEverySeconds?: number;
  /** How long after the last join convergence is followed (secondsTo99 is null if not reached). */
  readonly horizonSeconds?: number;
  /** Steady-state traffic is counted over [last join + settle, + window]. */
  readonly settleSeconds?: number;
  readonly windowSeconds?: number;
  /** Share of peers taken down by region in the failure experiment. */
  readonly failureFraction?: number;
  /** Also grow the Kademlia-choice network for the comparison (default true). */
  readonly kademlia?: boolean;
}

export interface CurvePoint {
  /** Simulated seconds since the first join. */
  readonly t: number;
  readonly joined: number;
  readonly min: number;
  readonly median: number;
  readonly mean: number;
}

export interface SimReport {
  readonly mode: SimMode;
  readonly peers: number;
  readonly seed: number;
  readonly edges: number;
  readonly lastJoinSeconds: number;
  /** Simulated seconds after the last join until every peer knows ≥ 99 % of the confirmed map; null if not within the horizon. */
  readonly secondsTo99: number | null;
  readonly curve: CurvePoint[];
  /** Gossip and catch-up frames received-side per peer per second, in the steady window. */
  readonly msgsPerPeerPerSec: number;
  readonly gossipPerPeerPerSec: number;
  readonly catchUpPerPeerPerSec: number;
  readonly catchUpFramesPerLink: number;
  readonly degree: Stats;
  readonly overlap: Stats;
  readonly removedFraction: number;
  readonly removedRegions: number[];
  readonly survivorsConnected: number;
  readonly kademlia: { readonly edges: number; readonly degree: Stats; readonly overlap: Stats; readonly survivorsConnected: number } | null;
}

function resolve(o: SimOptions) {
  if (typeof o !== 'object' || o === null) throw new SimError('BAD_ARGUMENT', 'simulate: options must be an object');
  const r = {
    peers: o.peers ?? 10_000,
    mode: o.mode ?? 'model',
    seed: o.seed ?? 1,
    regions: o.regions ?? 10,
    degree: o.degree ?? 12,
    maxOverflow: o.maxOverflow ?? 2,
    joinSeconds: o.joinSeconds ?? 200,
    maintenanceSeconds: o.maintenanceSeconds ?? 10,
    sampleSize: o.sampleSize ?? 200,
    lossRate: o.lossRate ?? 0.01,
    refreshSeconds: o.refreshSeconds ?? 300,
    tickMs: o.tickMs ?? 20,
    maxTtl: o.maxTtl ?? 6,
    sampleEverySeconds: o.sampleEverySeconds ?? 1,
    horizonSeconds: o.horizonSeconds ?? 60,
    settleSeconds: o.settleSeconds ?? 60,
    windowSeconds: o.windowSeconds ?? 20,
    failureFraction: o.failureFraction ?? 0.3,
    kademlia: o.kademlia ?? true,
  };
  if (r.mode !== 'model' && r.mode !== 'real') throw new SimError('BAD_ARGUMENT', `simulate: unknown mode ${String(r.mode)}`);
  for (const k of ['joinSeconds', 'maintenanceSeconds', 'refreshSeconds', 'sampleEverySeconds', 'horizonSeconds', 'settleSeconds', 'windowSeconds'] as const) {
    if (!(r[k] > 0) || !Number.isFinite(r[k])) throw new SimError('BAD_ARGUMENT', `simulate: ${k} must be a positive number`);
  }
  if (typeof r.kademlia !== 'boolean') throw new SimError('BAD_ARGUMENT', 'simulate: kademlia must be a boolean');
  return r;
}

function worldOptions(r: ReturnType<typeof resolve>, choice: Choice, ids?: Uint8Array[]) {
  return {
    peers: r.peers,
    regions: r.regions,
    degree: r.degree,
    maxOverflow: r.maxOverflow,
    joinMs: Math.round(r.joinSeconds * 1000),
    maintenanceMs: Math.round(r.maintenanceSeconds * 1000),
    sampleSize: r.sampleSize,
    choice,
    ...(ids === undefined ? {} : { ids }),
  };
}

/** Runs one simulation; same options and seed → the same report. */
export function simulate(options: SimOptions = {}): SimReport {
  const r = resolve(options);
  const root = new Rng(r.seed);
  const topoSeed = root.u32();
  const linkRng = root.fork(2);
  const keyRng = root.fork(3);
  const failRng = root.fork(4);

  const queue = new EventQueue(0);
  const lastJoinMs = Math.round(r.joinSeconds * 1000);
  const endAt = lastJoinMs + Math.round(1000 * Math.max(r.horizonSeconds, r.settleSeconds + r.windowSeconds));
  const keys = r.mode === 'real' ? makeSigners(r.peers, keyRng) : null;
  const world = new World(worldOptions(r, 'least-overlap', keys?.ids), queue, new Rng(topoSeed));

  let flood: { frames: number; syncFrames: number; knownEdges(p: number): number; readonly totalEdges: number; onLink: (a: number, b: number, now: number) => void };
  if (keys !== null) {
    const real = new RealFlood(world, queue, linkRng, keys.signers, { lossRate: r.lossRate, refreshMs: Math.round(r.refreshSeconds * 1000), endAt, maxTtl: r.maxTtl });
    real.startSweeps(5_000);
    flood = real;
  } else {
    const maxEdges = Math.ceil((r.peers * (r.degree + r.maxOverflow)) / 2);
    const refreshes = Math.ceil((2 * maxEdges * endAt) / (r.refreshSeconds * 1000)) + 2 * maxEdges;
    const model = new FloodModel(world, queue, linkRng, {
      tickMs: r.tickMs,
      lossRate: r.lossRate,
      refreshMs: Math.round(r.refreshSeconds * 1000),
      endAt,
      eventCapacity: 2 * maxEdges + 2 + refreshes,
    });
    model.start();
    flood = model;
  }
  world.start(endAt, flood.onLink);

  const curve: CurvePoint[] = [];
  let secondsTo99: number | null = null;
  const sampleMs = Math.round(r.sampleEverySeconds * 1000);
  const sample = (): void => {
    const t = queue.now();
    const total = flood.totalEdges;
    const fr = world.joinedList.map((p) => (total === 0 ? 1 : flood.knownEdges(p) / total));
    const s = Float64Array.from(fr).sort();
    const point = {
      t: t / 1000,
      joined: s.length,
      min: s.length > 0 ? s[0]! : 0,
      median: s.length > 0 ? s[Math.floor(s.length / 2)]! : 0,
      mean: s.length > 0 ? s.reduce((a, b) => a + b, 0) / s.length : 0,
    };
    curve.push(point);
    if (secondsTo99 === null && t >= lastJoinMs && s.length === r.peers && point.min >= 0.99) secondsTo99 = (t - lastJoinMs) / 1000;
    if (t + sampleMs <= endAt) queue.setTimer(sampleMs, sample);
  };
  queue.at(0, sample);

  const windowStart = lastJoinMs + Math.round(r.settleSeconds * 1000);
  const windowEnd = windowStart + Math.round(r.windowSeconds * 1000);
  queue.runUntil(windowStart);
  const f0 = flood.frames;
  const s0 = flood.syncFrames;
  queue.runUntil(windowEnd);
  const f1 = flood.frames;
  const s1 = flood.syncFrames;
  queue.runUntil(endAt);
  if (secondsTo99 !== null && secondsTo99 > r.horizonSeconds) secondsTo99 = null;

  // Correlated failure: whole regions, in a seeded order, about failureFraction of the peers.
  const order = Array.from({ length: r.regions }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = failRng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const removedRegions = pickRegions(world.region, r.regions, r.failureFraction, order);
  const gone = new Set(removedRegions);
  const removed = (p: number): boolean => gone.has(world.region[p]!);
  let removedCount = 0;
  for (let p = 0; p < world.n; p++) if (removed(p)) removedCount++;
  const survivors = survivorsConnected(world.adj, removed);

  let kademlia: SimReport['kademlia'] = null;
  if (r.kademlia) {
    const kq = new EventQueue(0);
    const kw = new World(worldOptions(r, 'kademlia', keys?.ids), kq, new Rng(topoSeed));
    kw.start(endAt, () => {});
    kq.runUntil(endAt);
    kademlia = {
      edges: kw.edges,
      degree: stats(kw.adj.map((l) => l.length)),
      overlap: overlapStats(kw.adj),
      survivorsConnected: survivorsConnected(kw.adj, (p) => gone.has(kw.region[p]!)).fraction,
    };
  }

  const seconds = (windowEnd - windowStart) / 1000;
  const perPeer = (n: number): number => n / seconds / world.joinedList.length;
  return {
    mode: r.mode,
    peers: r.peers,
    seed: r.seed,
    edges: world.edges,
    lastJoinSeconds: lastJoinMs / 1000,
    secondsTo99,
    curve,
    msgsPerPeerPerSec: perPeer(f1 - f0 + (s1 - s0)),
    gossipPerPeerPerSec: perPeer(f1 - f0),
    catchUpPerPeerPerSec: perPeer(s1 - s0),
    catchUpFramesPerLink: world.edges === 0 ? 0 : flood.syncFrames / world.edges,
    degree: stats(world.adj.map((l) => l.length)),
    overlap: overlapStats(world.adj),
    removedFraction: removedCount / world.n,
    removedRegions,
    survivorsConnected: survivors.fraction,
    kademlia,
  };
}
