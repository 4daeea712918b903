import test from 'ava';
import fc from 'fast-check';
import {
  batchDigest,
  ConsensusError,
  decodeFrame,
  encodeKvOp,
  hex,
  hmacSignatures,
  KvStateMachine,
  Replica,
  runSim,
  sign,
  type PersistRecord,
  type ReplicaAction,
  type ReplicaEvent,
} from '../../src/consensus/index.js';
import { group } from './harness.js';

const req = (client: number, t: number, key: string): Uint8Array => sign({ k: 'request', client, t, op: encodeKvOp({ op: 'put', key, value: new Uint8Array([t]) }) }, undefined);

/** The kinds and digests of the replica messages in `actions` (sent or broadcast). */
function sent(actions: readonly ReplicaAction[]): { k: string; v: number; n: number; d: string }[] {
  const out: { k: string; v: number; n: number; d: string }[] = [];
  for (const a of actions) {
    if (a.kind !== 'send' && a.kind !== 'broadcast') continue;
    const f = decodeFrame(a.bytes);
    if (typeof f === 'string') continue;
    const b = f.body;
    if (b.k === 'prepare' || b.k === 'commit' || b.k === 'preprepare') out.push({ k: b.k, v: b.v, n: b.n, d: hex(b.d) });
  }
  return out;
}

function executed(events: { replica: number; event: ReplicaEvent }[], replica: number): Extract<ReplicaEvent, { kind: 'executed' }>[] {
  return events.filter((e) => e.replica === replica && e.event.kind === 'executed').map((e) => e.event as Extract<ReplicaEvent, { kind: 'executed' }>);
}

test('restarted after sending its prepare, a replica refuses a conflicting pre-prepare and never prepares or commits it', (t) => {
  const g = group(4);
  const a = [req(1001, 1, 'a')];
  const b = [req(1002, 1, 'b')];
  const ppA = sign({ k: 'preprepare', v: 0, n: 1, d: batchDigest(a), batch: a, r: 0 }, g.sigs.signer(0));
  const ppB = sign({ k: 'preprepare', v: 0, n: 1, d: batchDigest(b), batch: b, r: 0 }, g.sigs.signer(0));
  const first = g.replicas[1]!.receive(0, ppA, 0);
  for (const x of first) if (x.kind === 'persist') g.logs[1]!.push(x.record);
  t.deepEqual(sent(first), [{ k: 'prepare', v: 0, n: 1, d: hex(batchDigest(a)) }]);
  t.true(g.logs[1]!.some((r) => r.type === 'message'), 'the prepare was persisted');

  // The equivocating primary tries again after the crash, with prepares for B from two colluders.
  const attempt = (r: Replica): ReplicaAction[] => [
    ...r.receive(0, ppB, 1),
    ...[2, 3].flatMap((x) => r.receive(x, sign({ k: 'prepare', v: 0, n: 1, d: batchDigest(b), r: x }, g.sigs.signer(x)), 1)),
  ];
  const restarted = g.restart(1);
  const out = attempt(restarted);
  t.deepEqual(sent(out), [], 'no prepare or commit for B');
  t.is(restarted.stats.dropped.conflict, 1);
  t.is(restarted.currentView, 0);
  // The control: without its records the same replica would contradict itself.
  const amnesiac = g.restart(1, []);
  t.deepEqual(
    sent(attempt(amnesiac)).map((x) => x.k),
    ['prepare', 'commit'],
  );
});

test('a restarted replica keeps its prepared certificate: its view-change still carries the batch', (t) => {
  const g = group(4, { requestTimeout: 100 });
  const isCommit = (_f: number, _t: number, bytes: Uint8Array): boolean => {
    const f = decodeFrame(bytes);
    return typeof f !== 'string' && f.body.k === 'commit';
  };
  const r1 = req(1001, 1, 'a');
  for (let r = 0; r < 4; r++) g.submit(1001, r, r1);
  g.run(isCommit);
  // Replica 2 prepared seq 1 (and sent its commit, which was lost), then crashed.
  t.true(g.logs[2]!.some((r) => r.type === 'prepared'));
  const r2 = g.restart(2);
  const vc = (x: number): Uint8Array => sign({ k: 'viewchange', v: 1, n: 0, c: [], p: [], r: x }, g.sigs.signer(x));
  const out = [...r2.receive(0, vc(0), 1), ...r2.receive(3, vc(3), 1)];
  const mine = out.flatMap((a) => {
    if (a.kind !== 'broadcast') return [];
    const f = decodeFrame(a.bytes);
    return typeof f !== 'string' && f.body.k === 'viewchange' ? [f.body] : [];
  });
  t.is(mine.length, 1, 'joined view 1');
  t.is(mine[0]!.p.length, 1, 'with the prepared certificate for seq 1');
  const cert = decodeFrame(mine[0]!.p[0]!.pp);
  if (typeof cert === 'string' || cert.body.k !== 'preprepare') return t.fail();
  t.is(cert.body.n, 1);
  t.deepEqual(cert.body.batch, [r1]);
});

test('a restarted replica re-executes from its stable checkpoint and executes the same sequence as the others', (t) => {
  const g = group(4, { checkpointInterval: 4, maxBatch: 1 });
  for (let i = 1; i <= 5; i++) g.deliver(1000, 0, req(1000 + i, 1, `k${i}`));
  t.is(g.replicas[3]!.stats.lastExecuted, 5);
  t.is(g.replicas[3]!.stats.lowWatermark, 4);
  const down = (_f: number, to: number): boolean => to === 3;
  const r3 = g.restart(3);
  t.is(r3.stats.lastExecuted, 4, 'back at its stable checkpoint: seq 5 is not in the state any more');
  t.is(g.machines[3]!.size, 4);
  // Two more requests while it has not caught up yet (it hears nothing of them).
  for (let i = 6; i <= 7; i++) {
    g.submit(1000, 0, req(1000 + i, 1, `k${i}`));
    g.run(down);
  }
  g.tick(100);
  g.run();
  g.tick(200);
  g.run();
  t.is(g.replicas[3]!.stats.lastExecuted, 7);
  t.is(hex(g.machines[3]!.digest()), hex(g.machines[0]!.digest()));
  const mine = executed(g.events, 3).map((e) => [e.seq, hex(e.digest)]);
  const theirs = new Map(executed(g.events, 0).map((e) => [e.seq, hex(e.digest)]));
  t.deepEqual(
    mine.map(([s]) => s),
    [1, 2, 3, 4, 5, 5, 6, 7],
    'seq 5 ran again after the restart',
  );
  for (const [seq, d] of mine) t.is(d, theirs.get(seq as number), `seq ${seq}`);
});

test('a replica restarted behind the others catches up by state transfer', (t) => {
  const g = group(4, { checkpointInterval: 2, maxBatch: 1 });
  for (let i = 1; i <= 3; i++) g.deliver(1000, 0, req(1000 + i, 1, `k${i}`));
  const down = (_f: number, to: number): boolean => to === 3;
  for (let i = 4; i <= 9; i++) {
    g.submit(1000, 0, req(1000 + i, 1, `k${i}`));
    g.run(down);
  }
  g.restart(3);
  for (let k = 1; k <= 3; k++) {
    g.tick(100 * k);
    g.run();
  }
  t.is(g.replicas[3]!.stats.lastExecuted, 9);
  t.true(g.replicas[3]!.stats.stateTransfers >= 1);
  t.is(hex(g.machines[3]!.digest()), hex(g.machines[0]!.digest()));
});

for (const torn of [false, true]) {
  test(`the new primary crash-restarted during the view change${torn ? ' (its view-change torn away)' : ''} still brings the group into view 1`, (t) => {
    const g = group(4, { requestTimeout: 100 });
    const r1 = req(1001, 1, 'a');
    for (let r = 1; r < 4; r++) g.replicas[r]!.receive(1001, r1, 0);
    const silent0 = (from: number): boolean => from === 0;
    g.run(silent0);
    g.tick(101);
    // Replica 1 (primary of view 1) crashes right after sending its view-change.
    g.run((from, to) => from === 0 || to === 1);
    const log = g.logs[1]!;
    const last = log[log.length - 1]!;
    t.is(last.type, 'message');
    const restarted = g.restart(1, torn ? log.slice(0, -1) : log);
    t.is(restarted.currentView, 1);
    t.false(restarted.stats.active);
    g.tick(110);
    g.run(silent0);
    for (let r = 1; r < 4; r++) {
      t.is(g.replicas[r]!.stats.view, 1, `replica ${r}`);
      t.true(g.replicas[r]!.stats.active, `replica ${r} active`);
      const ex = executed(g.events, r);
      t.is(ex.length, 1, `replica ${r} executed the request`);
      t.is(ex[0]!.view, 1);
    }
  });
}

test('recovery refuses a foreign or corrupt log with a typed error', (t) => {
  const g = group(4);
  g.deliver(1000, 0, req(1001, 1, 'a'));
  const base = { id: 2, n: 4, signer: g.sigs.signer(2), verifier: g.sigs.verifier, stateMachine: new KvStateMachine(), now: 0 };
  const bad: unknown[] = [
    g.logs[1], // replica 1's records
    [{ type: 'stable', seq: 4, bundle: new Uint8Array(3), proof: [] }],
    [{ type: 'view', view: -1, active: true }],
    [{ type: 'nonsense' }],
  ];
  for (const recovered of bad) {
    const err = t.throws(() => new Replica({ ...base, recovered: recovered as PersistRecord[] }), { instanceOf: ConsensusError });
    t.is(err?.code, 'MALFORMED');
  }
  t.throws(() => new Replica({ ...base, recovered: 'x' as unknown as PersistRecord[] }), { instanceOf: ConsensusError, message: /array/ });
});

/** A canonical picture of a replica for comparisons. */
const picture = (r: Replica): string =>
  JSON.stringify({ stats: r.stats, compact: r.compactRecords() }, (_k, v: unknown) => (v instanceof Uint8Array ? hex(v) : v));

test('compaction keeps recovery equivalent: full log and compacted records give the same replica (seeded runs)', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 4, max: 7 }), (seed, n) => {
      const r = runSim({ seed, n, loss: 0.05, stabiliseAt: 600, clients: 2, requestsPerClient: 5, maxBatch: 1, keepReplicas: true, restarts: [{ replica: 1, at: 150, downFor: 200 }] });
      t.deepEqual(r.safetyViolations, []);
      const sigs = hmacSignatures(seed, 'replica');
      for (const [id, log] of r.logs!) {
        const make = (recovered: readonly PersistRecord[]): Replica =>
          new Replica({ id, n, signer: sigs.signer(id), verifier: sigs.verifier, stateMachine: new KvStateMachine(), checkpointInterval: 4, maxBatch: 4, recovered, now: 0 });
        const live = r.replicas!.get(id)!;
        const full = make(log);
        const compacted = make(live.compactRecords());
        const again = make(full.compactRecords());
        if (picture(full) !== picture(compacted) || picture(full) !== picture(again)) return false;
        // Same input, same output.
        const status = sign({ k: 'status', v: 0, vc: false, h: 0, e: 0, r: (id + 1) % n }, sigs.signer((id + 1) % n));
        const enc = (a: ReplicaAction[]): string => JSON.stringify(a, (_k, v: unknown) => (v instanceof Uint8Array ? hex(v) : v));
        if (enc(full.receive((id + 1) % n, status, 1)) !== enc(compacted.receive((id + 1) % n, status, 1))) return false;
        if (enc(full.tick(2)) !== enc(compacted.tick(2))) return false;
      }
      return r.restarts === 1;
    }),
    { numRuns: 12, seed: 2024 },
  );
  t.pass();
});

test('sim: crash-restarts of the primary and of backups, with torn writes and compaction, stay safe and live', (t) => {
  for (const seed of [11, 12, 13, 14]) {
    const r = runSim({
      seed,
      n: 7,
      clients: 3,
      requestsPerClient: 6,
      loss: 0.05,
      stabiliseAt: 800,
      compact: seed % 2 === 0,
      restarts: [
        { replica: 0, at: 40, downFor: 600 },
        { replica: 3, at: 60, downFor: 300 },
        { replica: 0, at: 1500, downFor: 100 },
      ],
      settle: 2000,
      keepReplicas: true,
    });
    t.deepEqual(r.safetyViolations, [], `seed ${seed}`);
    t.true(r.live, `seed ${seed}: ${r.completed}/${r.expected}`);
    t.is(r.restarts, 3);
    const top = Math.max(...[...r.replicas!.values()].map((x) => x.stats.lastExecuted));
    t.is(r.replicas!.get(0)!.stats.lastExecuted, top, `seed ${seed}: the restarted primary caught up`);
  }
});
