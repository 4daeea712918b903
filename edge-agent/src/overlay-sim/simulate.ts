/**
 * One simulation run: build the world, drive joins and the flood (modelled or
 * real cores) in virtual time, sample convergence, measure steady-state
 * traffic, then the correlated-failure experiment against a Kademlia-style
 * network grown the same way in the same simulator. failureSweep() repeats
 * only that experiment (topology, no gossip) over degrees and failure shares.
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
  /** Share of a dial's candidates drawn from the dialler's own region (see WorldOptions.localShare). */
  readonly localShare?: number;
  readonly lossRate?: number;
  /** Re-announce every link end this often; null or absent: never, as the protocol does (only changes are flooded). */
  readonly refreshSeconds?: number | null;
  /** Modelled mode's time step. */
  readonly tickMs?: number;
  /** A peer sends at most one gossip batch per neighbour this often, as the agent does (default 2; 0: no pacing). */
  readonly gossipIntervalSeconds?: number;
  /** Events per message, the agent's MAX_BATCH (default 256). */
  readonly maxBatch?: number;
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
  /** Further shares for the same experiment on the same two topologies (report.failureSweep; default [0.3, 0.5, 0.7]). */
  readonly sweepFractions?: readonly number[];
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
  /** Messages sent per peer per second in the steady window: gossip batches + catch-up batches + digests. */
  readonly msgsPerPeerPerSec: number;
  readonly gossipMsgsPerPeerPerSec: number;
  readonly catchUpMsgsPerPeerPerSec: number;
  readonly digestPerPeerPerSec: number;
  /** Event frames (one event to one neighbour; what the batches carry) per peer per second in the steady window. */
  readonly framesPerPeerPerSec: number;
  readonly gossipPerPeerPerSec: number;
  /** Catch-up record frames (sent only when a new link's two digests differ), and what their first receipts forward. */
  readonly catchUpPerPeerPerSec: number;
  /** New links in the steady window, and how many of them ran the full catch-up. */
  readonly steadyLinks: number;
  readonly steadyFullSyncs: number;
  /** Over the whole run: catch-up record frames per link, and the share of links whose digests differed. */
  readonly catchUpFramesPerLink: number;
  readonly fullSyncShare: number;
  readonly degree: Stats;
  readonly overlap: Stats;
  readonly removedFraction: number;
  readonly removedRegions: number[];
  readonly survivorsConnected: number;
  readonly kademlia: { readonly edges: number; readonly degree: Stats; readonly overlap: Stats; readonly survivorsConnected: number } | null;
  /** The failure experiment at each of sweepFractions, at this run's degree. */
  readonly failureSweep: SweepPoint[];
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
    localShare: o.localShare ?? 0,
    lossRate: o.lossRate ?? 0.01,
    refreshSeconds: o.refreshSeconds ?? null,
    tickMs: o.tickMs ?? 20,
    gossipIntervalSeconds: o.gossipIntervalSeconds ?? 2,
    maxBatch: o.maxBatch ?? 256,
    maxTtl: o.maxTtl ?? 6,
    sampleEverySeconds: o.sampleEverySeconds ?? 1,
    horizonSeconds: o.horizonSeconds ?? 60,
    settleSeconds: o.settleSeconds ?? 60,
    windowSeconds: o.windowSeconds ?? 20,
    failureFraction: o.failureFraction ?? 0.3,
    sweepFractions: o.sweepFractions ?? [0.3, 0.5, 0.7],
    kademlia: o.kademlia ?? true,
  };
  if (r.mode !== 'model' && r.mode !== 'real') throw new SimError('BAD_ARGUMENT', `simulate: unknown mode ${String(r.mode)}`);
  if (r.refreshSeconds !== null && !(r.refreshSeconds > 0 && Number.isFinite(r.refreshSeconds))) throw new SimError('BAD_ARGUMENT', 'simulate: refreshSeconds must be null or a positive number');
  for (const k of ['joinSeconds', 'maintenanceSeconds', 'sampleEverySeconds', 'horizonSeconds', 'settleSeconds', 'windowSeconds'] as const) {
    if (!(r[k] > 0) || !Number.isFinite(r[k])) throw new SimError('BAD_ARGUMENT', `simulate: ${k} must be a positive number`);
  }
  if (!(r.failureFraction >= 0 && r.failureFraction <= 1)) throw new SimError('BAD_ARGUMENT', 'simulate: failureFraction must lie in [0, 1]');
  if (!Array.isArray(r.sweepFractions) || r.sweepFractions.some((f) => !(f >= 0 && f <= 1))) throw new SimError('BAD_ARGUMENT', 'simulate: sweepFractions must lie in [0, 1]');
  if (!(r.gossipIntervalSeconds >= 0) || !Number.isFinite(r.gossipIntervalSeconds)) throw new SimError('BAD_ARGUMENT', 'simulate: gossipIntervalSeconds must be a number >= 0');
  if (!Number.isSafeInteger(r.maxBatch) || r.maxBatch < 1) throw new SimError('BAD_ARGUMENT', 'simulate: maxBatch must be a positive integer');
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
    localShare: r.localShare,
    choice,
    ...(ids === undefined ? {} : { ids }),
  };
}

/** The run's independent random streams, drawn in a fixed order from the seed. */
function streams(seed: number) {
  const root = new Rng(seed);
  const topoSeed = root.u32();
  const linkRng = root.fork(2);
  const keyRng = root.fork(3);
  const failRng = root.fork(4);
  return { topoSeed, linkRng, keyRng, failRng };
}

function endOf(r: ReturnType<typeof resolve>): number {
  return Math.round(r.joinSeconds * 1000) + Math.round(1000 * Math.max(r.horizonSeconds, r.settleSeconds + r.windowSeconds));
}

/** The seeded order in which whole regions fail. */
function regionOrder(regions: number, failRng: Rng): number[] {
  const order = Array.from({ length: regions }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = failRng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** Whole regions (a prefix of `order`, about `fraction` of the peers) fail in both topologies. */
function failurePoint(lo: World, kad: World | null, regions: number, fraction: number, order: readonly number[]): SweepPoint & { removedRegions: number[] } {
  const removedRegions = pickRegions(lo.region, regions, fraction, order);
  const gone = new Set(removedRegions);
  let removed = 0;
  for (let p = 0; p < lo.n; p++) if (gone.has(lo.region[p]!)) removed++;
  return {
    degree: lo.o.degree,
    failureFraction: fraction,
    removedFraction: removed / lo.n,
    removedRegions,
    survivorsConnected: survivorsConnected(lo.adj, (p) => gone.has(lo.region[p]!)).fraction,
    // Regions come from the topology seed, so both worlds lose the same peers.
    kademliaSurvivorsConnected: kad === null ? null : survivorsConnected(kad.adj, (p) => gone.has(kad.region[p]!)).fraction,
  };
}

/** A topology grown alone (no gossip) up to endAt. */
function grow(r: ReturnType<typeof resolve>, choice: Choice, topoSeed: number, ids?: Uint8Array[]): World {
  const q = new EventQueue(0);
  const w = new World(worldOptions(r, choice, ids), q, new Rng(topoSeed));
  const endAt = endOf(r);
  w.start(endAt, () => {});
  q.runUntil(endAt);
  return w;
}

/** Runs one simulation; same options and seed → the same report. */
export function simulate(options: SimOptions = {}): SimReport {
  const r = resolve(options);
  const { topoSeed, linkRng, keyRng, failRng } = streams(r.seed);

  const queue = new EventQueue(0);
  const lastJoinMs = Math.round(r.joinSeconds * 1000);
  const endAt = endOf(r);
  const keys = r.mode === 'real' ? makeSigners(r.peers, keyRng) : null;
  const world = new World(worldOptions(r, 'least-overlap', keys?.ids), queue, new Rng(topoSeed));

  let flood: {
    frames: number;
    syncFrames: number;
    digestFrames: number;
    messages: number;
    syncMessages: number;
    fullSyncs: number;
    knownEdges(p: number): number;
    readonly totalEdges: number;
    onLink: (a: number, b: number, now: number) => void;
  };
  const refreshMs = r.refreshSeconds === null ? null : Math.max(1, Math.round(r.refreshSeconds * 1000));
  const gossipIntervalMs = Math.round(r.gossipIntervalSeconds * 1000);
  if (keys !== null) {
    const real = new RealFlood(world, queue, linkRng, keys.signers, { lossRate: r.lossRate, refreshMs, endAt, maxTtl: r.maxTtl, gossipIntervalMs, maxBatch: r.maxBatch });
    real.startSweeps(5_000);
    flood = real;
  } else {
    const maxEdges = Math.ceil((r.peers * (r.degree + r.maxOverflow)) / 2);
    const refreshes = refreshMs === null ? 0 : Math.ceil((2 * maxEdges * endAt) / refreshMs) + 2 * maxEdges;
    const model = new FloodModel(world, queue, linkRng, {
      tickMs: r.tickMs,
      lossRate: r.lossRate,
      refreshMs,
      endAt,
      eventCapacity: 2 * maxEdges + 2 + refreshes,
      gossipIntervalMs,
      maxBatch: r.maxBatch,
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
  const count = () => ({ f: flood.frames, s: flood.syncFrames, d: flood.digestFrames, m: flood.messages, sm: flood.syncMessages, full: flood.fullSyncs, links: world.edges });
  const at0 = count();
  queue.runUntil(windowEnd);
  const at1 = count();
  queue.runUntil(endAt);
  if (secondsTo99 !== null && secondsTo99 > r.horizonSeconds) secondsTo99 = null;

  // Correlated failure: whole regions, in a seeded order, about failureFraction of the peers.
  const order = regionOrder(r.regions, failRng);
  const kw = r.kademlia ? grow(r, 'kademlia', topoSeed, keys?.ids) : null;
  const headline = failurePoint(world, kw, r.regions, r.failureFraction, order);
  const failureSweep = r.sweepFractions.map((f) => {
    const { removedRegions: _, ...point } = failurePoint(world, kw, r.regions, f, order);
    return point;
  });
  const kademlia: SimReport['kademlia'] =
    kw === null
      ? null
      : {
          edges: kw.edges,
          degree: stats(kw.adj.map((l) => l.length)),
          overlap: overlapStats(kw.adj),
          survivorsConnected: headline.kademliaSurvivorsConnected!,
        };

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
    msgsPerPeerPerSec: perPeer(at1.m - at0.m + (at1.sm - at0.sm) + (at1.d - at0.d)),
    gossipMsgsPerPeerPerSec: perPeer(at1.m - at0.m),
    catchUpMsgsPerPeerPerSec: perPeer(at1.sm - at0.sm),
    digestPerPeerPerSec: perPeer(at1.d - at0.d),
    framesPerPeerPerSec: perPeer(at1.f - at0.f + (at1.s - at0.s)),
    gossipPerPeerPerSec: perPeer(at1.f - at0.f),
    catchUpPerPeerPerSec: perPeer(at1.s - at0.s),
    steadyLinks: at1.links - at0.links,
    steadyFullSyncs: at1.full - at0.full,
    catchUpFramesPerLink: world.edges === 0 ? 0 : flood.syncFrames / world.edges,
    fullSyncShare: world.edges === 0 ? 0 : flood.fullSyncs / world.edges,
    degree: stats(world.adj.map((l) => l.length)),
    overlap: overlapStats(world.adj),
    removedFraction: headline.removedFraction,
    removedRegions: headline.removedRegions,
    survivorsConnected: headline.survivorsConnected,
    kademlia,
    failureSweep,
  };
}

export interface SweepOptions extends SimOptions {
  /** Degrees to grow both topologies at (default [4, 6, 12]). */
  readonly degrees?: readonly number[];
  /** Shares of peers removed by region (default [0.3, 0.5, 0.7]). */
  readonly fractions?: readonly number[];
}

export interface SweepPoint {
  readonly degree: number;
  readonly failureFraction: number;
  readonly removedFraction: number;
  readonly survivorsConnected: number;
  /** null when the Kademlia network was not grown. */
  readonly kademliaSurvivorsConnected: number | null;
}

/**
 * The correlated-failure experiment alone, over degrees and failure shares:
 * both topologies grown as in simulate() (same seed, streams and region
 * order, so degree 12 at 0.3 matches simulate's headline), no gossip.
 */
export function failureSweep(options: SweepOptions = {}): SweepPoint[] {
  if (typeof options !== 'object' || options === null) throw new SimError('BAD_ARGUMENT', 'failureSweep: options must be an object');
  const degrees = options.degrees ?? [4, 6, 12];
  const fractions = options.fractions ?? [0.3, 0.5, 0.7];
  if (!Array.isArray(degrees) || degrees.length === 0 || degrees.some((d) => !Number.isSafeInteger(d) || d < 2)) throw new SimError('BAD_ARGUMENT', 'failureSweep: degrees must be integers >= 2');
  if (!Array.isArray(fractions) || fractions.length === 0 || fractions.some((f) => !(f >= 0 && f <= 1))) throw new SimError('BAD_ARGUMENT', 'failureSweep: fractions must lie in [0, 1]');
  const out: SweepPoint[] = [];
  for (const degree of degrees) {
    const r = resolve({ ...options, degree });
    if (r.mode !== 'model') throw new SimError('BAD_ARGUMENT', 'failureSweep: topology only; mode must be model');
    const { topoSeed, failRng } = streams(r.seed);
    const order = regionOrder(r.regions, failRng);
    const lo = grow(r, 'least-overlap', topoSeed);
    const kad = grow(r, 'kademlia', topoSeed);
    for (const f of fractions) {
      const { removedRegions: _, ...point } = failurePoint(lo, kad, r.regions, f, order);
      out.push(point);
    }
  }
  return out;
}
