import test from 'ava';
import fc from 'fast-check';
import { ManualClock } from '../../src/clock/index.js';
import { graphFromLists, kademliaChoice, NeighbourPolicy, type PeerGraph } from '../../src/overlay/neighbours.js';
import { PolicyError, type PolicyErrorCode } from '../../src/overlay/policy-errors.js';

test('fill picks least-overlap peers greedily, each pick joining the neighbourhood', (t) => {
  // me = 0, current [1]. 4 and 5 know only each other (score 0 each, but picking one
  // makes the other overlap), 7 is isolated (0), 2, 3, 6 know 1 (score 1).
  const g = graphFromLists([[1], [0, 2, 3], [1, 3], [1, 2], [5], [4], [1], []]);
  const policy = new NeighbourPolicy({ degree: 3, seed: 7 });
  const plan = policy.plan(0, [1], g, undefined, 0);
  t.deepEqual(plan.disconnect, []);
  t.is(plan.connect.length, 2);
  t.true(plan.connect.includes(7));
  t.is(plan.connect.filter((p) => p === 4 || p === 5).length, 1);
});

test('score counts overlap with my neighbourhood, not the link to me', (t) => {
  const g = graphFromLists([[1, 2], [0, 2], [0, 1], [1, 2]]);
  const policy = new NeighbourPolicy({ degree: 3 });
  t.is(policy.score(0, [1, 2], g, 1), 1); // knows 2; its link to me is the edge itself
  t.is(policy.score(0, [1, 2], g, 3), 2); // candidate knowing both of mine
});

test('fills only from the candidates given, never beyond them', (t) => {
  const g = graphFromLists([[], [], [], [], []]);
  const policy = new NeighbourPolicy({ degree: 4 });
  t.deepEqual(policy.plan(0, [], g, [3, 3, 0], 0).connect, [3]);
});

test('overflow: tolerated up to maxOverflow for the grace time, then the worst go', (t) => {
  // me = 0; current 1..5 with degree 3. 1 and 2 know each other and 3 (worst), 4 and 5 know nobody.
  const g = graphFromLists([[1, 2, 3, 4, 5, 6], [0, 2, 3], [0, 1, 3], [0], [0], [0], [0]]);
  const policy = new NeighbourPolicy({ degree: 3, maxOverflow: 2, overflowGraceMs: 1000, minDwellMs: 0 });
  t.deepEqual(policy.plan(0, [1, 2, 3, 4, 5], g, undefined, 0), { connect: [], disconnect: [] });
  t.deepEqual(policy.plan(0, [1, 2, 3, 4, 5], g, undefined, 999), { connect: [], disconnect: [] });
  const late = policy.plan(0, [1, 2, 3, 4, 5], g, undefined, 1000);
  t.deepEqual([...late.disconnect].sort(), [1, 2]);
  t.deepEqual(late.connect, []);
  // Beyond degree + maxOverflow the excess goes at once, whatever the grace time.
  const fresh = new NeighbourPolicy({ degree: 3, maxOverflow: 2, overflowGraceMs: 1000 });
  t.is(fresh.plan(0, [1, 2, 3, 4, 5, 6], g, undefined, 0).disconnect.length, 1);
  // Back at degree, the overflow clock resets.
  t.deepEqual(policy.plan(0, [3, 4, 5], g, [], 2000), { connect: [], disconnect: [] });
  t.deepEqual(policy.plan(0, [1, 3, 4, 5], g, [], 2001), { connect: [], disconnect: [] });
});

test('overflow drop prefers neighbours past their dwell time', (t) => {
  const g = graphFromLists([[], [0, 2], [0, 1], [0], [0]]);
  const policy = new NeighbourPolicy({ degree: 2, maxOverflow: 0, minDwellMs: 100 });
  policy.plan(0, [3, 4], g, [], 0);
  // 1 and 2 are the worst but brand new; 3 and 4 have dwelt.
  const plan = policy.plan(0, [1, 2, 3, 4], g, [], 200);
  t.deepEqual([...plan.disconnect].sort(), [3, 4]);
});

test('hysteresis: a marginally better candidate causes no churn, a clearly better one does after minDwell', (t) => {
  // me = 0, current [1, 2, 3]; 1 knows 2 and 3 (score 2, the worst); 2 and 3 know 1 (score 1).
  // Candidate 4 knows 2 (score 1: better by 1 < margin 2); candidate 5 knows nobody (score 0).
  const g = graphFromLists([[1, 2, 3], [0, 2, 3], [0, 1], [0, 1], [2], []]);
  const clock = new ManualClock(0);
  const policy = new NeighbourPolicy({ degree: 3, margin: 2, minDwellMs: 1000, clock });
  const none = { connect: [], disconnect: [] };
  t.deepEqual(policy.plan(0, [1, 2, 3], g, [4, 5]), none); // nobody has dwelt yet
  clock.advance(999);
  t.deepEqual(policy.plan(0, [1, 2, 3], g, [4, 5]), none);
  clock.advance(1);
  t.deepEqual(policy.plan(0, [1, 2, 3], g, [4]), none); // marginal: no churn
  t.deepEqual(policy.plan(0, [1, 2, 3], g, [4, 5]), { connect: [5], disconnect: [1] });
  // After the swap 5 is new and 1 gone: no immediate swap back.
  t.deepEqual(policy.plan(0, [2, 3, 5], g, [1, 4]), none);
});

test('deterministic, yet different peers break ties differently', (t) => {
  const lists: number[][] = Array.from({ length: 200 }, () => []);
  const g = graphFromLists(lists);
  const a = new NeighbourPolicy({ degree: 6, seed: 42 });
  const b = new NeighbourPolicy({ degree: 6, seed: 42 });
  const pa = a.plan(0, [], g, undefined, 0);
  t.deepEqual(pa, b.plan(0, [], g, undefined, 0));
  t.notDeepEqual([...pa.connect].sort((x, y) => x - y), [1, 2, 3, 4, 5, 6]); // not index order
  const other = a.plan(1, [], g, undefined, 0);
  t.notDeepEqual(new Set(pa.connect), new Set(other.connect));
  t.notDeepEqual(pa, new NeighbourPolicy({ degree: 6, seed: 43 }).plan(0, [], g, undefined, 0));
});

test('bad arguments throw PolicyError', (t) => {
  const g = graphFromLists([[], []]);
  const p = new NeighbourPolicy();
  const code = (fn: () => unknown, c: PolicyErrorCode) => t.is(t.throws(fn, { instanceOf: PolicyError })?.code, c);
  code(() => new NeighbourPolicy({ degree: 0 }), 'BAD_ARGUMENT');
  code(() => new NeighbourPolicy({ margin: -1 }), 'BAD_ARGUMENT');
  code(() => p.plan(0, [1], g), 'BAD_ARGUMENT'); // no now, no clock
  code(() => p.plan(0, [0], g, [], 0), 'BAD_ARGUMENT');
  code(() => p.plan(0, [1, 1], g, [], 0), 'BAD_ARGUMENT');
  code(() => p.plan(-1, [], g, [], 0), 'BAD_ARGUMENT');
  code(() => p.plan(0, [], {} as PeerGraph, [], 0), 'BAD_ARGUMENT');
  code(() => p.plan(0, [], g, [1.5], 0), 'BAD_ARGUMENT');
  code(() => graphFromLists([[3]]), 'BAD_GRAPH');
  code(() => kademliaChoice(new Uint8Array(2), [new Uint8Array(3)], 1), 'BAD_ARGUMENT');
});

const graphArb = fc.integer({ min: 2, max: 30 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    lists: fc.array(fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: 8 }), { minLength: n, maxLength: n }),
    me: fc.integer({ min: 0, max: n - 1 }),
    current: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: 10 }),
    candidates: fc.option(fc.array(fc.integer({ min: 0, max: n - 1 }), { maxLength: 40 }), { nil: undefined }),
    degree: fc.integer({ min: 1, max: 6 }),
    maxOverflow: fc.integer({ min: 0, max: 3 }),
    times: fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 4 }),
  }),
);

test('property: plan never proposes self, duplicates or existing neighbours, never exceeds degree + overflow', (t) => {
  fc.assert(
    fc.property(graphArb, ({ lists, me, current, candidates, degree, maxOverflow, times }) => {
      const g = graphFromLists(lists);
      const cur = current.filter((p) => p !== me);
      const policy = new NeighbourPolicy({ degree, maxOverflow, overflowGraceMs: 1000, minDwellMs: 500, margin: 1, seed: me });
      let now = 0;
      for (const dt of times) {
        now += dt;
        const { connect, disconnect } = policy.plan(me, cur, g, candidates, now);
        if (connect.includes(me)) return false;
        if (new Set(connect).size !== connect.length || new Set(disconnect).size !== disconnect.length) return false;
        if (connect.some((p) => cur.includes(p))) return false;
        if (disconnect.some((p) => !cur.includes(p))) return false;
        if (candidates !== undefined && connect.some((p) => !candidates.includes(p))) return false;
        const after = cur.length + connect.length - disconnect.length;
        if (after > Math.max(degree + maxOverflow, cur.length > degree + maxOverflow ? -1 : cur.length)) return false;
        if (cur.length <= degree && after > degree) return false;
      }
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('kademliaChoice: one per bucket far-first, then by closeness; skips self and repeats', (t) => {
  const id = (hi: number, lo: number) => Uint8Array.of(hi, lo);
  const cands = [
    id(0xc0, 0), // 0: cpl 0, farther
    id(0x80, 0), // 1: cpl 0, closest of its bucket
    id(0x40, 0), // 2: cpl 1
    id(0x20, 0), // 3: cpl 2
    id(0x10, 0), // 4: cpl 3
    id(0, 3), // 5: cpl 14
    id(0, 2), // 6: cpl 14, closer
    id(0, 1), // 7: cpl 15
    id(0, 0), // 8: me
    id(0, 1), // 9: repeat of 7
  ];
  const me = id(0, 0);
  t.deepEqual(kademliaChoice(me, cands, 4), [1, 2, 3, 4]);
  t.deepEqual(kademliaChoice(me, cands, 7), [1, 2, 3, 4, 6, 7, 5]);
  t.deepEqual(kademliaChoice(me, cands, 20), [1, 2, 3, 4, 6, 7, 5, 0]);
  t.deepEqual(kademliaChoice(me, [], 3), []);
});
