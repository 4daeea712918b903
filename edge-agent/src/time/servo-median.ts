/**
 * The reference design's servo: filter noise with a median over recent
 * measurements, compensate drift, and correct gradually rather than jumping.
 *
 * - Offsets are first turned into the "native" offset u = offset - A, where A
 *   is everything this servo has already corrected (its frequency commands
 *   integrated over time, plus the one step). u moves only with the clock's own
 *   frequency error, so its slope is that error whatever the servo did.
 * - Of the last `windowLength` u, the median is picked after moving each to
 *   now along the current drift estimate (so a spike cannot reorder a steep
 *   ramp); moved to now, it is the native offset now with spikes removed. The
 *   drift is the least-squares slope of the last `driftWindow` median samples,
 *   each taken as it was at its own time (no feedback of the estimate).
 * - The phase error now is that median plus A. A `gain` share of it is
 *   corrected per sync interval, as a frequency offset bounded by
 *   `maxSlewPpb`: a slew, never a jump.
 * - Only once, after the first window fills, a median beyond
 *   `firstStepThresholdNs` is stepped away (0: never step).
 * - A median that lands more than `phaseJumpNs` from where the drift says it
 *   should be means the master's time jumped: the filters restart on the new
 *   phase with the drift held, and the slew works the jump off (never a step).
 */
import { requireBigInt, requireFinite, requireInt } from './errors.js';
import type { Servo, ServoOutput, ServoState } from './servo.js';

export interface MedianServoOptions {
  /** Offsets in the median (default 9). */
  readonly windowLength?: number;
  /** Medians in the drift regression (default 32). */
  readonly driftWindow?: number;
  /** Share of the phase error corrected per sync interval (default 0.1). */
  readonly gain?: number;
  /** Bound on the phase-correcting part of the frequency (default 500 000 ppb, adjtime's slew rate). */
  readonly maxSlewPpb?: number;
  /** Default 20 000 ns; 0 never steps. */
  readonly firstStepThresholdNs?: number;
  /** Default 900 000 000 ppb. */
  readonly maxFrequencyPpb?: number;
  /** A median this far from where the drift says it should be is a phase jump of the master (default 20 000 ns). */
  readonly phaseJumpNs?: number;
  /** Default 1 s until setSyncInterval. */
  readonly syncIntervalS?: number;
  /** Frequency correction already applied to the clock. Default 0. */
  readonly initialFreqPpb?: number;
}

export const MEDIAN_DEFAULTS = Object.freeze({
  windowLength: 9,
  driftWindow: 32,
  gain: 0.1,
  maxSlewPpb: 500_000,
  firstStepThresholdNs: 20_000,
  maxFrequencyPpb: 900_000_000,
  phaseJumpNs: 20_000,
});

export class MedianServo implements Servo {
  readonly kind = 'median' as const;
  readonly windowLength: number;
  readonly driftWindow: number;
  readonly gain: number;
  readonly maxSlewPpb: number;
  readonly firstStepThresholdNs: number;
  readonly maxFrequencyPpb: number;
  private intervalS = 1;
  private freq: number;
  private current: ServoState = 'UNLOCKED';
  private stepped = false;
  /** Correction already applied (ns), and when it was last brought up to date. */
  private applied = 0;
  private lastLocal: bigint | null = null;
  private origin: bigint | null = null;
  private readonly native: number[] = [];
  private readonly nativeTimes: number[] = [];
  private readonly medians: number[] = [];
  private readonly medianTimes: number[] = [];
  private drift = 0;
  /** Frequency in force when the servo (re)started: drift is measured on top of it. */
  private baseFreq = 0;
  /** After a phase jump the drift is held until the regression has enough new medians. */
  private holdDrift = false;
  private phaseJumps = 0;
  readonly phaseJumpNs: number;

  constructor(options: MedianServoOptions = {}) {
    this.windowLength = requireInt(options.windowLength ?? MEDIAN_DEFAULTS.windowLength, 'windowLength', 1, 1024);
    this.driftWindow = requireInt(options.driftWindow ?? MEDIAN_DEFAULTS.driftWindow, 'driftWindow', 2, 4096);
    this.gain = requireFinite(options.gain ?? MEDIAN_DEFAULTS.gain, 'gain', 1e-6, 1);
    this.maxSlewPpb = requireFinite(options.maxSlewPpb ?? MEDIAN_DEFAULTS.maxSlewPpb, 'maxSlewPpb', 1);
    this.firstStepThresholdNs = requireFinite(options.firstStepThresholdNs ?? MEDIAN_DEFAULTS.firstStepThresholdNs, 'firstStepThresholdNs', 0);
    this.maxFrequencyPpb = requireFinite(options.maxFrequencyPpb ?? MEDIAN_DEFAULTS.maxFrequencyPpb, 'maxFrequencyPpb', 1);
    this.phaseJumpNs = requireFinite(options.phaseJumpNs ?? MEDIAN_DEFAULTS.phaseJumpNs, 'phaseJumpNs', 1);
    this.freq = requireFinite(options.initialFreqPpb ?? 0, 'initialFreqPpb', -this.maxFrequencyPpb, this.maxFrequencyPpb);
    this.setSyncInterval(options.syncIntervalS ?? 1);
  }

  get state(): ServoState {
    return this.current;
  }

  get freqPpb(): number {
    return this.freq;
  }

  /** Phase jumps of the master seen since creation (each restarts the filters, never steps). */
  get phaseJumpCount(): number {
    return this.phaseJumps;
  }

  /** The clock's own frequency error as estimated now (ppb, positive: fast). */
  get driftPpb(): number {
    return this.drift;
  }

  setSyncInterval(seconds: number): void {
    this.intervalS = requireFinite(seconds, 'sync interval (s)', 1e-9, 1e6);
  }

  reset(): void {
    this.native.length = 0;
    this.nativeTimes.length = 0;
    this.medians.length = 0;
    this.medianTimes.length = 0;
    this.applied = 0;
    this.lastLocal = null;
    this.origin = null;
    this.drift = 0;
    this.holdDrift = false;
    this.current = 'UNLOCKED';
  }

  sample(offsetNs: number, localNs: bigint): ServoOutput {
    requireFinite(offsetNs, 'offsetNs');
    requireBigInt(localNs, 'localNs');
    if (this.lastLocal !== null && localNs <= this.lastLocal) return { state: this.current, freqPpb: this.freq };
    if (this.origin === null) this.origin = localNs;
    // Bring A up to date: the frequency commanded since the last sample, integrated.
    // u = offset - A; the drift is measured relative to the frequency in force at reset,
    // so the base frequency is added back when the correction is computed.
    if (this.lastLocal !== null) this.applied += (this.freq - this.baseFreq) * 1e-9 * Number(localNs - this.lastLocal);
    else this.baseFreq = this.freq;
    this.lastLocal = localNs;
    const t = Number(localNs - this.origin) / 1e9;
    push(this.native, offsetNs - this.applied, this.windowLength);
    push(this.nativeTimes, t, this.windowLength);
    if (this.native.length < this.windowLength) {
      if (!this.stepped) this.current = 'UNLOCKED';
      return { state: this.current, freqPpb: this.freq };
    }
    // Which sample is the median is judged on the native offsets moved to now
    // along the current drift (so a spike cannot reorder a steep ramp); the
    // regression then takes that sample as it was, so the drift estimate does
    // not feed back into its own input.
    const j = medianIndex(this.native.map((u, i) => u + this.drift * (t - this.nativeTimes[i]!)));
    const mu = this.native[j]!;
    const mt = this.nativeTimes[j]!;
    const m = mu + this.drift * (t - mt);
    const last = this.medians.at(-1);
    const lastT = this.medianTimes.at(-1);
    if (this.medians.length >= 8 && last !== undefined && lastT !== undefined && Math.abs(mu - (last + this.drift * (mt - lastT))) > this.phaseJumpNs) {
      // The master's time jumped (not a spike: the median moved). Keep the drift,
      // restart the filters on the new phase; the slew then works it off.
      this.native.splice(0, this.native.length - 1);
      this.nativeTimes.splice(0, this.nativeTimes.length - 1);
      this.medians.length = 0;
      this.medianTimes.length = 0;
      this.holdDrift = true;
      this.phaseJumps++;
      return { state: this.current, freqPpb: this.freq };
    }
    if (lastT === undefined || mt > lastT) {
      push(this.medians, mu, this.driftWindow);
      push(this.medianTimes, mt, this.driftWindow);
    }
    if (this.holdDrift && this.medians.length >= Math.min(16, this.driftWindow)) this.holdDrift = false;
    if (!this.holdDrift) this.drift = this.medians.length >= 2 ? slope(this.medianTimes, this.medians) : 0;

    // Current phase error: the native offset now, plus what we corrected.
    const phase = m + this.applied;
    if (!this.stepped) {
      this.stepped = true;
      if (this.firstStepThresholdNs > 0 && Math.abs(phase) > this.firstStepThresholdNs) {
        // The step is a correction too: after it the offsets start near zero.
        this.applied -= phase;
        this.current = 'JUMP';
        this.freq = this.command(0);
        return { state: 'JUMP', freqPpb: this.freq, stepNs: -phase };
      }
    }
    this.current = this.medians.length >= 2 || this.holdDrift ? 'LOCKED' : 'UNLOCKED';
    this.freq = this.command(phase);
    return { state: this.current, freqPpb: this.freq };
  }

  /** Frequency to apply: cancel the drift, and slew a gain share of the phase per interval. */
  private command(phaseNs: number): number {
    const slew = Math.max(-this.maxSlewPpb, Math.min(this.maxSlewPpb, (this.gain * phaseNs) / this.intervalS));
    const f = this.baseFreq - this.drift - slew;
    return Math.max(-this.maxFrequencyPpb, Math.min(this.maxFrequencyPpb, f)) || 0;
  }
}

/** Index of the median (the lower middle for even counts). */
function medianIndex(xs: readonly number[]): number {
  const order = xs.map((_, i) => i).sort((a, b) => xs[a]! - xs[b]!);
  return order[(xs.length - 1) >> 1]!;
}

function push(xs: number[], x: number, max: number): void {
  xs.push(x);
  if (xs.length > max) xs.shift();
}

/** Least-squares slope of y over t, in ns per second = ppb. */
function slope(t: readonly number[], y: readonly number[]): number {
  const n = t.length;
  let st = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    st += t[i]!;
    sy += y[i]!;
  }
  const mt = st / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const dt = t[i]! - mt;
    num += dt * (y[i]! - my);
    den += dt * dt;
  }
  return den > 0 ? num / den : 0;
}
