import test from 'ava';
import { Client, ConsensusError, decodeFrame, sign } from '../../src/consensus/index.js';

// Replies travel unsigned: the channel names the replica that sent them.
const reply = (r: number, t: number, result: number[], client = 1001): Uint8Array => sign({ k: 'reply', v: 0, t, client, result: new Uint8Array(result), r }, undefined);

test('a result needs f+1 matching replies from distinct replicas', (t) => {
  const c = new Client({ id: 1001, n: 4 });
  const [send] = c.request(new Uint8Array([1]), 0);
  t.is(send?.kind, 'broadcast', 'to every replica: backups then hold it from our own channel');
  if (send?.kind !== 'broadcast') return;
  const f = decodeFrame(send.bytes);
  t.true(typeof f !== 'string' && f.body.k === 'request' && f.body.t === 1);
  t.deepEqual(c.receive(0, reply(0, 1, [7]), 1), []);
  t.deepEqual(c.receive(0, reply(0, 1, [7]), 1), [], 'the same replica twice counts once');
  t.deepEqual(c.receive(1, reply(1, 1, [8]), 1), [], 'a different result does not match');
  t.deepEqual(c.receive(3, reply(2, 1, [7]), 1), [], 'forged: sent by 3, claiming 2');
  t.is(c.stats.dropped['wrong-sender'], 1);
  t.deepEqual(c.receive(2, reply(2, 1, [9], 1002), 1), [], 'another client');
  const out = c.receive(3, reply(3, 1, [7]), 1);
  t.is(out.length, 1);
  const r = out[0]!;
  if (r.kind !== 'result') return t.fail();
  t.deepEqual([...r.result], [7]);
  t.deepEqual(r.replicas, [0, 3]);
  t.false(c.busy);
  t.deepEqual(c.receive(2, reply(2, 1, [7]), 2), [], 'late replies are stale');
});

test('retransmission goes to every replica; one request at a time; bad config is typed', (t) => {
  const c = new Client({ id: 1, n: 7, retransmitTimeout: 50 });
  c.request(new Uint8Array([1]), 0);
  t.deepEqual(c.tick(49), []);
  t.is(c.tick(50)[0]?.kind, 'broadcast');
  t.is(c.nextDeadline(), 100);
  t.is(t.throws(() => c.request(new Uint8Array([2]), 1), { instanceOf: ConsensusError })?.code, 'BAD_STATE');
  t.is(t.throws(() => new Client({ id: -1, n: 4 }), { instanceOf: ConsensusError })?.code, 'BAD_ARGUMENT');
  t.is(t.throws(() => new Client({ id: 1, n: 3 }), { instanceOf: ConsensusError })?.code, 'BAD_ARGUMENT');
});

test('n=7 needs three matching replies', (t) => {
  const c = new Client({ id: 1001, n: 7 });
  c.request(new Uint8Array([1]), 0);
  t.deepEqual(c.receive(0, reply(0, 1, [1]), 0), []);
  t.deepEqual(c.receive(1, reply(1, 1, [1]), 0), []);
  t.is(c.receive(2, reply(2, 1, [1]), 0)[0]?.kind, 'result');
});
