import test from 'ava';
import { ManualClock } from '../../src/clock/index.js';
import { ProgressMeter, ProgressThrottle, ProvisionError, formatDuration, formatProgress } from '../../src/provision/index.js';

test('the estimate: boards left × 2^d at one worker\'s rate, spread over the busy workers', (t) => {
  const meter = new ProgressMeter(7, 20, 2);
  t.deepEqual(meter.snapshot(), { done: 0, total: 7, solving: 0, hashesPerSec: 0, etaSeconds: undefined });
  meter.update('a', 2 ** 20); // one second per board per worker
  meter.update('b', 2 ** 20);
  let s = meter.snapshot();
  t.is(s.solving, 2);
  t.is(s.hashesPerSec, 2 ** 21);
  t.is(s.etaSeconds, 3.5); // 7 boards, 2 at a time
  meter.solved('a');
  meter.solved('b');
  meter.update('c', 2 ** 19); // a slower report drags the mean rate down
  meter.update('d', 3 * 2 ** 19);
  t.is(meter.snapshot().etaSeconds, 2.5);
  for (const id of ['c', 'd', 'e', 'f']) meter.solved(id);
  meter.update('g', 2 ** 20);
  s = meter.snapshot();
  t.is(s.etaSeconds, 1, 'one board left uses one worker');
  meter.solved('g');
  t.deepEqual(meter.snapshot(), { done: 7, total: 7, solving: 0, hashesPerSec: 0, etaSeconds: 0 });
  meter.solved('extra');
  t.is(meter.snapshot().done, 7, 'never past the total');
});

test('a dropped board stops counting as searched for', (t) => {
  const meter = new ProgressMeter(2, 4, 2);
  meter.update('a', 100);
  meter.dropped('a');
  t.is(meter.snapshot().solving, 0);
  t.is(meter.snapshot().etaSeconds, undefined);
  t.throws(() => meter.update('a', -1), { instanceOf: ProvisionError });
  t.throws(() => new ProgressMeter(1, 4, 0), { instanceOf: ProvisionError });
});

test('the line and the durations read well', (t) => {
  t.is(formatProgress({ done: 3, total: 7, solving: 2, hashesPerSec: 1_020_000, etaSeconds: 4 }), 'proof of work: 3/7 boards, 2 solving, 1.02M hashes/s, about 4.0 s left');
  t.is(formatProgress({ done: 0, total: 7, solving: 0, hashesPerSec: 0, etaSeconds: undefined }), 'proof of work: 0/7 boards, 0 solving, 0 hashes/s, estimating time left');
  t.is(formatProgress({ done: 0, total: 1, solving: 1, hashesPerSec: 436_400, etaSeconds: 0.033 }), 'proof of work: 0/1 boards, 1 solving, 436k hashes/s, about 33 ms left');
  t.is(formatDuration(150), '2.5 min');
  t.is(formatDuration(9000), '2.5 h');
  t.is(formatDuration(Number.NaN), '?');
});

test('the throttle lets one line through per interval, on the injected clock', (t) => {
  const clock = new ManualClock(1000);
  const throttle = new ProgressThrottle(clock, 5000);
  t.true(throttle.due());
  t.false(throttle.due());
  clock.advance(4999);
  t.false(throttle.due());
  clock.advance(1);
  t.true(throttle.due());
  t.false(throttle.due());
  t.throws(() => new ProgressThrottle(clock, -1), { instanceOf: ProvisionError });
});
