import test from 'ava';
import { SimError, failureSweep, simulate, type SimOptions, type SimReport } from '../../src/overlay-sim/index.js';

const small: SimOptions = {
  peers: 150,
  joinSeconds: 15,
  horizonSeconds: 20,
  settleSeconds: 5,
  windowSeconds: 10,
  kademlia: false,
};

/** Knowledge missing, summed over the samples up to the last join: what loss should increase. */
function deficit(r: SimReport): number {
  return r.curve.filter((c) => c.t <= r.lastJoinSeconds).reduce((s, c) => s + (1 - c.mean), 0);
}

test('the same seed gives the same report, another seed another', (t) => {
  const a = simulate({ ...small, seed: 7, kademlia: true });
  const b = simulate({ ...small, seed: 7, kademlia: true });
  t.deepEqual(a, b);
  const c = simulate({ ...small, seed: 8, kademlia: true });
  t.notDeepEqual(a.curve, c.curve);
});

test('without loss a small run converges to the whole map', (t) => {
  // Unpaced, a flood crosses the map in well under a second; paced, each hop may wait up to one gossip interval.
  const fast = simulate({ ...small, peers: 200, lossRate: 0, gossipIntervalSeconds: 0 });
  const paced = simulate({ ...small, peers: 200, lossRate: 0 });
  for (const r of [fast, paced]) {
    const last = r.curve[r.curve.length - 1]!;
    t.is(last.joined, 200);
    t.is(last.min, 1);
    t.not(r.secondsTo99, null);
    t.true(r.edges > 200 * 5);
  }
  t.true(fast.secondsTo99! <= 2, String(fast.secondsTo99));
  t.true(paced.secondsTo99! <= 10, String(paced.secondsTo99));
});

test('pacing bounds gossip messages per peer at one batch per neighbour per interval, whatever the event rate', (t) => {
  // Re-announcing every 20 s: many events per interval, yet fewer than one batch (256) holds.
  const o = { ...small, lossRate: 0, refreshSeconds: 20 };
  const unpaced = simulate({ ...o, gossipIntervalSeconds: 0 });
  const paced = simulate({ ...o, gossipIntervalSeconds: 2 });
  const maxDegree = 12 + 2;
  // At most window/interval + 1 batches fall in the window (one may sit on each edge of it).
  const window = small.windowSeconds!;
  t.true(paced.gossipMsgsPerPeerPerSec <= (maxDegree * (window / 2 + 1)) / window, String(paced.gossipMsgsPerPeerPerSec));
  t.true(unpaced.gossipMsgsPerPeerPerSec > 3 * paced.gossipMsgsPerPeerPerSec, `${unpaced.gossipMsgsPerPeerPerSec} vs ${paced.gossipMsgsPerPeerPerSec}`);
  // The same events still reach everyone: frames (event deliveries) stay of the same order.
  t.true(paced.framesPerPeerPerSec > 0.5 * unpaced.framesPerPeerPerSec, `${paced.framesPerPeerPerSec} vs ${unpaced.framesPerPeerPerSec}`);
  t.is(paced.curve[paced.curve.length - 1]!.min, 1);
});

test('steady traffic: without refresh only new links cost frames; each new link sends two digests', (t) => {
  const quiet = simulate({ ...small, lossRate: 0 });
  const seconds = small.windowSeconds!;
  const peers = small.peers!;
  // Two digest frames per link made in the window, whether or not the full exchange followed.
  t.true(Math.abs(quiet.digestPerPeerPerSec * seconds * peers - 2 * quiet.steadyLinks) < 1e-6, `${quiet.digestPerPeerPerSec} for ${quiet.steadyLinks} links`);
  t.true(quiet.steadyFullSyncs <= quiet.steadyLinks);
  if (quiet.steadyLinks === 0) t.is(quiet.msgsPerPeerPerSec, 0);
  else t.true(quiet.gossipPerPeerPerSec > 0 && quiet.gossipMsgsPerPeerPerSec > 0);
  if (quiet.steadyFullSyncs === 0) t.is(quiet.catchUpPerPeerPerSec, 0);
  t.true(Math.abs(quiet.msgsPerPeerPerSec - (quiet.gossipMsgsPerPeerPerSec + quiet.catchUpMsgsPerPeerPerSec + quiet.digestPerPeerPerSec)) < 1e-9);
  t.true(Math.abs(quiet.framesPerPeerPerSec - (quiet.gossipPerPeerPerSec + quiet.catchUpPerPeerPerSec)) < 1e-9);
  // A batch carries one event or more.
  t.true(quiet.gossipMsgsPerPeerPerSec <= quiet.gossipPerPeerPerSec);
  // Re-announcing every 30 s floods every link again: far more steady gossip.
  const refreshed = simulate({ ...small, lossRate: 0, refreshSeconds: 30 });
  t.is(refreshed.edges, quiet.edges);
  t.true(refreshed.gossipPerPeerPerSec > quiet.gossipPerPeerPerSec + 10, `${refreshed.gossipPerPeerPerSec} vs ${quiet.gossipPerPeerPerSec}`);
  t.true(quiet.fullSyncShare > 0 && quiet.fullSyncShare <= 1);
});

test('loss slows convergence but does not stop it', (t) => {
  const clean = simulate({ ...small, lossRate: 0 });
  const lossy = simulate({ ...small, lossRate: 0.3 });
  t.true(deficit(lossy) > deficit(clean), `deficit ${deficit(lossy)} vs ${deficit(clean)}`);
  t.not(lossy.secondsTo99, null);
  t.true(lossy.curve[lossy.curve.length - 1]!.min >= 0.99);
});

test('the report carries the failure experiment for both choices', (t) => {
  const r = simulate({ ...small, kademlia: true });
  t.true(r.removedFraction > 0.15 && r.removedFraction < 0.45, String(r.removedFraction));
  t.true(r.removedRegions.length > 0);
  t.true(r.survivorsConnected > 0 && r.survivorsConnected <= 1);
  t.not(r.kademlia, null);
  t.true(r.kademlia!.survivorsConnected > 0 && r.kademlia!.survivorsConnected <= 1);
  t.true(r.overlap.mean >= 0 && r.overlap.mean <= 1);
});

test('failureSweep repeats the failure experiment over degrees and shares, matching simulate at its setting', (t) => {
  const base = { ...small, kademlia: true, seed: 5 };
  const r = simulate(base);
  const points = failureSweep({ ...base, degrees: [4, 12], fractions: [0.3, 0.7] });
  t.deepEqual(points.map((p) => [p.degree, p.failureFraction]), [[4, 0.3], [4, 0.7], [12, 0.3], [12, 0.7]]);
  const headline = points[2]!;
  t.is(headline.removedFraction, r.removedFraction);
  t.is(headline.survivorsConnected, r.survivorsConnected);
  t.is(headline.kademliaSurvivorsConnected, r.kademlia!.survivorsConnected);
  // simulate's own sweep (same topologies, default shares 0.3, 0.5, 0.7) gives the same points at degree 12.
  t.deepEqual(r.failureSweep.filter((p) => p.failureFraction !== 0.5), points.slice(2));
  for (const p of points) {
    t.true(p.survivorsConnected > 0 && p.survivorsConnected <= 1);
    t.true(p.kademliaSurvivorsConnected! > 0 && p.kademliaSurvivorsConnected! <= 1);
  }
  t.true(points[1]!.removedFraction > points[0]!.removedFraction);
  t.throws(() => failureSweep({ ...base, degrees: [1] }), { instanceOf: SimError });
  t.throws(() => failureSweep({ ...base, fractions: [1.5] }), { instanceOf: SimError });
});

test('bad options throw SimError', (t) => {
  t.throws(() => simulate({ peers: 1 }), { instanceOf: SimError });
  t.throws(() => simulate({ ...small, mode: 'fast' as never }), { instanceOf: SimError });
  t.throws(() => simulate({ ...small, lossRate: 1 }), { instanceOf: SimError });
  t.throws(() => simulate({ ...small, windowSeconds: 0 }), { instanceOf: SimError });
  t.throws(() => simulate({ ...small, refreshSeconds: 0 }), { instanceOf: SimError });
});
