/**
 * The overlay simulator (issue 6, items 6 and 8): PEERS peers join over 200
 * simulated seconds. Default 2,000, which takes about 100 s; the issue's
 * 10,000 (PEERS=10000) ran over 27 minutes without finishing, because the modelled flood
 * costs grow with peers × events, i.e. N²; convergence, steady-state traffic,
 * and the correlated-failure experiment against a Kademlia-style choice. The
 * figures come from the modelled flood (docs/overlay-sim.md); MODE=real runs
 * real GossipCore instances instead (small PEERS only).
 */
import { simulate, type SimMode } from '../edge-agent/src/overlay-sim/index.js';
import type { BenchResult } from './run.js';
import { round } from './lib/measure.js';

export default async function bench(): Promise<BenchResult> {
  const peers = Number(process.env['PEERS'] ?? 2_000);
  const mode = (process.env['MODE'] ?? 'model') as SimMode;
  const tickMs = Number(process.env['TICK_MS'] ?? 50);
  const started = performance.now();
  const r = simulate({ peers, mode, tickMs, seed: Number(process.env['SEED'] ?? 1) });
  const wallSeconds = (performance.now() - started) / 1000;
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
    wallSeconds: round(wallSeconds, 1),
    edges: r.edges,
    gossipPerPeerPerSec: round(r.gossipPerPeerPerSec, 2),
    catchUpPerPeerPerSec: round(r.catchUpPerPeerPerSec, 2),
    catchUpFramesPerLink: round(r.catchUpFramesPerLink, 1),
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
    curve: { columns: 't,joined,min,median,mean', points: curve },
  };
}
