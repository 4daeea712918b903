/** The disciplined virtual clock: offset, frequency, step and slew over a local time source. */
import test from 'ava';
import { DisciplinedClock, TimeError } from '../../src/time/index.js';

test('the disciplined clock maps local time through offset, frequency, step and slew', (t) => {
  const c = new DisciplinedClock({ initialOffsetNs: 1000n });
  t.is(c.nowNs(5_000n), 6_000n);
  c.setFrequency(100_000, 1_000_000_000n); // +100 ppm from local 1 s on
  t.is(c.nowNs(2_000_000_000n), 2_000_001_000n + 100_000n);
  c.step(-500n, 2_000_000_000n);
  t.is(c.nowNs(2_000_000_000n), 2_000_100_500n);
  t.is(c.stepCount, 1);
  // A slew of +10 us at 500 ppm takes 20 ms of local time, then stops.
  c.setFrequency(0, 3_000_000_000n);
  const base = c.nowNs(3_000_000_000n);
  c.slew(10_000n, 3_000_000_000n, 500_000);
  t.true(c.slewing(3_010_000_000n));
  t.is(c.nowNs(3_010_000_000n) - base, 10_000_000n + 5_000n);
  t.is(c.nowNs(3_100_000_000n) - base, 100_000_000n + 10_000n);
  t.false(c.slewing(3_100_000_000n));
  // Changes folded in keep continuity: no jump at the change instant.
  const before = c.nowNs(4_000_000_000n);
  c.setFrequency(-50_000, 4_000_000_000n);
  t.is(c.nowNs(4_000_000_000n), before);
  t.is(c.frequencyPpb, -50_000);
});

test('the disciplined clock refuses changes in the past and absurd frequencies', (t) => {
  const c = new DisciplinedClock();
  c.setFrequency(1, 10n);
  t.is(t.throws(() => c.setFrequency(1, 5n), { instanceOf: TimeError })?.code, 'BAD_ARGUMENT');
  t.throws(() => c.setFrequency(1e12, 20n), { instanceOf: TimeError });
  t.throws(() => c.nowNs(1 as unknown as bigint), { instanceOf: TimeError });
});
