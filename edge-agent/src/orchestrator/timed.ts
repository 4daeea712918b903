/**
 * One call to a step, raced against a timer from the injected Clock. Whichever
 * comes first decides; the other is ignored, so a step that times out and
 * settles later is neither retried nor counted twice, and its late rejection
 * is handled (never an unhandled rejection).
 */
import type { Clock, Timer } from '../clock/index.js';
import { reasonOf } from './text.js';

export type Attempt = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const OK: Attempt = Object.freeze({ ok: true });

/** Never rejects: a throw, a rejection or the timeout all become `{ ok: false, reason }`. */
export function attempt(fn: () => unknown, clock: Clock, timeoutMs: number): Promise<Attempt> {
  return new Promise((resolve) => {
    let done = false;
    let timer: Timer | undefined;
    const finish = (result: Attempt): void => {
      if (done) return;
      done = true;
      timer?.cancel();
      resolve(result);
    };
    timer = clock.setTimer(timeoutMs, () => finish({ ok: false, reason: `timed out after ${timeoutMs} ms` }));
    let value: unknown;
    try {
      value = fn();
    } catch (err) {
      finish({ ok: false, reason: reasonOf(err) });
      return;
    }
    Promise.resolve(value).then(
      () => finish(OK),
      (err: unknown) => finish({ ok: false, reason: reasonOf(err) }),
    );
  });
}
