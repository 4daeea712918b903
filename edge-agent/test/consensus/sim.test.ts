import test from 'ava';
import { hex, runSim, type Behaviour, type SimOptions, type SimResult } from '../../src/consensus/index.js';

function safeAndLive(t: { deepEqual(a: unknown, b: unknown, m?: string): void; true(a: boolean, m?: string): void }, r: SimResult): void {
  t.deepEqual(r.safetyViolations, [], `seed ${r.seed}`);
  t.true(r.live, `seed ${r.seed}: ${r.completed}/${r.expected} completed`);
}

const byz = (entries: [number, Behaviour[]][]): ReadonlyMap<number, readonly Behaviour[]> => new Map(entries);

for (const n of [4, 7]) {
  test(`normal case n=${n} with reordering and duplication: one view, everything completes`, (t) => {
    const r = runSim({ seed: n, n, clients: 3, requestsPerClient: 8, duplicate: 0.1 });
    safeAndLive(t, r);
    t.is(r.maxView, 0);
    t.true(r.maxExecuted > 0);
  });
}

test('same seed, same run', (t) => {
  const o: SimOptions = { seed: 42, n: 7, loss: 0.05, duplicate: 0.05, stabiliseAt: 500, byzantine: byz([[0, [{ kind: 'equivocate' }]]]) };
  const a = runSim(o);
  const b = runSim(o);
  t.is(a.delivered, b.delivered);
  t.is(a.endTime, b.endTime);
  t.is(a.maxView, b.maxView);
});

test('view change: a silent primary is replaced', (t) => {
  const r = runSim({ seed: 3, n: 4, byzantine: byz([[0, [{ kind: 'silent' }]]]) });
  safeAndLive(t, r);
  t.true(r.maxView >= 1);
});

test('view change: a primary that delays everything past the timer is replaced', (t) => {
  const r = runSim({ seed: 4, n: 7, byzantine: byz([[0, [{ kind: 'slow', delay: 3000 }]]]), requestTimeout: 300 });
  safeAndLive(t, r);
  t.true(r.maxView >= 1);
  t.true(r.lastCompletion! < 3000, 'completed before the slow primary’s messages even arrive');
});

test('an equivocating primary cannot split the backups', (t) => {
  for (const seed of [5, 6, 7]) {
    const r = runSim({ seed, n: 7, byzantine: byz([[0, [{ kind: 'equivocate' }]]]), clients: 2, requestsPerClient: 5 });
    safeAndLive(t, r);
  }
});

test('forged, conflicting and replayed messages and lying replies are dropped', (t) => {
  const r = runSim({
    seed: 8,
    n: 7,
    byzantine: byz([
      [1, [{ kind: 'forge' }, { kind: 'bad-replies' }]],
      [2, [{ kind: 'conflicting-prepares' }, { kind: 'replay' }]],
    ]),
    duplicate: 0.05,
  });
  safeAndLive(t, r);
  t.true(r.forged > 0);
  // Signed kinds fail their signature; unsigned ones (commits, status) are refused as not from their channel's peer.
  t.true(r.dropped['bad-signature']! + r.dropped['wrong-sender']! >= r.forged, 'every forgery is refused by every honest replica it reached');
  t.true(r.dropped['bad-signature']! > 0 && r.dropped['wrong-sender']! > 0);
  t.true(r.dropped['conflict']! > 0);
});

test('state transfer: a replica partitioned away catches up from a stable checkpoint', (t) => {
  const r = runSim({
    seed: 9,
    n: 4,
    partitioned: [3],
    stabiliseAt: 1500,
    clients: 3,
    requestsPerClient: 8,
    maxBatch: 1,
    checkpointInterval: 2,
    settle: 3000,
    keepReplicas: true,
  });
  safeAndLive(t, r);
  const lagger = r.replicas!.get(3)!.stats;
  const other = r.replicas!.get(0)!.stats;
  t.true(lagger.stateTransfers >= 1);
  t.is(lagger.lastExecuted, other.lastExecuted);
  t.is(hex(r.machines!.get(3)!.digest()), hex(r.machines!.get(0)!.digest()));
});

test('loss before stabilisation, then liveness', (t) => {
  const r = runSim({ seed: 10, n: 10, loss: 0.2, duplicate: 0.1, stabiliseAt: 1500, byzantine: byz([[4, [{ kind: 'silent' }]]]), clients: 3, requestsPerClient: 5 });
  safeAndLive(t, r);
});
