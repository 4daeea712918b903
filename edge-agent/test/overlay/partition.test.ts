import test from 'ava';
import fc from 'fast-check';
import { graphFromLists, type PeerGraph } from '../../src/overlay/neighbours.js';
import { components, neighbourhoodOverlap, PartitionWatch, type ComponentSummary } from '../../src/overlay/partition.js';
import { PolicyError } from '../../src/overlay/policy-errors.js';

/** A seeded xorshift so the random graphs are the same on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

/** n peers, each listing `degree` random others (directed lists, as a peer map holds them). */
function randomFlatGraph(n: number, degree: number, seed: number): PeerGraph {
  const r = rng(seed);
  const flat = new Int32Array(n * degree);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < degree; k++) {
      let x = Math.floor(r() * n);
      if (x === i) x = (x + 1) % n;
      flat[i * degree + k] = x;
    }
  }
  return {
    neighboursOf: (p) => flat.subarray(p * degree, (p + 1) * degree),
    *peers() {
      for (let i = 0; i < n; i++) yield i;
    },
  };
}

/** Brute-force reference: BFS over the undirected edges among present peers. */
function bfsComponents(lists: number[][], present: boolean[]): number[][] {
  const adj = lists.map(() => new Set<number>());
  lists.forEach((l, a) => {
    if (!present[a]) return;
    for (const b of l) if (present[b]) (adj[a]!.add(b), adj[b]!.add(a));
  });
  const seen = new Array<boolean>(lists.length).fill(false);
  const out: number[][] = [];
  for (let s = 0; s < lists.length; s++) {
    if (!present[s] || seen[s]) continue;
    const comp: number[] = [];
    const queue = [s];
    seen[s] = true;
    while (queue.length > 0) {
      const x = queue.shift()!;
      comp.push(x);
      for (const y of adj[x]!) if (!seen[y]) (seen[y] = true, queue.push(y));
    }
    out.push(comp.sort((a, b) => a - b));
  }
  return out;
}

test('components of a known map: two groups, an isolated peer, an empty slot, a stale edge', (t) => {
  // slots: 0-1-2 (via directed lists), 3-4, 5 isolated, 6 holds no peer (4 lists it: stale).
  const lists = [[1], [], [1], [4], [3, 6], [], []];
  const g: PeerGraph = { neighboursOf: (p) => lists[p] ?? [], peers: () => [0, 1, 2, 3, 4, 5] };
  const c = components(g, 7);
  t.deepEqual([...c.componentOf], [0, 0, 0, 1, 1, 2, -1]);
  t.deepEqual([...c.sizes], [3, 2, 1]);
  t.is(c.count, 3);
  t.is(c.largest, 3);
  t.is(c.largestId, 0);
  t.is(c.peers, 6);
  const empty = components(graphFromLists([]), 0);
  t.is(empty.count, 0);
  t.is(empty.largestId, -1);
});

test('components rejects a broken graph and bad sizes', (t) => {
  t.is(t.throws(() => components(graphFromLists([[1], [0]]), 1), { instanceOf: PolicyError })?.code, 'BAD_GRAPH');
  t.is(t.throws(() => components(graphFromLists([]), -1), { instanceOf: PolicyError })?.code, 'BAD_ARGUMENT');
  t.is(t.throws(() => components({} as PeerGraph, 1), { instanceOf: PolicyError })?.code, 'BAD_ARGUMENT');
});

test('property: components agree with a brute-force BFS', (t) => {
  const arb = fc.integer({ min: 0, max: 40 }).chain((n) =>
    fc.record({
      lists: fc.array(fc.array(fc.integer({ min: 0, max: Math.max(0, n - 1) }), { maxLength: 4 }), { minLength: n, maxLength: n }),
      present: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    }),
  );
  fc.assert(
    fc.property(arb, ({ lists, present }) => {
      const g: PeerGraph = { neighboursOf: (p) => lists[p] ?? [], peers: () => present.flatMap((ok, i) => (ok ? [i] : [])) };
      const c = components(g, lists.length);
      const ref = bfsComponents(lists, present);
      if (c.count !== ref.length) return false;
      // Ids are numbered by lowest slot, as the reference's order is.
      for (let id = 0; id < ref.length; id++) {
        if (c.sizes[id] !== ref[id]!.length) return false;
        for (const s of ref[id]!) if (c.componentOf[s] !== id) return false;
      }
      const largest = Math.max(0, ...ref.map((r) => r.length));
      return c.largest === largest && c.peers === present.filter(Boolean).length;
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('components at 100k peers x 12 neighbours (timing logged, not asserted)', (t) => {
  const n = 100_000;
  const g = randomFlatGraph(n, 12, 12345);
  components(g, n); // warm-up
  const runs = 5;
  const start = process.hrtime.bigint();
  let c: ComponentSummary | undefined;
  for (let i = 0; i < runs; i++) c = components(g, n);
  const ms = Number(process.hrtime.bigint() - start) / 1e6 / runs;
  t.log(`components(100k peers x 12): ${ms.toFixed(1)} ms per run (mean of ${runs})`);
  t.is(c!.count, 1);
  t.is(c!.largest, n);
});

function ring(n: number, cut: ReadonlySet<number> = new Set()): PeerGraph {
  // Peer i lists i+1; edges starting at a slot in `cut` are missing.
  return graphFromLists(Array.from({ length: n }, (_, i) => (cut.has(i) ? [] : [(i + 1) % n])));
}

test('PartitionWatch: cut on a split, no flapping in between, healed when whole again', (t) => {
  const w = new PartitionWatch({ cutBelow: 0.9, healAbove: 0.95, minSplitSize: 4 });
  t.deepEqual(w.observeComponents(components(ring(100), 100), 0), []);
  // One isolated peer (ring cut at two adjacent edges): churn, not a cut.
  t.deepEqual(w.observeComponents(components(ring(100, new Set([9, 10])), 100), 1), []);
  // Cut into halves.
  const split = w.observeComponents(components(ring(100, new Set([0, 50])), 100), 2);
  t.deepEqual(split, [{ kind: 'cut', at: 2, largestFraction: 0.5, components: 2 }]);
  t.true(w.cut);
  t.deepEqual(w.observeComponents(components(ring(100, new Set([0, 50])), 100), 3), []);
  // Splits further: reported again.
  const more = w.observeComponents(components(ring(100, new Set([0, 25, 50])), 100), 4);
  t.is(more.length, 1);
  t.is(more[0]!.kind, 'cut');
  // Mostly healed, but a 7-peer island remains: still cut, no event.
  t.deepEqual(w.observeComponents(components(ring(100, new Set([0, 7])), 100), 5), []);
  const healed = w.observeComponents(components(ring(100), 100), 6);
  t.deepEqual(healed, [{ kind: 'healed', at: 6, largestFraction: 1, components: 1 }]);
  t.false(w.cut);
});

test('PartitionWatch: largest fraction between the thresholds keeps the state (hysteresis)', (t) => {
  const w = new PartitionWatch({ cutBelow: 0.9, healAbove: 0.95, minSplitSize: 1000 });
  const summary = (largest: number) => ({ sizes: Uint32Array.of(largest, 100 - largest), largest, peers: 100 });
  t.deepEqual(w.observeComponents(summary(92), 0), []);
  t.is(w.observeComponents(summary(85), 1)[0]?.kind, 'cut');
  t.deepEqual(w.observeComponents(summary(92), 2), []);
  t.deepEqual(w.observeComponents(summary(89), 3), []);
  t.is(w.observeComponents(summary(96), 4)[0]?.kind, 'healed');
  t.deepEqual(w.observeComponents(summary(92), 5), []);
});

test('eclipse suspected on a uniform neighbourhood, not on a random one; clears with hysteresis', (t) => {
  // me = 0 with neighbours 1..8 that all know each other: an eclipse from the inside.
  const clique = graphFromLists(
    Array.from({ length: 20 }, (_, i) => (i === 0 ? [1, 2, 3, 4, 5, 6, 7, 8] : i <= 8 ? [0, 1, 2, 3, 4, 5, 6, 7, 8].filter((x) => x !== i) : [])),
  );
  const mine = [1, 2, 3, 4, 5, 6, 7, 8];
  t.is(neighbourhoodOverlap(0, mine, clique), 1);
  const w = new PartitionWatch();
  const ev = w.observeNeighbourhood(0, mine, clique, 10);
  t.is(ev.length, 1);
  t.like(ev[0], { kind: 'eclipse-suspected', at: 10, peer: 0, overlap: 1 });
  t.true(w.isEclipsed(0));
  t.deepEqual(w.observeNeighbourhood(0, mine, clique, 11), []);

  const random = randomFlatGraph(2000, 12, 99);
  const myRandom = Array.from(random.neighboursOf(0));
  const o = neighbourhoodOverlap(0, myRandom, random);
  t.true(o < 0.05, `random overlap ${o}`);
  const fresh = new PartitionWatch();
  t.deepEqual(fresh.observeNeighbourhood(0, myRandom, random, 0), []);
  t.false(fresh.isEclipsed(0));

  // Half-uniform (overlap between the thresholds) keeps the suspicion; random clears it.
  const half = graphFromLists([[1, 2, 3], [0, 2, 3, 9], [0, 1, 3, 10], [0, 1, 2, 11], [], [], [], [], [], [], [], [], []]);
  const mid = neighbourhoodOverlap(0, [1, 2, 3], half);
  t.true(mid > 0.25 && mid < 0.5, `mid overlap ${mid}`);
  t.deepEqual(w.observeNeighbourhood(0, [1, 2, 3], half, 12), []);
  t.true(w.isEclipsed(0));
  const cleared = w.observeNeighbourhood(0, myRandom, random, 13);
  t.like(cleared[0], { kind: 'eclipse-cleared', peer: 0 });
  t.false(w.isEclipsed(0));
  // Too few neighbours: no verdict.
  t.deepEqual(new PartitionWatch().observeNeighbourhood(0, [1, 2], clique, 0), []);
});

test('PartitionWatch rejects bad options', (t) => {
  t.throws(() => new PartitionWatch({ cutBelow: 0.9, healAbove: 0.8 }), { instanceOf: PolicyError });
  t.throws(() => new PartitionWatch({ eclipseAbove: 1.5 }), { instanceOf: PolicyError });
  t.throws(() => new PartitionWatch({ minNeighbours: 1 }), { instanceOf: PolicyError });
});
