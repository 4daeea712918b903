/**
 * A Clock whose timers can all be cancelled at once. Protocol runs that have no
 * cancel of their own (runDkg, coordinateSignature) are given one, so that
 * giving a run up (a session the leader withdrew, the agent stopping) leaves no
 * timer behind to fire into closed services or keep the process alive.
 */
import { isClock, type Clock, type Timer } from '../clock/index.js';

export class TimerScope implements Clock {
  readonly #clock: Clock;
  readonly #live = new Set<Timer>();
  #closed = false;

  constructor(clock: Clock) {
    if (!isClock(clock)) throw new TypeError('TimerScope: clock must have now() and setTimer()');
    this.#clock = clock;
  }

  now(): number {
    return this.#clock.now();
  }

  /** Like the underlying clock's; once the scope is closed, the timer never fires. */
  setTimer(ms: number, fn: () => void): Timer {
    if (this.#closed) return { cancel: () => {} };
    const timer: Timer = this.#clock.setTimer(ms, () => {
      this.#live.delete(timer);
      if (!this.#closed) fn();
    });
    this.#live.add(timer);
    return {
      cancel: () => {
        timer.cancel();
        this.#live.delete(timer);
      },
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Cancels every pending timer and refuses new ones. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const t of this.#live) t.cancel();
    this.#live.clear();
  }
}
