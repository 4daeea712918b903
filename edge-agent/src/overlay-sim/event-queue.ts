/**
 * Virtual time: a binary heap of actions keyed by (time, sequence number), so
 * actions due at the same millisecond run in the order they were scheduled and
 * a run never depends on heap internals. It is also the Clock the cores get.
 */
import type { Clock, Timer } from '../clock/index.js';
import { SimError } from './errors.js';

interface Entry {
  at: number;
  seq: number;
  fn: (() => void) | null;
}

export class EventQueue implements Clock {
  #now: number;
  #seq = 0;
  readonly #heap: Entry[] = [];

  constructor(start = 0) {
    if (!Number.isFinite(start)) throw new SimError('BAD_ARGUMENT', 'EventQueue: start must be finite');
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  get size(): number {
    return this.#heap.length;
  }

  /** Runs `fn` at now + ms (ms ≥ 0). */
  setTimer(ms: number, fn: () => void): Timer {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new SimError('BAD_ARGUMENT', `EventQueue: delay must be finite and >= 0, got ${String(ms)}`);
    return this.at(this.#now + ms, fn);
  }

  /** Runs `fn` at absolute time `t` (not before now). */
  at(t: number, fn: () => void): Timer {
    if (typeof fn !== 'function') throw new SimError('BAD_ARGUMENT', 'EventQueue: fn must be a function');
    if (!(t >= this.#now)) throw new SimError('BAD_ARGUMENT', `EventQueue: time ${String(t)} is in the past (now ${this.#now})`);
    const e: Entry = { at: t, seq: this.#seq++, fn };
    this.#push(e);
    return { cancel: () => void (e.fn = null) };
  }

  /** Runs every action due up to and including `end`, in order; then time is `end`. */
  runUntil(end: number): void {
    if (!(end >= this.#now)) throw new SimError('BAD_ARGUMENT', 'EventQueue.runUntil: end is in the past');
    const h = this.#heap;
    while (h.length > 0 && h[0]!.at <= end) {
      const e = this.#pop();
      this.#now = e.at;
      if (e.fn !== null) e.fn();
    }
    this.#now = end;
  }

  #less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(e: Entry): void {
    const h = this.#heap;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(e, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
  }

  #pop(): Entry {
    const h = this.#heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && this.#less(h[r]!, h[l]!) ? r : l;
        if (!this.#less(h[c]!, last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
