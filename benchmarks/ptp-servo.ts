/**
 * The two PTP servos on the same deterministic jitter traces, in closed loop:
 * a slave clock with a known (changing) frequency error is disciplined by the
 * servo from noisy offset measurements, one per sync interval (1/8 s, as the
 * interop setup's logSyncInterval -3), and the true error of the disciplined
 * clock is recorded. Traces: white Gaussian stamp noise of software size,
 * heavy-tailed spikes of tens of microseconds (what this shared machine shows),
 * a frequency step, and slow wander. Figures, not pass/fail:
 * rms / p99 / max of |error| after the first 120 s, and the time after which
 * |error| stays under 10 us.
 */
import { DisciplinedClock, createServo, type ServoKind } from '../edge-agent/src/time/index.js';
import type { BenchResult } from './run.js';
import { round } from './lib/measure.js';
import { seededRandom } from '../edge-agent/test/helpers/random.js';

const INTERVAL_S = 0.125;
const DURATION_S = 600;
const WARMUP_S = 120;
const SETTLED_NS = 10_000;

interface Trace {
  /** Frequency error of the free-running clock at time t (ppb). */
  freqPpb(t: number): number;
  /** Measurement noise of one offset sample (ns). */
  noise(): number;
}

function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
}

function traces(): Record<string, () => Trace> {
  return {
    gaussian: () => {
      const g = gaussian(seededRandom(1));
      return { freqPpb: () => 30_000, noise: () => 1_000 * g() };
    },
    spikes: () => {
      const r = seededRandom(2);
      const g = gaussian(r);
      // 5% of samples late by 20-80 us: a descheduled receiver stamps late, so spikes are one-sided.
      return { freqPpb: () => 30_000, noise: () => 1_000 * g() + (r() < 0.05 ? 20_000 + 60_000 * r() : 0) };
    },
    freqStep: () => {
      const g = gaussian(seededRandom(3));
      return { freqPpb: (t) => (t < 300 ? 30_000 : 32_000), noise: () => 1_000 * g() };
    },
    wander: () => {
      const r = seededRandom(4);
      const g = gaussian(r);
      let walk = 0;
      let lastT = 0;
      return {
        freqPpb: (t) => {
          if (t > lastT) {
            walk += 3 * g(); // random-walk frequency, ~3 ppb per sample
            lastT = t;
          }
          return 30_000 + 1_000 * Math.sin((2 * Math.PI * t) / 240) + walk;
        },
        noise: () => 1_000 * g(),
      };
    },
  };
}

interface Figures {
  rmsNs: number;
  p99Ns: number;
  maxNs: number;
  settleSeconds: number | null;
  steps: number;
}

function replay(kind: ServoKind, make: () => Trace): Figures {
  const trace = make();
  const servo = createServo(kind, { syncIntervalS: INTERVAL_S });
  const clock = new DisciplinedClock();
  const stepNs = BigInt(Math.round(INTERVAL_S * 1e9));
  // The free-running local clock starts 2 ms ahead of the master.
  let trueNs = 1_700_000_000n * 1_000_000_000n;
  let localNs = trueNs + 2_000_000n;
  const errors: number[] = [];
  let lastBad = 0;
  let steps = 0;
  for (let k = 0; k * INTERVAL_S < DURATION_S; k++) {
    const t = k * INTERVAL_S;
    trueNs += stepNs;
    localNs += stepNs + BigInt(Math.round(trace.freqPpb(t) * INTERVAL_S));
    const err = Number(clock.nowNs(localNs) - trueNs);
    const out = servo.sample(err + trace.noise(), localNs);
    if (out.stepNs !== undefined) {
      clock.step(BigInt(Math.round(out.stepNs)), localNs);
      steps++;
    }
    clock.setFrequency(out.freqPpb, localNs);
    const after = Math.abs(Number(clock.nowNs(localNs) - trueNs));
    if (after >= SETTLED_NS) lastBad = t + INTERVAL_S;
    if (t >= WARMUP_S) errors.push(after);
  }
  errors.sort((a, b) => a - b);
  const rms = Math.sqrt(errors.reduce((s, e) => s + e * e, 0) / errors.length);
  return {
    rmsNs: round(rms, 0),
    p99Ns: round(errors[Math.floor(errors.length * 0.99)] ?? 0, 0),
    maxNs: round(errors.at(-1) ?? 0, 0),
    settleSeconds: lastBad >= DURATION_S ? null : round(lastBad, 3),
    steps,
  };
}

export default async function ptpServoBench(): Promise<BenchResult> {
  const out: Record<string, Record<ServoKind, Figures>> = {};
  for (const [name, make] of Object.entries(traces())) {
    out[name] = { pi: replay('pi', make), median: replay('median', make) };
  }
  return {
    syncIntervalS: INTERVAL_S,
    durationS: DURATION_S,
    warmupS: WARMUP_S,
    settledBelowNs: SETTLED_NS,
    traces: out,
  };
}
