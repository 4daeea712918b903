import test from 'ava';
import { EventQueue, Rng, SimError, linkLatencyMs, overlapStats, pickRegions, survivorsConnected } from '../../src/overlay-sim/index.js';

test('Rng is deterministic per seed and stays in range', (t) => {
  const a = new Rng(42);
  const b = new Rng(42);
  const xs = Array.from({ length: 100 }, () => a.next());
  t.deepEqual(xs, Array.from({ length: 100 }, () => b.next()));
  t.true(xs.every((x) => x >= 0 && x < 1));
  t.notDeepEqual(xs, Array.from({ length: 100 }, () => new Rng(43).next()));
  t.throws(() => new Rng(1.5), { instanceOf: SimError });
  t.throws(() => a.int(0), { instanceOf: SimError });
});

test('EventQueue runs actions by time, then by scheduling order', (t) => {
  const q = new EventQueue(0);
  const seen: string[] = [];
  q.at(10, () => seen.push('b'));
  q.at(5, () => seen.push('a'));
  q.at(10, () => {
    seen.push('c');
    q.setTimer(0, () => seen.push('d'));
  });
  const cancelled = q.at(7, () => seen.push('x'));
  cancelled.cancel();
  q.runUntil(9);
  t.deepEqual(seen, ['a']);
  t.is(q.now(), 9);
  q.runUntil(100);
  t.deepEqual(seen, ['a', 'b', 'c', 'd']);
  t.throws(() => q.at(50, () => {}), { instanceOf: SimError });
  t.throws(() => q.setTimer(-1, () => {}), { instanceOf: SimError });
});

test('survivorsConnected on a hand-built network', (t) => {
  // Two triangles {0,1,2} and {4,5,6} joined only through 3.
  const lists = [[1, 2], [0, 2], [0, 1, 3], [2, 4], [3, 5, 6], [4, 6], [4, 5]];
  t.deepEqual(survivorsConnected(lists, () => false), { survivors: 7, largest: 7, fraction: 1 });
  // Remove the bridge: 6 survivors, halves of 3.
  t.deepEqual(survivorsConnected(lists, (p) => p === 3), { survivors: 6, largest: 3, fraction: 0.5 });
  // Remove one triangle and the bridge: the other triangle is all that is left, connected.
  t.is(survivorsConnected(lists, (p) => p <= 3).fraction, 1);
  t.is(survivorsConnected(lists, () => true).fraction, 1);
});

test('pickRegions takes whole regions, nearest the target share', (t) => {
  const region = Uint8Array.from([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  t.deepEqual(pickRegions(region, 5, 0.3, [2, 0, 4, 1, 3]), [2]); // 0.2 and 0.4 are equally near 0.3: stop at the smaller
  t.deepEqual(pickRegions(region, 5, 0.4, [2, 0, 4, 1, 3]), [2, 0]);
  t.deepEqual(pickRegions(region, 5, 0, [2, 0, 4, 1, 3]), []);
  t.throws(() => pickRegions(region, 5, 2, [0]), { instanceOf: SimError });
});

test('overlap statistics: a clique overlaps, a ring does not', (t) => {
  const clique = [[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]];
  t.true(overlapStats(clique).mean > 0.9);
  const ring = Array.from({ length: 12 }, (_, i) => [(i + 11) % 12, (i + 1) % 12]);
  t.is(overlapStats(ring).mean, 0);
});

test('link latency grows with region distance', (t) => {
  t.is(linkLatencyMs(3, 3, 10, 0), 20);
  t.is(linkLatencyMs(0, 5, 10, 0), 120);
  t.is(linkLatencyMs(0, 9, 10, 0), linkLatencyMs(0, 1, 10, 0));
});
