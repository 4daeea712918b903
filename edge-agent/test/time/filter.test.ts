/** The moving median (ptp4l's delay filter). */
import test from 'ava';
import { MovingMedian, TimeError } from '../../src/time/index.js';

test('the moving median ignores spikes and keeps only the last N', (t) => {
  const m = new MovingMedian(5);
  for (const x of [100, 101, 99, 50_000, 100]) m.push(x);
  t.is(m.value, 100);
  for (let i = 0; i < 5; i++) m.push(7);
  t.is(m.value, 7);
  t.is(m.count, 5);
  t.throws(() => new MovingMedian(0), { instanceOf: TimeError });
  t.throws(() => m.push(NaN), { instanceOf: TimeError });
});
