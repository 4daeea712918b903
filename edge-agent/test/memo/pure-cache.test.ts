import test from 'ava';
import { PureCache } from '../../src/memo/index.js';

test('a result is computed once per key, and the cache is cleared whole past its limit', (t) => {
  const cache = new PureCache(3);
  let calls = 0;
  const square = (x: number): number => cache.memo(`sq:${x}`, () => (calls++, x * x));
  t.is(square(2), 4);
  t.is(square(2), 4);
  t.is(calls, 1);
  square(3);
  square(4);
  t.is(cache.size, 3);
  square(5); // over the limit: cleared, then this one kept
  t.is(cache.size, 1);
  t.is(square(2), 4);
  t.is(calls, 5);
});

test('the limit must be a positive integer', (t) => {
  t.throws(() => new PureCache(0), { instanceOf: RangeError });
  t.throws(() => new PureCache(1.5), { instanceOf: RangeError });
});
