import test from 'ava';
import { ConfirmRound } from '../../src/threshold/index.js';

const d = (x: number): Uint8Array => new Uint8Array(32).fill(x);

test('confirmed once every other qualified member sent the same digest; repeats and strangers are ignored', (t) => {
  const r = new ConfirmRound(1, [1, 2, 3, 4], d(7));
  t.is(r.state.kind, 'pending');
  t.deepEqual(r.missing(), [2, 3, 4]);
  r.receive(2, d(7));
  r.receive(9, d(8)); // not qualified by us: not heard
  r.receive(3, d(7));
  t.is(r.state.kind, 'pending');
  t.deepEqual(r.missing(), [4]);
  r.receive(4, d(7));
  r.receive(4, d(8)); // only the first counts
  t.is(r.state.kind, 'confirmed');
});

test('one different digest is a difference, whatever else came', (t) => {
  const r = new ConfirmRound(2, [1, 2, 3], d(1));
  r.receive(3, d(2));
  t.deepEqual(r.state, { kind: 'differ', members: [3] });
  r.receive(1, d(1));
  t.deepEqual(r.state, { kind: 'differ', members: [3] });
  t.deepEqual(r.missing(), []);
});
