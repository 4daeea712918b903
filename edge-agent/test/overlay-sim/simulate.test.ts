import test from 'ava';
import { SimError, simulate, type SimOptions, type SimReport } from '../../src/overlay-sim/index.js';

const small: SimOptions = {
  peers: 150,
  joinSeconds: 15,
  horizonSeconds: 20,
  settleSeconds: 5,
  windowSeconds: 10,
  refreshSeconds: 30,
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
  const r = simulate({ ...small, peers: 200, lossRate: 0 });
  const last = r.curve[r.curve.length - 1]!;
  t.is(last.joined, 200);
  t.is(last.min, 1);
  t.not(r.secondsTo99, null);
  t.true(r.secondsTo99! <= 2);
  t.true(r.edges > 200 * 5);
  t.true(r.msgsPerPeerPerSec > 0);
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

test('bad options throw SimError', (t) => {
  t.throws(() => simulate({ peers: 1 }), { instanceOf: SimError });
  t.throws(() => simulate({ ...small, mode: 'fast' as never }), { instanceOf: SimError });
  t.throws(() => simulate({ ...small, lossRate: 1 }), { instanceOf: SimError });
  t.throws(() => simulate({ ...small, windowSeconds: 0 }), { instanceOf: SimError });
});
