/**
 * The orchestrator's state machine as a core without I/O: it holds the state,
 * checks every requested move against TRANSITIONS, keeps a short history and
 * tells listeners. Time comes only from the injected Clock. The shell
 * (orchestrator.ts) adds the audit trail and serialisation around it.
 */
import { isClock, type Clock } from '../clock/index.js';
import { OrchestratorError } from './errors.js';
import { type OrchestratorState, TRANSITIONS, isAllowed, isOrchestratorState } from './states.js';
import { MAX_REASON_LENGTH, quote, shortText } from './text.js';

/** A move that happened. Plain data, fit for an audit entry or a published event. */
export interface Transition {
  readonly from: OrchestratorState;
  readonly to: OrchestratorState;
  readonly reason: string;
  /** clock.now() when the move was made. */
  readonly at: number;
}

/** A move that was refused. `to` is the target as asked, quoted if it names no state. */
export interface Refusal {
  readonly from: OrchestratorState;
  readonly to: string;
  readonly reason: string;
  readonly at: number;
}

export interface StateMachineOptions {
  readonly clock: Clock;
  /** Default INITIALIZING. */
  readonly initial?: OrchestratorState;
  /** Transitions kept in `history`, oldest dropped first. Default 64. */
  readonly historyLimit?: number;
  /**
   * Where errors thrown by listeners go. Every listener runs whatever the others
   * do, and the move stands. Without this option, transition() rethrows the first
   * listener error after all listeners ran, and a refusal's ILLEGAL_TRANSITION
   * carries it as `cause`.
   */
  readonly onListenerError?: (err: unknown) => void;
}

export const DEFAULT_HISTORY_LIMIT = 64;
const MAX_HISTORY_LIMIT = 10_000;

export function checkClock(clock: unknown): Clock {
  if (!isClock(clock)) {
    throw new OrchestratorError('BAD_ARGUMENT', 'the clock needs now() and setTimer(ms, fn)');
  }
  return clock;
}

function illegal(from: OrchestratorState, to: unknown, cause?: unknown): OrchestratorError {
  const target = isOrchestratorState(to) ? to : `${quote(to)} (not a state)`;
  const allowed = TRANSITIONS[from].length > 0 ? TRANSITIONS[from].join(', ') : 'nothing (terminal)';
  return new OrchestratorError('ILLEGAL_TRANSITION', `illegal transition ${from} → ${target}; from ${from} the table allows ${allowed}`, { cause });
}

export class StateMachine {
  readonly #clock: Clock;
  readonly #limit: number;
  readonly #onListenerError: ((err: unknown) => void) | undefined;
  readonly #history: Transition[] = [];
  readonly #onTransition = new Set<(t: Transition) => void>();
  readonly #onRefused = new Set<(r: Refusal) => void>();
  #state: OrchestratorState;

  constructor(options: StateMachineOptions) {
    if (typeof options !== 'object' || options === null) throw new OrchestratorError('BAD_ARGUMENT', 'state machine options must be an object');
    this.#clock = checkClock(options.clock);
    const initial = options.initial ?? 'INITIALIZING';
    if (!isOrchestratorState(initial)) throw new OrchestratorError('BAD_ARGUMENT', `initial state ${quote(initial)} is not a state`);
    this.#state = initial;
    const limit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT) {
      throw new OrchestratorError('BAD_ARGUMENT', `historyLimit must be an integer from 1 to ${MAX_HISTORY_LIMIT}, got ${quote(limit)}`);
    }
    this.#limit = limit;
    if (options.onListenerError !== undefined && typeof options.onListenerError !== 'function') {
      throw new OrchestratorError('BAD_ARGUMENT', 'onListenerError must be a function');
    }
    this.#onListenerError = options.onListenerError;
  }

  get state(): OrchestratorState {
    return this.#state;
  }

  /** The last `historyLimit` transitions, oldest first. */
  get history(): readonly Transition[] {
    return Object.freeze(this.#history.slice());
  }

  /** The states the table allows from here. */
  next(): readonly OrchestratorState[] {
    return TRANSITIONS[this.#state];
  }

  /** True iff transition(to) would be accepted now. Never throws. */
  can(to: unknown): boolean {
    return isAllowed(this.#state, to);
  }

  /**
   * Moves to `to` if the table allows it from the current state. A move the
   * table does not allow (a self-move, a move out of SHUTDOWN, a name that is no
   * state) is reported to onRefused listeners, leaves the state as it was, and
   * throws ILLEGAL_TRANSITION. A bad `reason` is BAD_ARGUMENT and is not a refusal.
   */
  transition(to: OrchestratorState, reason: string): Transition {
    const why = shortText(reason, MAX_REASON_LENGTH, 'a transition reason');
    const from = this.#state;
    if (!isAllowed(from, to)) {
      const refusal: Refusal = Object.freeze({ from, to: isOrchestratorState(to) ? to : quote(to), reason: why, at: this.#clock.now() });
      throw illegal(from, to, this.#notify(this.#onRefused, refusal)?.error);
    }
    const t: Transition = Object.freeze({ from, to, reason: why, at: this.#clock.now() });
    this.#state = to;
    this.#history.push(t);
    if (this.#history.length > this.#limit) this.#history.shift();
    const failed = this.#notify(this.#onTransition, t);
    if (failed !== undefined) throw failed.error;
    return t;
  }

  /** Calls `fn` after every accepted transition; returns a function that unsubscribes. */
  onTransition(fn: (t: Transition) => void): () => void {
    return subscribe(this.#onTransition, fn);
  }

  /** Calls `fn` for every refused transition, before the refusal is thrown; returns a function that unsubscribes. */
  onRefused(fn: (r: Refusal) => void): () => void {
    return subscribe(this.#onRefused, fn);
  }

  /** Runs every listener; returns the first error when there is no onListenerError to take it. */
  #notify<E>(listeners: ReadonlySet<(event: E) => void>, event: E): { error: unknown } | undefined {
    let first: { error: unknown } | undefined;
    // A copy, so a listener that unsubscribes (or subscribes) does not change this round.
    for (const fn of [...listeners]) {
      try {
        fn(event);
      } catch (err) {
        if (this.#onListenerError !== undefined) this.#onListenerError(err);
        else first ??= { error: err };
      }
    }
    return first;
  }
}

function subscribe<F>(set: Set<F>, fn: F): () => void {
  if (typeof fn !== 'function') throw new OrchestratorError('BAD_ARGUMENT', 'a listener must be a function');
  set.add(fn);
  return () => void set.delete(fn);
}
