/**
 * A virtual clock disciplined by a servo: PTP time as a function of readings
 * of a local time source (bigint ns, whatever the shell reads: the kernel's
 * software timestamps are CLOCK_REALTIME). It keeps an anchor, a frequency
 * correction and an optional slew in progress; step, setFrequency and slew
 * change the mapping from now on. It never touches the system clock: mapping
 * servo outputs onto clock_adjtime is an explicit choice made elsewhere.
 *
 *   ptp(local) = anchorPtp + d + d * freq + slewed(d),  d = local - anchorLocal
 */
import { TimeError, requireBigInt, requireFinite } from './errors.js';

/** Frequency resolution: milli-ppb, so bigint arithmetic stays exact. */
const MILLI = 1_000_000_000_000n;

export interface DisciplinedClockOptions {
  /** PTP time minus local time at the start (default 0: PTP time = local time). */
  readonly initialOffsetNs?: bigint;
  /** Frequency correction at the start, ppb (default 0). */
  readonly initialFreqPpb?: number;
  /** Bound on |frequency| in ppb (default 900 000 000, as ptp4l's max_frequency). */
  readonly maxFrequencyPpb?: number;
}

export class DisciplinedClock {
  private anchorLocal = 0n;
  private anchorPtp: bigint;
  private freqMilli: bigint;
  private slewTotal = 0n;
  private slewRateMilli = 0n;
  readonly maxFrequencyPpb: number;
  private steps = 0;

  constructor(options: DisciplinedClockOptions = {}) {
    this.anchorPtp = requireBigInt(options.initialOffsetNs ?? 0n, 'initialOffsetNs');
    this.maxFrequencyPpb = requireFinite(options.maxFrequencyPpb ?? 900_000_000, 'maxFrequencyPpb', 1);
    const f = requireFinite(options.initialFreqPpb ?? 0, 'initialFreqPpb', -this.maxFrequencyPpb, this.maxFrequencyPpb);
    this.freqMilli = BigInt(Math.round(f * 1000));
  }

  /** PTP time at local reading `localNs`. */
  nowNs(localNs: bigint): bigint {
    requireBigInt(localNs, 'localNs');
    const d = localNs - this.anchorLocal;
    return this.anchorPtp + d + div(d * this.freqMilli, MILLI) + this.slewed(d);
  }

  /** PTP time minus local time at `localNs`. */
  offsetNs(localNs: bigint): bigint {
    return this.nowNs(localNs) - localNs;
  }

  /** Current frequency correction (ppb), not counting a slew in progress. */
  get frequencyPpb(): number {
    return Number(this.freqMilli) / 1000;
  }

  /** Local time of the last change (step, frequency, slew): changes must not come before it. */
  get lastChangeNs(): bigint {
    return this.anchorLocal;
  }

  /** Number of steps taken (a step makes PTP time jump). */
  get stepCount(): number {
    return this.steps;
  }

  /** True while a slew is still being worked off. */
  slewing(localNs: bigint): boolean {
    requireBigInt(localNs, 'localNs');
    return this.slewTotal !== 0n && this.slewed(localNs - this.anchorLocal) !== this.slewTotal;
  }

  /** Sets the frequency correction from `localNs` on (what the servo's freqPpb asks for). */
  setFrequency(ppb: number, localNs: bigint): void {
    requireFinite(ppb, 'frequency (ppb)', -this.maxFrequencyPpb, this.maxFrequencyPpb);
    this.reanchor(localNs);
    this.freqMilli = BigInt(Math.round(ppb * 1000));
  }

  /** Adds `deltaNs` to PTP time at once (the servo's JUMP). */
  step(deltaNs: bigint, localNs: bigint): void {
    requireBigInt(deltaNs, 'step (ns)');
    this.reanchor(localNs);
    this.anchorPtp += deltaNs;
    this.steps++;
  }

  /**
   * Adds `deltaNs` gradually, at `ratePpb` (ns per second of local time) on
   * top of the frequency correction, like adjtime(3). Replaces a slew in progress.
   */
  slew(deltaNs: bigint, localNs: bigint, ratePpb = 500_000): void {
    requireBigInt(deltaNs, 'slew (ns)');
    requireFinite(ratePpb, 'slew rate (ppb)', 1, this.maxFrequencyPpb);
    this.reanchor(localNs);
    this.slewTotal = deltaNs;
    const rate = BigInt(Math.round(ratePpb * 1000));
    this.slewRateMilli = deltaNs < 0n ? -rate : rate;
  }

  private slewed(d: bigint): bigint {
    if (this.slewTotal === 0n || d <= 0n) return 0n;
    const done = div(d * this.slewRateMilli, MILLI);
    return this.slewTotal > 0n ? min(done, this.slewTotal) : max(done, this.slewTotal);
  }

  /** Folds the mapping up to `localNs` into the anchor, so later changes apply from then on. */
  private reanchor(localNs: bigint): void {
    requireBigInt(localNs, 'localNs');
    if (localNs < this.anchorLocal) {
      throw new TimeError('BAD_ARGUMENT', `local time went back: ${localNs} < ${this.anchorLocal} (the clock's changes must come in time order)`);
    }
    const d = localNs - this.anchorLocal;
    const slewedNow = this.slewed(d);
    this.anchorPtp = this.anchorPtp + d + div(d * this.freqMilli, MILLI) + slewedNow;
    this.slewTotal -= slewedNow;
    if (this.slewTotal === 0n) this.slewRateMilli = 0n;
    this.anchorLocal = localNs;
  }
}

/** Floor division, so the mapping is monotone across zero. */
function div(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
