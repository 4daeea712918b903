/**
 * A moving median over the last `length` samples: what ptp4l's default
 * delay_filter (moving_median, length 10) does to path delay, and what the
 * median servo does to offsets. A median ignores the heavy-tailed spikes of
 * software timestamps that a mean would smear over the whole window.
 */
import { requireFinite, requireInt } from './errors.js';

export class MovingMedian {
  private readonly values: number[] = [];
  readonly length: number;

  constructor(length: number) {
    this.length = requireInt(length, 'median length', 1, 4096);
  }

  push(value: number): number {
    requireFinite(value, 'median sample');
    this.values.push(value);
    if (this.values.length > this.length) this.values.shift();
    return this.value;
  }

  /** The median of what is held; NaN when empty. Even counts average the middle two. */
  get value(): number {
    return median(this.values);
  }

  get count(): number {
    return this.values.length;
  }

  reset(): void {
    this.values.length = 0;
  }
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
