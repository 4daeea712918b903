import test from 'ava';
import { simulate, type SimOptions } from '../../src/overlay-sim/index.js';

// Real GossipCore instances (real signatures, stub verify) against the modelled
// flood on the same topology: they must tell the same convergence story
// (both pace gossip into batches every 2 s by default).
const opts: SimOptions = {
  peers: 40,
  degree: 8,
  joinSeconds: 40,
  horizonSeconds: 10,
  settleSeconds: 3,
  windowSeconds: 7,
  lossRate: 0,
  kademlia: false,
  seed: 3,
};

test('real cores and the modelled flood agree at small size (only changes flooded, digest-first catch-up)', (t) => {
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
  // Some links find equal digests and skip the full exchange; both modes must see about the same ones.
  t.true(real.fullSyncShare < 1, String(real.fullSyncShare));
  t.true(Math.abs(real.fullSyncShare - model.fullSyncShare) <= 0.03, `${real.fullSyncShare} vs ${model.fullSyncShare}`);
  t.true(Math.abs(real.catchUpFramesPerLink - model.catchUpFramesPerLink) <= 0.1 * real.catchUpFramesPerLink, `${real.catchUpFramesPerLink} vs ${model.catchUpFramesPerLink}`);
  // Both pace gossip into batches the same way: messages per peer agree too.
  t.true(real.msgsPerPeerPerSec > 0);
  t.true(Math.abs(real.msgsPerPeerPerSec - model.msgsPerPeerPerSec) <= 0.1 * real.msgsPerPeerPerSec, `${real.msgsPerPeerPerSec} vs ${model.msgsPerPeerPerSec}`);
});

test('with periodic re-announcement (an experiment option) steady gossip per peer agrees too', (t) => {
  const o = { ...opts, joinSeconds: 10, refreshSeconds: 20 };
  const real = simulate({ ...o, mode: 'real' });
  const model = simulate({ ...o, mode: 'model' });
  t.true(real.gossipPerPeerPerSec > 0);
  // Same flood rule, so steady-state gossip per peer is close (the model rounds latency to ticks).
  t.true(Math.abs(real.gossipPerPeerPerSec - model.gossipPerPeerPerSec) <= 0.1 * real.gossipPerPeerPerSec, `${real.gossipPerPeerPerSec} vs ${model.gossipPerPeerPerSec}`);
  t.true(Math.abs(real.catchUpFramesPerLink - model.catchUpFramesPerLink) <= 0.1 * real.catchUpFramesPerLink, `${real.catchUpFramesPerLink} vs ${model.catchUpFramesPerLink}`);
});

test('real mode with loss still converges', (t) => {
  const r = simulate({ ...opts, joinSeconds: 10, peers: 30, lossRate: 0.1, mode: 'real' });
  t.true(r.curve[r.curve.length - 1]!.min >= 0.99);
});
