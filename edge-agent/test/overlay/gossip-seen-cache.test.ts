/** SeenCache: expiry after ttl, the capacity bound, and the 52-bit key. */
import { createHash } from 'node:crypto';
import test from 'ava';
import { GossipError } from '../../src/overlay/gossip-errors.js';
import { SeenCache, hashKey } from '../../src/overlay/seen-cache.js';

const h = (n: number): Uint8Array => new Uint8Array(createHash('sha256').update(String(n)).digest());

test('an added hash is seen until ttl has passed, then forgotten', (t) => {
  const cache = new SeenCache(1000, 100);
  t.true(cache.add(h(1), 0));
  t.false(cache.add(h(1), 10), 'second add reports the duplicate');
  t.true(cache.has(h(1), 999));
  t.false(cache.has(h(2), 999));
  t.false(cache.has(h(1), 1000));
  t.is(cache.size, 0);
  t.true(cache.add(h(1), 1000), 'can be added again after expiry');
});

test('a duplicate add does not refresh the entry time', (t) => {
  const cache = new SeenCache(1000, 100);
  cache.add(h(1), 0);
  cache.add(h(1), 900);
  t.false(cache.has(h(1), 1000));
});

test('expiry drops entries in insertion order', (t) => {
  const cache = new SeenCache(100, 1000);
  for (let i = 0; i < 50; i++) cache.add(h(i), i);
  cache.expire(124);
  t.is(cache.size, 25);
  t.false(cache.has(h(24), 124));
  t.true(cache.has(h(25), 124));
});

test('capacity is a hard bound: the oldest entry goes first; the ring grows and wraps correctly', (t) => {
  const cache = new SeenCache(1_000_000, 40);
  for (let i = 0; i < 500; i++) {
    cache.add(h(i), i);
    t.true(cache.size <= 40);
  }
  t.is(cache.size, 40);
  for (let i = 0; i < 460; i++) if (cache.has(h(i), 500)) t.fail(`entry ${i} should be gone`);
  for (let i = 460; i < 500; i++) t.true(cache.has(h(i), 500), `entry ${i}`);
  // Expire a few from the wrapped ring, then grow again.
  cache.expire(1_000_470);
  t.is(cache.size, 29);
  t.true(cache.has(h(471), 1_000_470));
});

test('hashKey takes the first 52 bits exactly', (t) => {
  t.is(hashKey(new Uint8Array(32)), 0);
  t.is(hashKey(new Uint8Array(32).fill(0xff)), 2 ** 52 - 1);
  const one = new Uint8Array(32);
  one[6] = 0x10; // bit 52 from the top
  t.is(hashKey(one), 1);
  one[6] = 0x0f; // bits beyond 52 are ignored
  t.is(hashKey(one), 0);
  t.throws(() => hashKey(new Uint8Array(3)), { instanceOf: GossipError });
});

test('bad construction arguments throw BAD_ARGUMENT', (t) => {
  t.throws(() => new SeenCache(0, 10), { instanceOf: GossipError });
  t.throws(() => new SeenCache(10, 0), { instanceOf: GossipError });
  t.throws(() => new SeenCache(10, 1.5), { instanceOf: GossipError });
  t.throws(() => new SeenCache(10, 10).has(h(1), Number.NaN), { instanceOf: GossipError });
});
