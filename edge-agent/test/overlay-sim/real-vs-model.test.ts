import test from 'ava';
import { simulate, type SimOptions } from '../../src/overlay-sim/index.js';

// Real GossipCore instances (real signatures, stub verify) against the modelled
// flood on the same topology: they must tell the same convergence story.
const opts: SimOptions = {
  peers: 40,
  degree: 8,
  joinSeconds: 10,
  horizonSeconds: 10,
  settleSeconds: 3,
  windowSeconds: 7,
  refreshSeconds: 20,
  lossRate: 0,
  kademlia: false,
  seed: 3,
};

test('real cores and the modelled flood agree at small size', (t) => {
  const real = simulate({ ...opts, mode: 'real' });
  const model = simulate({ ...opts, mode: 'model' });
  t.is(real.edges, model.edges);
  t.deepEqual(real.degree, model.degree);
  t.is(real.curve.length, model.curve.length);
  for (let i = 0; i < real.curve.length; i++) {
    const a = real.curve[i]!;
    const b = model.curve[i]!;
    t.is(a.joined, b.joined);
    t.true(Math.abs(a.mean - b.mean) <= 0.05, `t=${a.t}: mean ${a.mean} vs ${b.mean}`);
  }
  t.is(real.curve[real.curve.length - 1]!.min, 1);
  t.is(model.curve[model.curve.length - 1]!.min, 1);
  t.not(real.secondsTo99, null);
  t.not(model.secondsTo99, null);
  t.true(Math.abs(real.secondsTo99! - model.secondsTo99!) <= 1);
  // Same flood rule, so steady-state gossip per peer is close (the model rounds latency to ticks).
  t.true(Math.abs(real.gossipPerPeerPerSec - model.gossipPerPeerPerSec) <= 0.1 * real.gossipPerPeerPerSec, `${real.gossipPerPeerPerSec} vs ${model.gossipPerPeerPerSec}`);
});

test('real mode with loss still converges', (t) => {
  const r = simulate({ ...opts, peers: 30, lossRate: 0.1, mode: 'real' });
  t.true(r.curve[r.curve.length - 1]!.min >= 0.99);
});
