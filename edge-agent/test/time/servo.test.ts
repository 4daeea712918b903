/** The two servos: linuxptp's PI servo (gains, states, thresholds) and the median servo, in closed loop. */
import test from 'ava';
import { DisciplinedClock, MedianServo, PiServo, TimeError, createServo, type Servo } from '../../src/time/index.js';
import { seededRandom } from '../helpers/random.js';

const S = 1_000_000_000n;
const close = (a: number, b: number, eps = 1e-9): boolean => Math.abs(a - b) <= eps * Math.max(1, Math.abs(b));

test('PI gains follow ptp4l: software 0.1/0.001, hardware 0.7/0.3, scaled by the sync interval', (t) => {
  const sw = new PiServo({ timestamping: 'software', syncIntervalS: 1 });
  t.deepEqual(sw.gains, { kp: 0.1, ki: 0.001 });
  sw.setSyncInterval(0.125);
  t.true(close(sw.gains.kp, 0.1 * 0.125 ** -0.3));
  t.true(close(sw.gains.ki, 0.001 * 0.125 ** 0.4));
  const hw = new PiServo({ timestamping: 'hardware', syncIntervalS: 1 });
  t.deepEqual(hw.gains, { kp: 0.7, ki: 0.3 });
  hw.setSyncInterval(4); // the norm maxima cap slow sync rates: kp <= 0.7/T, ki <= 0.3/T
  t.true(close(hw.gains.kp, 0.7 / 4));
  t.true(close(hw.gains.ki, 0.3 / 4));
  const fixed = new PiServo({ kp: 0.5, ki: 0.05, syncIntervalS: 0.25 });
  t.deepEqual(fixed.gains, { kp: 0.5, ki: 0.05 });
  // Only one scale configured: both come from the timestamping mode, as in ptp4l.
  t.deepEqual(new PiServo({ kpScale: 0.3, syncIntervalS: 1 }).gains, { kp: 0.1, ki: 0.001 });
});

test('PI: UNLOCKED, waits 0.016/ki before estimating, then JUMPs a first offset over 20 us', (t) => {
  const s = new PiServo({ timestamping: 'hardware', syncIntervalS: 1 }); // ki 0.3: wait >= 0.0533 s
  t.deepEqual(s.sample(100_000, 10n * S), { state: 'UNLOCKED', freqPpb: 0 });
  t.deepEqual(s.sample(100_010, 10n * S + 10_000_000n), { state: 'UNLOCKED', freqPpb: 0 }); // 10 ms: too soon
  // 1 s later the offset grew by 2000 ns: the clock is 2000 ppb fast.
  const out = s.sample(102_000, 11n * S);
  t.is(out.state, 'JUMP');
  t.is(out.stepNs, -102_000);
  t.true(close(out.freqPpb, -2000 * (1 - 0) * (1e9 / 1e9)));
  // After the first update no offset is stepped (step_threshold 0).
  const after = s.sample(60_000, 12n * S);
  t.is(after.state, 'LOCKED');
  t.is(after.stepNs, undefined);
  // LOCKED: freq = -(kp*o + ki*o + drift), and the integral is kept.
  t.true(close(after.freqPpb, -(0.7 * 60_000 + 0.3 * 60_000 + 2000)));
  const next = s.sample(0, 13n * S);
  t.true(close(next.freqPpb, -(2000 + 0.3 * 60_000)));
});

test('PI: a small first offset locks without a step; step_threshold resets to UNLOCKED', (t) => {
  const s = new PiServo({ timestamping: 'hardware', syncIntervalS: 1, stepThresholdNs: 1_000_000 });
  s.sample(5_000, 0n);
  const first = s.sample(5_000, S);
  t.is(first.state, 'LOCKED');
  t.is(first.stepNs, undefined);
  t.is(s.sample(2_000_000, 2n * S).state, 'UNLOCKED');
  s.sample(2_000_000, 3n * S);
  const again = s.sample(2_000_100, 4n * S);
  t.is(again.state, 'JUMP'); // over step_threshold: stepped even after the first update
  t.is(again.stepNs, -2_000_100);
});

test('PI: max_frequency clamps the output and freezes the integral', (t) => {
  const s = new PiServo({ timestamping: 'hardware', syncIntervalS: 1, maxFrequencyPpb: 1000, firstStepThresholdNs: 0 });
  s.sample(0, 0n);
  s.sample(0, S);
  t.is(s.sample(1_000_000, 2n * S).freqPpb, -1000);
  // The integral did not wind up: a zero offset gives back the (zero) drift.
  t.is(s.sample(0, 3n * S).freqPpb, 0);
});

/** Closed loop: a clock `freqPpb` fast and `offsetNs` ahead, sampled every `interval` s with Gaussian noise. */
function loop(servo: Servo, opts: { freqPpb: number; offsetNs: number; noiseNs: number; seconds: number; interval: number; kick?: { at: number; ns: number } }) {
  const rand = seededRandom(42);
  const g = () => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
  const clock = new DisciplinedClock();
  const dt = BigInt(Math.round(opts.interval * 1e9));
  let trueNs = 1_000n * S;
  let local = trueNs + BigInt(opts.offsetNs);
  const errors: number[] = [];
  const states: string[] = [];
  const freqs: number[] = [];
  let steps = 0;
  for (let k = 0; k * opts.interval < opts.seconds; k++) {
    trueNs += dt;
    local += dt + BigInt(Math.round(opts.freqPpb * opts.interval));
    if (opts.kick && k === Math.round(opts.kick.at / opts.interval)) trueNs += BigInt(opts.kick.ns); // the master's time jumps
    const err = Number(clock.nowNs(local) - trueNs);
    const out = servo.sample(err + g() * opts.noiseNs, local);
    if (out.stepNs !== undefined) {
      steps++;
      clock.step(BigInt(Math.round(out.stepNs)), local);
    }
    clock.setFrequency(out.freqPpb, local);
    states.push(out.state);
    freqs.push(out.freqPpb);
    errors.push(Number(clock.nowNs(local) - trueNs));
  }
  return { errors, states, steps, freqs };
}

for (const kind of ['pi', 'median'] as const) {
  test(`${kind}: converges on a 50 ppm fast clock 3 ms ahead, with one step`, (t) => {
    const r = loop(createServo(kind, { syncIntervalS: 0.125 }), { freqPpb: 50_000, offsetNs: 3_000_000, noiseNs: 1_000, seconds: 300, interval: 0.125 });
    t.is(r.steps, 1);
    const tail = r.errors.slice(-800).map(Math.abs);
    t.true(Math.max(...tail) < 3_000, `max |error| over the last 100 s: ${Math.max(...tail)} ns`);
    t.is(r.states.at(-1), 'LOCKED');
    const f = r.freqs.slice(-800).reduce((a, b) => a + b, 0) / 800;
    t.true(Math.abs(f + 50_000 / 1.00005) < 500, `mean frequency ${f}`);
  });
}

test('median: after the first step it only slews, at a bounded rate', (t) => {
  const servo = new MedianServo({ syncIntervalS: 0.125, maxSlewPpb: 100_000 });
  const r = loop(servo, { freqPpb: 20_000, offsetNs: 1_000_000, noiseNs: 500, seconds: 200, interval: 0.125, kick: { at: 100, ns: 500_000 } });
  t.is(r.steps, 1);
  t.false(r.states.slice(20).includes('JUMP'));
  t.is(servo.phaseJumpCount, 1);
  // Slewing 0.5 ms at <= 100 ppm on top of the drift: never more than 100 ppm off the drift correction.
  for (const f of r.freqs.slice(200)) t.true(Math.abs(f + 20_000) <= 100_000 + 2_000, `freq ${f}`);
  // And it gets there: 0.5 ms at 100 ppm takes 5 s, give it 60.
  const tail = r.errors.slice(-400).map(Math.abs);
  t.true(Math.max(...tail) < 3_000, `max |error| after the kick: ${Math.max(...tail)}`);
});

test('createServo validates its kind and options', (t) => {
  t.is(createServo('pi').kind, 'pi');
  t.is(createServo('median').kind, 'median');
  t.is(t.throws(() => createServo('kalman' as 'pi'), { instanceOf: TimeError })?.code, 'BAD_ARGUMENT');
  t.throws(() => new MedianServo({ windowLength: 0 }), { instanceOf: TimeError });
  t.throws(() => new PiServo({ maxFrequencyPpb: -1 }), { instanceOf: TimeError });
  t.throws(() => new PiServo().sample(Number.NaN, 0n), { instanceOf: TimeError });
});
