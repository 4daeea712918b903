/**
 * The overlay simulator (issue 6, items 6 and 8): PEERS peers join over 200
 * simulated seconds. Default 2,000 (about 1 minute, plus about 1 minute of
 * sweep); the PEERS=10000 finishes in about 16 minutes (13.5 + 2.2 of sweep) on the shared
 * 2-core machine (docs/overlay-sim.md has the figures). Convergence, steady-state traffic, and the
 * correlated-failure experiment against a Kademlia-style choice. The protocol
 * floods only changes (no periodic re-announcement; REFRESH_SECONDS turns one
 * on for experiments) and catches up digest-first. Gossip is paced as the
 * agent paces it (GOSSIP_INTERVAL_SECONDS, default 2: one batch per neighbour
 * per interval); msgsPerPeerPerSec counts messages, framesPerPeerPerSec the
 * events they carry. LOCAL_SHARE (default 0) draws that share of each dial's
 * candidates from the dialler's own region. Besides the headline (30 %
 * of the peers lost by region, at degree 12) it reports a failure sweep: the
 * run's own topologies at 30/50/70 %, and fresh topologies (no gossip) at
 * SWEEP_DEGREES (default 4,6; empty to skip). The figures come from the
 * modelled flood (docs/overlay-sim.md); MODE=real runs real GossipCore
 * instances instead (small PEERS only). Wall times are in docs/overlay-sim.md.
 */
import { failureSweep, simulate, type SimMode, type SweepPoint } from '../edge-agent/src/overlay-sim/index.js';
import type { BenchResult } from './run.js';
import { round } from './lib/measure.js';

const FRACTIONS = [0.3, 0.5, 0.7];

export default async function bench(): Promise<BenchResult> {
  const peers = Number(process.env['PEERS'] ?? 2_000);
  const mode = (process.env['MODE'] ?? 'model') as SimMode;
  const tickMs = Number(process.env['TICK_MS'] ?? 50);
  const seed = Number(process.env['SEED'] ?? 1);
  const refresh = process.env['REFRESH_SECONDS'];
  const refreshSeconds = refresh === undefined || refresh === '' ? null : Number(refresh);
  const gossipIntervalSeconds = Number(process.env['GOSSIP_INTERVAL_SECONDS'] ?? 2);
  const localShare = Number(process.env['LOCAL_SHARE'] ?? 0);
  const sweepDegrees = (process.env['SWEEP_DEGREES'] ?? '4,6')
    .split(',')
    .filter((d) => d.trim() !== '')
    .map(Number);
  const started = performance.now();
  const r = simulate({ peers, mode, tickMs, seed, refreshSeconds, gossipIntervalSeconds, localShare, sweepFractions: FRACTIONS });
  const wallSeconds = (performance.now() - started) / 1000;
  const sweepStarted = performance.now();
  const extra = sweepDegrees.length === 0 ? [] : failureSweep({ peers, seed, localShare, degrees: sweepDegrees, fractions: FRACTIONS });
  const sweepWallSeconds = (performance.now() - sweepStarted) / 1000;
  const row = (p: SweepPoint): number[] => [
    p.degree,
    p.failureFraction,
    round(p.removedFraction, 4),
    round(p.survivorsConnected, 4),
    p.kademliaSurvivorsConnected === null ? -1 : round(p.kademliaSurvivorsConnected, 4),
  ];
  // A few points of the curve: every 20 s, and each second for the 5 s after the last join.
  const curve = r.curve
    .filter((c) => Math.round(c.t) % 20 === 0 || (c.t > r.lastJoinSeconds && c.t <= r.lastJoinSeconds + 5))
    .map((c) => [c.t, c.joined, round(c.min, 4), round(c.median, 4), round(c.mean, 4)]);
  return {
    peers: r.peers,
    secondsTo99: r.secondsTo99,
    msgsPerPeerPerSec: round(r.msgsPerPeerPerSec, 2),
    survivorsConnected: round(r.survivorsConnected, 4),
    kademliaSurvivorsConnected: r.kademlia === null ? null : round(r.kademlia.survivorsConnected, 4),
    mode: r.mode,
    tickMs,
    refreshSeconds,
    gossipIntervalSeconds,
    localShare,
    wallSeconds: round(wallSeconds, 1),
    sweepWallSeconds: round(sweepWallSeconds, 1),
    edges: r.edges,
    gossipMsgsPerPeerPerSec: round(r.gossipMsgsPerPeerPerSec, 2),
    catchUpMsgsPerPeerPerSec: round(r.catchUpMsgsPerPeerPerSec, 2),
    digestPerPeerPerSec: round(r.digestPerPeerPerSec, 4),
    framesPerPeerPerSec: round(r.framesPerPeerPerSec, 2),
    gossipFramesPerPeerPerSec: round(r.gossipPerPeerPerSec, 2),
    catchUpFramesPerPeerPerSec: round(r.catchUpPerPeerPerSec, 2),
    steadyLinks: r.steadyLinks,
    steadyFullSyncs: r.steadyFullSyncs,
    catchUpFramesPerLink: round(r.catchUpFramesPerLink, 1),
    fullSyncShare: round(r.fullSyncShare, 4),
    removedFraction: round(r.removedFraction, 4),
    degree: { ...r.degree },
    overlap: { mean: round(r.overlap.mean, 4), p50: round(r.overlap.p50, 4), p90: round(r.overlap.p90, 4), max: round(r.overlap.max, 4) },
    kademlia:
      r.kademlia === null
        ? null
        : {
            edges: r.kademlia.edges,
            overlap: { mean: round(r.kademlia.overlap.mean, 4), p50: round(r.kademlia.overlap.p50, 4), p90: round(r.kademlia.overlap.p90, 4), max: round(r.kademlia.overlap.max, 4) },
          },
    // kademlia -1: not grown (kademlia off).
    failureSweep: { columns: 'degree,failureFraction,removedFraction,leastOverlap,kademlia', points: [...extra, ...r.failureSweep].map(row) },
    curve: { columns: 't,joined,min,median,mean', points: curve },
  };
}
