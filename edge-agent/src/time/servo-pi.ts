/**
 * A PI servo that behaves like linuxptp's (pi.c, as ptp4l(8) documents it):
 *
 * - gains from the sync interval T: kp = min(kpScale * T^kpExponent, kpNormMax / T),
 *   ki = min(kiScale * T^kiExponent, kiNormMax / T), with kpScale/kiScale 0.7/0.3
 *   for hardware and 0.1/0.001 for software timestamps, exponents -0.3/0.4 and
 *   norm maxima 0.7/0.3; or fixed kp and ki when both are given;
 * - UNLOCKED on the first sample; on a second one at least 0.016/ki seconds
 *   later (at most 1000 s) it estimates the frequency error from the two, and
 *   then JUMPs (steps by the offset) if this is the first update and the offset
 *   exceeds first_step_threshold (20 us), or any offset exceeds step_threshold
 *   (0: never), else LOCKS;
 * - LOCKED: freq = kp*offset + ki*offset + drift, the integral kept only when
 *   the result is within max_frequency; an offset over step_threshold resets to
 *   UNLOCKED so the next pair re-estimates and steps.
 * Internally the sign is linuxptp's (positive: the clock is fast); outputs are
 * negated into the Servo convention (the correction to apply).
 */
import { requireBigInt, requireFinite } from './errors.js';
import type { Servo, ServoOutput, ServoState } from './servo.js';

export type Timestamping = 'software' | 'hardware';

export interface PiServoOptions {
  /** Chooses the default kp/ki scales (ptp4l's time_stamping). Default 'software'. */
  readonly timestamping?: Timestamping;
  /** pi_proportional_const / pi_integral_const: used as is when both are non-zero. */
  readonly kp?: number;
  readonly ki?: number;
  readonly kpScale?: number;
  readonly kpExponent?: number;
  readonly kpNormMax?: number;
  readonly kiScale?: number;
  readonly kiExponent?: number;
  readonly kiNormMax?: number;
  /** Default 20 000 ns (ptp4l's 0.00002 s); 0 never steps on start. */
  readonly firstStepThresholdNs?: number;
  /** Default 0: never step after the first update. */
  readonly stepThresholdNs?: number;
  /** Default 900 000 000 ppb. */
  readonly maxFrequencyPpb?: number;
  /** Sync interval in seconds until setSyncInterval says otherwise. Default 1. */
  readonly syncIntervalS?: number;
  /** Frequency correction already applied to the clock (Servo sign). Default 0. */
  readonly initialFreqPpb?: number;
}

export const PI_DEFAULTS = Object.freeze({
  hardware: { kpScale: 0.7, kiScale: 0.3 },
  software: { kpScale: 0.1, kiScale: 0.001 },
  kpExponent: -0.3,
  kpNormMax: 0.7,
  kiExponent: 0.4,
  kiNormMax: 0.3,
  /** Norm maxima used with fixed constants (only to keep them stable). */
  fixedKpNormMax: 1.0,
  fixedKiNormMax: 2.0,
  firstStepThresholdNs: 20_000,
  stepThresholdNs: 0,
  maxFrequencyPpb: 900_000_000,
  /** Relative margin on the first two samples' spacing. */
  freqEstMargin: 0.001,
});

export class PiServo implements Servo {
  readonly kind = 'pi' as const;
  private readonly kpScale: number;
  private readonly kiScale: number;
  private readonly kpExponent: number;
  private readonly kiExponent: number;
  private readonly kpNormMax: number;
  private readonly kiNormMax: number;
  readonly firstStepThresholdNs: number;
  readonly stepThresholdNs: number;
  readonly maxFrequencyPpb: number;
  private kp = 0;
  private ki = 0;
  /** linuxptp sign: positive means the clock runs fast. */
  private drift: number;
  private lastFreq: number;
  private count = 0;
  private firstUpdate = true;
  private offset0 = 0;
  private local0 = 0n;
  private current: ServoState = 'UNLOCKED';

  constructor(options: PiServoOptions = {}) {
    const ts = options.timestamping ?? 'software';
    if (ts !== 'software' && ts !== 'hardware') requireFinite(NaN, 'timestamping (software | hardware)');
    const kp = requireFinite(options.kp ?? 0, 'kp', 0);
    const ki = requireFinite(options.ki ?? 0, 'ki', 0);
    if (kp > 0 && ki > 0) {
      this.kpScale = kp;
      this.kiScale = ki;
      this.kpExponent = 0;
      this.kiExponent = 0;
      this.kpNormMax = PI_DEFAULTS.fixedKpNormMax;
      this.kiNormMax = PI_DEFAULTS.fixedKiNormMax;
    } else {
      let kpScale = requireFinite(options.kpScale ?? 0, 'kpScale', 0);
      let kiScale = requireFinite(options.kiScale ?? 0, 'kiScale', 0);
      // As ptp4l: unless both scales are configured, both come from the timestamping mode.
      if (kpScale === 0 || kiScale === 0) {
        kpScale = PI_DEFAULTS[ts].kpScale;
        kiScale = PI_DEFAULTS[ts].kiScale;
      }
      this.kpScale = kpScale;
      this.kiScale = kiScale;
      this.kpExponent = requireFinite(options.kpExponent ?? PI_DEFAULTS.kpExponent, 'kpExponent');
      this.kiExponent = requireFinite(options.kiExponent ?? PI_DEFAULTS.kiExponent, 'kiExponent');
      this.kpNormMax = requireFinite(options.kpNormMax ?? PI_DEFAULTS.kpNormMax, 'kpNormMax', 0);
      this.kiNormMax = requireFinite(options.kiNormMax ?? PI_DEFAULTS.kiNormMax, 'kiNormMax', 0);
    }
    this.firstStepThresholdNs = requireFinite(options.firstStepThresholdNs ?? PI_DEFAULTS.firstStepThresholdNs, 'firstStepThresholdNs', 0);
    this.stepThresholdNs = requireFinite(options.stepThresholdNs ?? PI_DEFAULTS.stepThresholdNs, 'stepThresholdNs', 0);
    this.maxFrequencyPpb = requireFinite(options.maxFrequencyPpb ?? PI_DEFAULTS.maxFrequencyPpb, 'maxFrequencyPpb', 1);
    const initial = requireFinite(options.initialFreqPpb ?? 0, 'initialFreqPpb', -this.maxFrequencyPpb, this.maxFrequencyPpb);
    this.drift = -initial;
    this.lastFreq = -initial;
    this.setSyncInterval(options.syncIntervalS ?? 1);
  }

  /** The gains now in use (for logs and tests). */
  get gains(): { kp: number; ki: number } {
    return { kp: this.kp, ki: this.ki };
  }

  get state(): ServoState {
    return this.current;
  }

  get freqPpb(): number {
    return -this.lastFreq || 0;
  }

  setSyncInterval(seconds: number): void {
    requireFinite(seconds, 'sync interval (s)', 1e-9, 1e6);
    this.kp = Math.min(this.kpScale * seconds ** this.kpExponent, this.kpNormMax / seconds);
    this.ki = Math.min(this.kiScale * seconds ** this.kiExponent, this.kiNormMax / seconds);
  }

  reset(): void {
    this.count = 0;
    this.current = 'UNLOCKED';
  }

  sample(offsetNs: number, localNs: bigint): ServoOutput {
    requireFinite(offsetNs, 'offsetNs');
    requireBigInt(localNs, 'localNs');
    const state = this.step(offsetNs, localNs);
    this.current = state;
    // As linuxptp's servo wrapper: the first update is over once it jumped or locked.
    if (state !== 'UNLOCKED') this.firstUpdate = false;
    const freqPpb = -this.lastFreq || 0;
    return state === 'JUMP' ? { state, freqPpb, stepNs: -offsetNs } : { state, freqPpb };
  }

  private overStep(offsetNs: number): boolean {
    return this.stepThresholdNs > 0 && Math.abs(offsetNs) > this.stepThresholdNs;
  }

  private step(offsetNs: number, localNs: bigint): ServoState {
    const max = this.maxFrequencyPpb;
    if (this.count === 0) {
      this.offset0 = offsetNs;
      this.local0 = localNs;
      this.count = 1;
      return 'UNLOCKED';
    }
    if (this.count === 1) {
      if (localNs <= this.local0) {
        this.count = 0;
        return 'UNLOCKED';
      }
      const spanNs = Number(localNs - this.local0);
      // Too close together for a frequency estimate: keep the first, wait.
      const spanS = (spanNs / 1e9) * (1 + PI_DEFAULTS.freqEstMargin);
      if (spanS < Math.min(0.016 / this.ki, 1000)) return 'UNLOCKED';
      this.drift += ((1e9 - this.drift) * (offsetNs - this.offset0)) / spanNs;
      this.drift = Math.max(-max, Math.min(max, this.drift));
      this.lastFreq = this.drift;
      this.count = 2;
      const firstStep = this.firstUpdate && this.firstStepThresholdNs > 0 && Math.abs(offsetNs) > this.firstStepThresholdNs;
      return firstStep || this.overStep(offsetNs) ? 'JUMP' : 'LOCKED';
    }
    if (this.overStep(offsetNs)) {
      this.count = 0;
      return 'UNLOCKED';
    }
    const kiTerm = this.ki * offsetNs;
    const ppb = this.kp * offsetNs + this.drift + kiTerm;
    if (ppb < -max) this.lastFreq = -max;
    else if (ppb > max) this.lastFreq = max;
    else {
      this.lastFreq = ppb;
      this.drift += kiTerm;
    }
    return 'LOCKED';
  }
}
