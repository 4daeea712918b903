/**
 * The one source of time. Protocol cores never read the wall clock themselves:
 * the agent hands them a Clock, simulations and tests a ManualClock.
 */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  setTimer(ms: number, fn: () => void): Timer;
}

/** True for anything with now() and setTimer(): what every room checks a clock option against. */
export function isClock(value: unknown): value is Clock {
  const c = value as Partial<Clock> | null;
  return typeof c === 'object' && c !== null && typeof c.now === 'function' && typeof c.setTimer === 'function';
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const handle = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(handle) };
  },
};

/** A clock that moves only when told to; timers fire in time order during advance(). */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 0) {
    if (!Number.isFinite(start)) throw new RangeError('ManualClock: start must be a finite number');
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(ms: number, fn: () => void): Timer {
    if (!(ms >= 0)) throw new RangeError(`ManualClock: timer delay must be >= 0, got ${ms}`);
    const id = this.seq++;
    this.timers.set(id, { at: this.time + ms, fn });
    return { cancel: () => void this.timers.delete(id) };
  }

  /** Moves time forward by `ms`, firing due timers in order (timers set while firing included). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock: advance must be >= 0, got ${ms}`);
    const end = this.time + ms;
    for (;;) {
      let nextId = -1;
      let nextAt = Infinity;
      for (const [id, t] of this.timers) {
        if (t.at <= end && t.at < nextAt) {
          nextAt = t.at;
          nextId = id;
        }
      }
      if (nextId < 0) break;
      const timer = this.timers.get(nextId)!;
      this.timers.delete(nextId);
      this.time = nextAt;
      timer.fn();
    }
    this.time = end;
  }
}
