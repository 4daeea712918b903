/**
 * The agent's Clock once PTP runs: now() is PTP time (the port's disciplined
 * virtual clock) while a port is attached, the system clock before and after.
 * Timers stay on the system's timers: they measure intervals, not instants.
 * Only the agent's own reading changes; nothing adjusts the system clock.
 */
import { systemClock, type Clock, type Timer } from '../clock/index.js';

/** What PtpClock reads from a running port (PtpNode has it). */
export interface PtpTimeSource {
  /** UTC now, ns (PtpNode.utcNowNs). */
  nowNs(): bigint;
}

export class PtpClock implements Clock {
  #source: PtpTimeSource | undefined;

  /** Reads PTP time from `source` from now on (replaces any previous one). */
  attach(source: PtpTimeSource): void {
    if (typeof source?.nowNs !== 'function') throw new TypeError('PtpClock.attach: source must have nowNs()');
    this.#source = source;
  }

  /** Back to the system clock (the port stopped). */
  detach(): void {
    this.#source = undefined;
  }

  get following(): boolean {
    return this.#source !== undefined;
  }

  /** Nanoseconds since the epoch: PTP time when attached, else the system clock (ms resolution from Date.now()). */
  nowNs(): bigint {
    return this.#source?.nowNs() ?? BigInt(Date.now()) * 1_000_000n;
  }

  now(): number {
    return this.#source === undefined ? Date.now() : Number(this.#source.nowNs() / 1_000_000n);
  }

  setTimer(ms: number, fn: () => void): Timer {
    return systemClock.setTimer(ms, fn);
  }
}
