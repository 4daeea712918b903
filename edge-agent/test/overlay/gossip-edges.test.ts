/** EdgeTable: confirmation by both ends within the timeout, expiry, removal, ordering and collection. */
import test from 'ava';
import { EdgeTable, type EdgeReport } from '../../src/overlay/edges.js';

const opts = { confirmTimeoutMs: 1000, edgeTtlMs: 10_000, retainMs: 20_000, maxRecords: 100 };
const r = (reporter: string, neighbour: string, direction: 'in' | 'out', connect: boolean, timestamp: number): EdgeReport => ({
  reporter,
  neighbour,
  direction,
  connect,
  timestamp,
});

test('one end alone never confirms; the other end within the timeout does', (t) => {
  const e = new EdgeTable(opts);
  t.deepEqual(e.apply(r('a', 'b', 'out', true, 100), 100), { status: 'ok', changes: [] });
  t.false(e.isConfirmed('a', 'b'));
  t.is(e.pendingCount(100), 1);
  t.deepEqual(e.apply(r('b', 'a', 'in', true, 900), 950), { status: 'ok', changes: [{ change: 'confirmed', from: 'a', to: 'b' }] });
  t.true(e.isConfirmed('a', 'b'));
  t.false(e.isConfirmed('b', 'a'), 'edges are directed by who dialled');
  t.is(e.pendingCount(950), 0);
  t.deepEqual(e.confirmed(), [{ from: 'a', to: 'b' }]);
});

test('the in report may come first', (t) => {
  const e = new EdgeTable(opts);
  e.apply(r('b', 'a', 'in', true, 100), 100);
  t.deepEqual(e.apply(r('a', 'b', 'out', true, 200), 200).changes, [{ change: 'confirmed', from: 'a', to: 'b' }]);
});

test('two reports from the same side, or mismatched directions, do not confirm', (t) => {
  const e = new EdgeTable(opts);
  e.apply(r('a', 'b', 'out', true, 100), 100);
  e.apply(r('b', 'a', 'out', true, 100), 100); // b claims it dialled a: a different edge b→a
  t.is(e.confirmedCount, 0);
  t.is(e.pendingCount(100), 2);
});

test('a half edge expires: the partner outside the timeout does not confirm it', (t) => {
  const e = new EdgeTable(opts);
  e.apply(r('a', 'b', 'out', true, 100), 100);
  t.is(e.pendingCount(1100), 1);
  t.is(e.pendingCount(1101), 0);
  t.deepEqual(e.apply(r('b', 'a', 'in', true, 1101), 1101).changes, []);
  t.false(e.isConfirmed('a', 'b'));
  // a re-announces: now both lie within the timeout.
  t.deepEqual(e.apply(r('a', 'b', 'out', true, 1500), 1500).changes, [{ change: 'confirmed', from: 'a', to: 'b' }]);
});

test('a disconnect from either end removes the edge', (t) => {
  for (const end of ['a', 'b'] as const) {
    const e = new EdgeTable(opts);
    e.apply(r('a', 'b', 'out', true, 100), 100);
    e.apply(r('b', 'a', 'in', true, 100), 100);
    const report = end === 'a' ? r('a', 'b', 'out', false, 200) : r('b', 'a', 'in', false, 200);
    t.deepEqual(e.apply(report, 200).changes, [{ change: 'removed', from: 'a', to: 'b' }]);
    t.false(e.isConfirmed('a', 'b'));
  }
});

test('older and equal-time reports are stale; equal time with the opposite kind is inconsistent', (t) => {
  const e = new EdgeTable(opts);
  e.apply(r('a', 'b', 'out', true, 500), 500);
  t.is(e.check(r('a', 'b', 'out', false, 499)), 'stale');
  t.is(e.apply(r('a', 'b', 'out', false, 499), 600).status, 'stale');
  t.is(e.check(r('a', 'b', 'out', true, 500)), 'stale');
  t.is(e.check(r('a', 'b', 'out', false, 500)), 'inconsistent');
  t.is(e.apply(r('a', 'b', 'out', false, 500), 600).status, 'inconsistent');
  t.is(e.check(r('a', 'b', 'out', false, 501)), 'ok');
  // A replayed old connect after a disconnect does not resurrect the edge.
  e.apply(r('b', 'a', 'in', true, 500), 500);
  t.true(e.isConfirmed('a', 'b'));
  e.apply(r('a', 'b', 'out', false, 700), 700);
  t.is(e.apply(r('a', 'b', 'out', true, 600), 710).status, 'stale');
  t.false(e.isConfirmed('a', 'b'));
});

test('sweep removes a confirmed edge once either end stops refreshing for edgeTtlMs', (t) => {
  const e = new EdgeTable(opts);
  e.apply(r('a', 'b', 'out', true, 0), 0);
  e.apply(r('b', 'a', 'in', true, 0), 0);
  e.apply(r('a', 'b', 'out', true, 8000), 8000); // only a refreshes
  t.deepEqual(e.sweep(10_000), []);
  t.deepEqual(e.sweep(10_001), [{ change: 'removed', from: 'a', to: 'b' }]);
  t.is(e.size, 1, 'record kept as a tombstone so replays stay stale');
  t.deepEqual(e.sweep(28_000), []);
  t.is(e.size, 1);
  e.sweep(28_001);
  t.is(e.size, 0, 'forgotten after retainMs');
});

test('refreshes by both ends keep an edge confirmed, even when their phases differ by more than the confirm timeout', (t) => {
  const e = new EdgeTable(opts);
  e.apply(r('a', 'b', 'out', true, 0), 0);
  e.apply(r('b', 'a', 'in', true, 0), 0);
  for (let now = 5000; now <= 100_000; now += 5000) {
    e.apply(r('a', 'b', 'out', true, now), now);
    e.apply(r('b', 'a', 'in', true, now + 3000), now + 3000);
    t.deepEqual(e.sweep(now + 4000), []);
    t.true(e.isConfirmed('a', 'b'));
  }
});

test('the record count is bounded: the oldest unconfirmed record is evicted, confirmed ones never', (t) => {
  const e = new EdgeTable({ ...opts, maxRecords: 3 });
  e.apply(r('a', 'b', 'out', true, 0), 0);
  e.apply(r('b', 'a', 'in', true, 0), 0);
  e.apply(r('c', 'd', 'out', true, 1), 1);
  e.apply(r('e', 'f', 'out', true, 2), 2);
  t.is(e.apply(r('g', 'h', 'out', true, 3), 3).status, 'ok');
  t.is(e.size, 3);
  t.true(e.isConfirmed('a', 'b'));
  t.is(e.check(r('c', 'd', 'out', true, 1)), 'ok', 'the oldest half edge went');
  const full = new EdgeTable({ ...opts, maxRecords: 1 });
  full.apply(r('a', 'b', 'out', true, 0), 0);
  full.apply(r('b', 'a', 'in', true, 0), 0);
  t.is(full.apply(r('c', 'd', 'out', true, 1), 1).status, 'full');
});

test('applying a report never ages an edge: old pairs confirm and a confirmed edge survives any later report', (t) => {
  const e = new EdgeTable(opts);
  // A catch-up days after the link came up: both reports old, still close to each other.
  e.apply(r('a', 'b', 'out', true, 100), 1_000_000);
  t.deepEqual(e.apply(r('b', 'a', 'in', true, 200), 1_000_000).changes, [{ change: 'confirmed', from: 'a', to: 'b' }]);
  // One end refreshes long after the other: still confirmed (the other end's report is old, not withdrawn).
  t.deepEqual(e.apply(r('a', 'b', 'out', true, 900_000), 1_000_000).changes, []);
  t.true(e.isConfirmed('a', 'b'));
});

test('sweep keeps an old edge that keep() vouches for and collects it once keep() stops vouching', (t) => {
  const e = new EdgeTable(opts);
  e.apply(r('a', 'b', 'out', true, 0), 0);
  e.apply(r('b', 'a', 'in', true, 0), 0);
  let reachable = true;
  const keep = (from: string, to: string): boolean => reachable && from === 'a' && to === 'b';
  t.deepEqual(e.sweep(50_000, keep), []);
  t.true(e.isConfirmed('a', 'b'));
  reachable = false;
  t.deepEqual(e.sweep(50_001, keep), [{ change: 'removed', from: 'a', to: 'b' }]);
  t.throws(() => e.sweep(1, 'yes' as never), { message: /keep/ });
});

test('a full table makes room from unconfirmed records only, never by ageing out confirmed edges', (t) => {
  const e = new EdgeTable({ ...opts, maxRecords: 2 });
  e.apply(r('a', 'b', 'out', true, 0), 0);
  e.apply(r('b', 'a', 'in', true, 0), 0);
  e.apply(r('c', 'd', 'out', true, 0), 0);
  // Long after edgeTtlMs: the old confirmed edge stays, the half edge c>d gives way.
  t.is(e.apply(r('e', 'f', 'out', true, 100_000), 100_000).status, 'ok');
  t.true(e.isConfirmed('a', 'b'));
  t.is(e.report('c', 'd', 'out'), undefined);
  t.deepEqual(e.report('e', 'f', 'out'), { timestamp: 100_000, connect: true });
});

const proof = (n: number) => ({ body: Uint8Array.of(n), sig: new Uint8Array(64), tagHi: (n * 0x9e3779b1) >>> 0, tagLo: (n * 0x85ebca6b) >>> 0 });
const withProof = (rep: EdgeReport, n: number): EdgeReport => ({ ...rep, proof: proof(n) });

test('the digest depends on the reports held, not on their order; replaced and forgotten reports leave it', (t) => {
  const x = new EdgeTable(opts);
  const y = new EdgeTable(opts);
  const reports = [withProof(r('a', 'b', 'out', true, 1), 1), withProof(r('b', 'a', 'in', true, 2), 2), withProof(r('c', 'a', 'out', true, 3), 3)];
  for (const rep of reports) x.apply(rep, 10);
  for (const rep of [...reports].reverse()) y.apply(rep, 10);
  t.deepEqual(x.digest(), y.digest());
  t.is(x.digest().count, 3);
  t.not(x.digest().xorHi, 0);
  const before = y.digest();
  y.apply(withProof(r('c', 'a', 'out', false, 4), 4), 10);
  t.notDeepEqual(y.digest(), before, 'a newer report replaces the older one in the digest');
  t.is(y.digest().count, 3);
  // c>a is now a tombstone; forgetting it (after retainMs) takes it out of the digest.
  y.sweep(30_000, () => true);
  t.is(y.digest().count, 2);
  x.sweep(30_000, () => true);
  t.is(x.digest().count, 2);
  t.deepEqual(x.digest(), y.digest());
  t.deepEqual(x.proofs().map((p) => p.body[0]).sort(), [1, 2]);
});

test('digest(without) leaves out the records of the named edges, so two ends of a new link compare what they knew before it', (t) => {
  const x = new EdgeTable(opts);
  const y = new EdgeTable(opts);
  for (const e of [x, y]) e.apply(withProof(r('c', 'd', 'out', true, 1), 1), 10);
  x.apply(withProof(r('a', 'b', 'out', true, 5), 5), 10); // a's side of the new link a>b
  y.apply(withProof(r('b', 'a', 'in', true, 6), 6), 10); // b's side
  y.apply(withProof(r('a', 'b', 'out', true, 5), 5), 10); // a's flood reached b first
  t.notDeepEqual(x.digest(), y.digest());
  t.deepEqual(x.digest([['a', 'b'], ['b', 'a']]), y.digest([['a', 'b'], ['b', 'a']]));
  t.deepEqual(x.digest([['a', 'b']]), { count: 1, xorHi: proof(1).tagHi, xorLo: proof(1).tagLo });
});

test('report() reads one link end and refuses bad arguments', (t) => {
  const e = new EdgeTable(opts);
  e.apply(r('a', 'b', 'out', true, 5), 5);
  t.deepEqual(e.report('a', 'b', 'out'), { timestamp: 5, connect: true });
  t.is(e.report('b', 'a', 'in'), undefined);
  t.throws(() => e.report('a', 'b', 'up' as never), { message: /direction/ });
  t.throws(() => e.report(1 as never, 'b', 'out'), { message: /ids/ });
});
