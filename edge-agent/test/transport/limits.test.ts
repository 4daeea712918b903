/** Token buckets, reconnect backoff and option validation: pure, on a ManualClock. */
import test from 'ava';
import { ManualClock } from '../../src/clock/index.js';
import { TransportError } from '../../src/transport/index.js';
import { Backoff, resolveBackoff } from '../../src/transport/backoff.js';
import { resolveChannelOptions } from '../../src/transport/options.js';
import { InboundLimiter, TokenBucket, resolveRateLimit } from '../../src/transport/rate-limit.js';

test('a token bucket allows its burst at once, then its rate, and never more than its burst', (t) => {
  const clock = new ManualClock(1000);
  const bucket = new TokenBucket(10, 5, clock);
  for (let i = 0; i < 5; i++) t.true(bucket.take(1));
  t.false(bucket.take(1));
  clock.advance(100); // one token
  t.true(bucket.take(1));
  t.false(bucket.take(1));
  clock.advance(60_000); // refills to the burst only
  for (let i = 0; i < 5; i++) t.true(bucket.take(1));
  t.false(bucket.take(1));
  t.false(bucket.take(6), 'more than the burst never fits');
});

test('a clock stepping back mints no tokens; Infinity means no limit', (t) => {
  const clock = new ManualClock(10_000);
  const stepping = { now: () => 5, setTimer: clock.setTimer.bind(clock) };
  const b = new TokenBucket(1000, 1, stepping);
  t.true(b.take(1));
  stepping.now = () => 0;
  t.false(b.take(1));
  const free = new InboundLimiter(resolveRateLimit({ messagesPerSec: Infinity, bytesPerSec: Infinity }), clock);
  for (let i = 0; i < 10_000; i++) t.true(free.message() && free.bytes(1_000_000), 'unlimited');
});

test('the inbound limiter counts messages and bytes separately', (t) => {
  const clock = new ManualClock(0);
  const limiter = new InboundLimiter(resolveRateLimit({ messagesPerSec: 1, messageBurst: 2, bytesPerSec: 100, byteBurst: 1000 }), clock);
  t.true(limiter.bytes(1000));
  t.false(limiter.bytes(1));
  t.true(limiter.message());
  t.true(limiter.message());
  t.false(limiter.message());
  clock.advance(1000);
  t.true(limiter.message());
  t.true(limiter.bytes(100));
});

test('backoff doubles up to its maximum, jitters within the upper half, and resets', (t) => {
  let r = 0;
  const backoff = new Backoff(resolveBackoff({ initialMs: 100, maxMs: 1000 }), () => r);
  t.is(backoff.next(), 50);
  t.is(backoff.next(), 100);
  t.is(backoff.next(), 200);
  t.is(backoff.next(), 400);
  t.is(backoff.next(), 500);
  t.is(backoff.next(), 500);
  r = 0.999;
  t.true(backoff.next() < 1000);
  backoff.reset();
  r = 0.5;
  t.is(backoff.next(), 75);
  t.throws(() => resolveBackoff({ initialMs: 10, maxMs: 5 }), { instanceOf: TransportError, code: 'BAD_ARGUMENT' });
  t.throws(() => new Backoff(resolveBackoff(undefined), 'no' as unknown as () => number), { instanceOf: TransportError, code: 'BAD_ARGUMENT' });
});

test('channel options have the documented defaults and refuse nonsense', (t) => {
  const o = resolveChannelOptions(undefined);
  t.is(o.handshakeTimeoutMs, 5000);
  t.is(o.idleTimeoutMs, 60_000);
  t.is(o.keepaliveMs, 15_000);
  t.is(o.maxMessageSize, 4 * 1024 * 1024);
  t.deepEqual({ ...o.rateLimit }, { messagesPerSec: 200, messageBurst: 400, bytesPerSec: 2 * 1024 * 1024, byteBurst: 8 * 1024 * 1024 });
  for (const bad of [{ idleTimeoutMs: 0 }, { keepaliveMs: 1.5 }, { maxMessageSize: -1 }, { clock: {} }, { rateLimit: { byteBurst: 10 } }]) {
    t.throws(() => resolveChannelOptions(bad as never), { instanceOf: TransportError, code: 'BAD_ARGUMENT' }, JSON.stringify(bad));
  }
});
