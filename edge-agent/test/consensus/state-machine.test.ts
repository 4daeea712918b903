import test from 'ava';
import { ConsensusError, decodeKvResult, encodeKvOp, KvStateMachine } from '../../src/consensus/index.js';

test('kv machine: put, get, delete; snapshot and digest are deterministic; restore round-trips', (t) => {
  const a = new KvStateMachine();
  const b = new KvStateMachine();
  t.deepEqual(decodeKvResult(a.execute(encodeKvOp({ op: 'put', key: 'x', value: new Uint8Array([1]) }))), { ok: true });
  a.execute(encodeKvOp({ op: 'put', key: 'a', value: new Uint8Array([2]) }));
  b.execute(encodeKvOp({ op: 'put', key: 'a', value: new Uint8Array([2]) }));
  b.execute(encodeKvOp({ op: 'put', key: 'x', value: new Uint8Array([1]) }));
  t.deepEqual(a.snapshot(), b.snapshot(), 'insertion order does not matter');
  t.deepEqual(a.digest(), b.digest());
  const got = decodeKvResult(a.execute(encodeKvOp({ op: 'get', key: 'x' })));
  t.true(got.ok && got.value?.[0] === 1);
  t.deepEqual(decodeKvResult(a.execute(encodeKvOp({ op: 'delete', key: 'x' }))), { ok: true });
  t.deepEqual(decodeKvResult(a.execute(encodeKvOp({ op: 'get', key: 'x' }))), { ok: false, error: 'not-found' });
  t.deepEqual(decodeKvResult(a.execute(new Uint8Array([0xff, 0]))), { ok: false, error: 'malformed' });
  const c = new KvStateMachine();
  c.restore(b.snapshot());
  t.deepEqual(c.digest(), b.digest());
  t.is(t.throws(() => c.restore(new Uint8Array([1, 2])), { instanceOf: ConsensusError })?.code, 'MALFORMED');
  t.deepEqual(c.digest(), b.digest(), 'a refused snapshot changes nothing');
  t.is(t.throws(() => encodeKvOp({ op: 'get', key: '' }), { instanceOf: ConsensusError })?.code, 'BAD_ARGUMENT');
});
