import test from 'ava';
import {
  batchDigest,
  ConsensusError,
  decodeFrame,
  decodeKvResult,
  encodeKvOp,
  hmacSignatures,
  KvStateMachine,
  Replica,
  sign,
  type ReplicaEvent,
} from '../../src/consensus/index.js';
import { group } from './harness.js';

const req = (client: number, t: number, key: string, value = new Uint8Array([t])): Uint8Array =>
  sign({ k: 'request', client, t, op: encodeKvOp({ op: 'put', key, value }) }, undefined);

function executed(events: { replica: number; event: ReplicaEvent }[], replica: number): Extract<ReplicaEvent, { kind: 'executed' }>[] {
  return events.filter((e) => e.replica === replica && e.event.kind === 'executed').map((e) => e.event as Extract<ReplicaEvent, { kind: 'executed' }>);
}

test('config errors are typed', (t) => {
  const sigs = hmacSignatures(1, 'replica');
  const base = { id: 0, n: 4, signer: sigs.signer(0), verifier: sigs.verifier, stateMachine: new KvStateMachine(), now: 0 };
  for (const bad of [{ n: 3 }, { id: 4 }, { checkpointInterval: 0 }, { checkpointInterval: 4, logWindow: 6 }, { now: Number.NaN }, { maxBatch: 0 }]) {
    const err = t.throws(() => new Replica({ ...base, ...bad }), { instanceOf: ConsensusError });
    t.is(err?.code, 'BAD_ARGUMENT');
  }
});

for (const n of [4, 7]) {
  test(`normal case, n=${n}: every replica executes the same batches in sequence order`, (t) => {
    const g = group(n);
    for (let i = 1; i <= 5; i++) g.deliver(1000, 0, req(1000 + i, 1, `k${i}`));
    for (let r = 0; r < n; r++) {
      const ex = executed(g.events, r);
      t.deepEqual(ex.map((e) => e.seq), [1, 2, 3, 4, 5], `replica ${r}`);
      t.deepEqual(ex.map((e) => e.requests[0]!.client), [1001, 1002, 1003, 1004, 1005]);
    }
    const digests = new Set(g.machines.map((m) => Buffer.from(m.digest()).toString('hex')));
    t.is(digests.size, 1);
    t.is(g.machines[0]!.size, 5);
    t.is(g.replies.length, 5 * n);
  });
}

test('batching: the primary cuts a batch at maxBatch and on the batch delay', (t) => {
  const g = group(4, { maxBatch: 3, batchDelay: 10 });
  for (let i = 1; i <= 4; i++) g.deliver(1000, 0, req(1000 + i, 1, `k${i}`));
  t.deepEqual(executed(g.events, 1).map((e) => e.requests.length), [3]);
  g.tick(5);
  g.run();
  t.is(executed(g.events, 1).length, 1, 'not before the delay');
  g.tick(12);
  g.run();
  t.deepEqual(executed(g.events, 1).map((e) => e.requests.length), [3, 1]);
});

test('client de-duplication: a retransmitted request gets the cached reply and runs once; an older one is dropped', (t) => {
  const g = group(4);
  const r1 = req(1001, 5, 'x');
  g.deliver(1001, 0, r1);
  t.is(executed(g.events, 0).length, 1);
  const before = g.replies.length;
  for (let r = 0; r < 4; r++) g.deliver(1001, r, r1);
  t.is(executed(g.events, 0).length, 1, 'not executed again');
  const again = g.replies.slice(before);
  t.is(again.length, 4);
  for (const x of again) {
    const f = decodeFrame(x.bytes);
    if (typeof f === 'string' || f.body.k !== 'reply') return t.fail();
    t.is(f.body.t, 5);
    t.deepEqual(decodeKvResult(f.body.result), { ok: true });
  }
  g.deliver(1001, 0, req(1001, 4, 'y'));
  t.is(g.replicas[0]!.stats.dropped.stale, 1);
  t.is(g.machines[0]!.size, 1);
  // A primary that proposes an executed request again: execution skips it.
  g.deliver(1001, 0, req(1001, 6, 'z'));
  t.is(g.machines[1]!.size, 2);
});

test('forged messages (signed by one replica, claiming another) are dropped as bad-signature', (t) => {
  const g = group(4);
  const forged = sign({ k: 'prepare', v: 0, n: 1, d: new Uint8Array(32), r: 2 }, g.sigs.signer(3));
  g.deliver(3, 1, forged);
  t.is(g.replicas[1]!.stats.dropped['bad-signature'], 1);
  const fakePrimary = sign({ k: 'preprepare', v: 0, n: 1, d: new Uint8Array(32), batch: [], r: 0 }, g.sigs.signer(3));
  g.deliver(3, 2, fakePrimary);
  t.is(g.replicas[2]!.stats.dropped['bad-signature'], 1);
  // A pre-prepare signed by a backup in its own name is not the primary's.
  const byBackup = sign({ k: 'preprepare', v: 0, n: 1, d: new Uint8Array(32), batch: [], r: 3 }, g.sigs.signer(3));
  g.deliver(3, 2, byBackup);
  t.is(g.replicas[2]!.stats.dropped.invalid, 1);
});

test('an equivocating pre-prepare for the same view and sequence number is refused', (t) => {
  const g = group(4);
  const a = [req(1001, 1, 'a')];
  const b = [req(1002, 1, 'b')];
  const pa = sign({ k: 'preprepare', v: 0, n: 1, d: batchDigest(a), batch: a, r: 0 }, g.sigs.signer(0));
  const pb = sign({ k: 'preprepare', v: 0, n: 1, d: batchDigest(b), batch: b, r: 0 }, g.sigs.signer(0));
  g.replicas[1]!.receive(0, pa, 0);
  g.replicas[1]!.receive(0, pb, 0);
  t.is(g.replicas[1]!.stats.dropped.conflict, 1);
});

test('checkpoints become stable at a quorum and truncate the log', (t) => {
  const g = group(4, { checkpointInterval: 2, maxBatch: 1 });
  for (let i = 1; i <= 7; i++) g.deliver(1000, 0, req(1000 + i, 1, `k${i}`));
  for (const r of g.replicas) {
    t.is(r.stats.lastExecuted, 7);
    t.is(r.stats.lowWatermark, 6);
    t.is(r.stats.logSize, 1, 'only slot 7 is left');
  }
  t.true(g.events.some((e) => e.event.kind === 'stable' && e.event.seq === 6));
});

test('the log window stops the primary until a checkpoint is stable; lost checkpoints come back with status', (t) => {
  const g = group(4, { checkpointInterval: 2, logWindow: 2, maxBatch: 1 });
  const isCheckpoint = (_f: number, _t: number, bytes: Uint8Array): boolean => {
    const f = decodeFrame(bytes);
    return typeof f !== 'string' && f.body.k === 'checkpoint';
  };
  for (let i = 1; i <= 4; i++) g.submit(1000, 0, req(1000 + i, 1, `k${i}`));
  g.run(isCheckpoint);
  for (const r of g.replicas) {
    t.is(r.stats.lastExecuted, 2, 'two slots fit in the window');
    t.is(r.stats.lowWatermark, 0);
  }
  g.tick(100);
  g.run();
  for (const r of g.replicas) {
    t.is(r.stats.lastExecuted, 4);
    t.is(r.stats.lowWatermark, 4);
  }
});

test('view change: a silent primary is replaced and the request completes in view 1', (t) => {
  const g = group(4, { requestTimeout: 100 });
  const silent = (from: number): boolean => from === 0;
  const r1 = req(1001, 1, 'a');
  for (let r = 1; r < 4; r++) g.replicas[r]!.receive(1001, r1, 0);
  g.run(silent);
  t.is(executed(g.events, 1).length, 0);
  g.tick(101);
  g.run(silent);
  for (let r = 1; r < 4; r++) {
    t.is(g.replicas[r]!.stats.view, 1);
    t.true(g.replicas[r]!.stats.active);
    t.is(executed(g.events, r).length, 1, `replica ${r}`);
  }
});

test('view change keeps a prepared request at its sequence number', (t) => {
  const g = group(4, { requestTimeout: 100 });
  const r1 = req(1001, 1, 'a');
  // Everyone prepares seq 1, but commits are lost: nothing executes in view 0.
  const isCommit = (_f: number, _t: number, bytes: Uint8Array): boolean => {
    const f = decodeFrame(bytes);
    return typeof f !== 'string' && f.body.k === 'commit';
  };
  for (let r = 0; r < 4; r++) g.replicas[r]!.receive(1001, r1, 0);
  g.run(isCommit);
  t.is(executed(g.events, 1).length, 0);
  g.tick(101);
  g.run();
  for (let r = 0; r < 4; r++) {
    const ex = executed(g.events, r);
    t.is(ex.length, 1, `replica ${r}`);
    t.is(ex[0]!.seq, 1);
    t.is(ex[0]!.view, 1);
    t.is(ex[0]!.requests[0]!.client, 1001);
  }
});

test('a primary that starves one client is replaced although it serves others', (t) => {
  const g = group(4, { requestTimeout: 100, statusInterval: 10_000 });
  const censored = (_f: number, to: number, bytes: Uint8Array): boolean => {
    const f = decodeFrame(bytes);
    return to === 0 && typeof f !== 'string' && f.body.k === 'request' && f.body.client === 2000;
  };
  const rb = req(2000, 1, 'b');
  for (let r = 1; r < 4; r++) g.submit(2000, r, rb);
  g.run(censored);
  for (let i = 1; i <= 3; i++) {
    g.tick(i * 30);
    g.submit(1000, 0, req(1001, i, `a${i}`));
    g.run(censored);
    t.is(g.replicas[1]!.stats.view, 0, `still view 0 at ${i * 30}`);
  }
  t.is(executed(g.events, 1).length, 3, 'the other client was served');
  g.tick(120);
  g.run(censored);
  for (let r = 1; r < 4; r++) t.true(g.replicas[r]!.stats.view >= 1, `replica ${r} moved on`);
  const b = executed(g.events, 2).flatMap((e) => e.requests).filter((x) => x.client === 2000);
  t.is(b.length, 1, 'the starved request ran in the new view');
});

test('requests from their client’s own channel need no signature, in the pre-prepare too; others must be signed', (t) => {
  const sigs = hmacSignatures(5, 'replica');
  const clientSigs = hmacSignatures(5, 'client');
  const backup = (id: number): Replica =>
    new Replica({ id, n: 4, signer: sigs.signer(id), verifier: sigs.verifier, clientVerifier: clientSigs.verifier, stateMachine: new KvStateMachine(), now: 0 });
  const unsigned = req(7, 1, 'a');
  const prepares = (actions: ReturnType<Replica['receive']>): number =>
    actions.filter((a) => a.kind === 'broadcast' && (decodeFrame(a.bytes) as { body: { k: string } }).body.k === 'prepare').length;
  const pp = (seq: number, batch: Uint8Array[]): Uint8Array => sign({ k: 'preprepare', v: 0, n: seq, d: batchDigest(batch), batch, r: 0 }, sigs.signer(0));

  const b1 = backup(1);
  b1.fromClient(new Set([7]), unsigned, 0);
  t.is(b1.stats.dropped['bad-signature'], 0, 'taken from the channel of the node holding client 7');
  t.is(prepares(b1.receive(0, pp(1, [unsigned]), 1)), 1, 'the same bytes in the pre-prepare: prepared without a signature check');

  const b2 = backup(2);
  t.is(prepares(b2.receive(0, pp(1, [unsigned]), 1)), 0, 'never received from its client: an unsigned request is refused');
  t.is(b2.stats.dropped['invalid'], 1);
  b2.fromClient(new Set([8]), unsigned, 2);
  t.is(b2.stats.dropped['bad-signature'], 1, 'a node holding client 8 cannot speak for client 7 unsigned');
  const signed = sign({ k: 'request', client: 7, t: 2, op: encodeKvOp({ op: 'put', key: 'b', value: new Uint8Array([2]) }) }, clientSigs.signer(7));
  t.is(prepares(b2.receive(0, pp(1, [signed]), 3)), 1, 'a signed request is taken from anywhere');
});

test('a failed channel to the primary: one suspicion moves only its replica, f+1 move the group to a new view that commits', (t) => {
  const g = group(4);
  g.deliver(1000, 0, req(1001, 1, 'a'));
  g.apply(1, g.replicas[1]!.suspectPrimary(g.now));
  t.deepEqual(g.replicas.map((r) => r.stats.view), [0, 1, 0, 0], 'one replica alone cannot depose the primary');
  t.false(g.replicas[1]!.stats.active);
  t.deepEqual(g.replicas[0]!.suspectPrimary(g.now), [], 'the primary does not suspect itself');
  g.apply(2, g.replicas[2]!.suspectPrimary(g.now));
  t.deepEqual(g.replicas.slice(1).map((r) => [r.stats.view, r.stats.active]), [[1, true], [1, true], [1, true]], 'f+1 suspicions: the rest follow and the new view starts');
  g.deliver(1000, 1, req(1002, 1, 'b'));
  for (let r = 1; r < 4; r++) t.deepEqual(executed(g.events, r).map((e) => [e.seq, e.view]), [[1, 0], [2, 1]], `replica ${r}`);
});
