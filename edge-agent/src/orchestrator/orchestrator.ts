/**
 * The shell around the state machine and coordinated operations: every
 * transition, refusal and operation outcome goes to the injected audit sink
 * (the agent passes AuditTrail.append) before anyone is told, and requests are
 * handled one at a time, in call order.
 */
import type { Clock } from '../clock/index.js';
import { OrchestratorError } from './errors.js';
import { type Refusal, StateMachine, type Transition, checkClock } from './machine.js';
import { type Operation, type OperationOutcome, checkTimeout, runOperation } from './operation.js';
import { type OrchestratorState, isOrchestratorState } from './states.js';
import { MAX_REASON_LENGTH, quote, reasonOf, shortText } from './text.js';

/** Appends one audit entry; resolves once it is durable. */
export type AuditSink = (kind: string, data: Record<string, unknown>) => Promise<unknown>;

/** The two methods of a pino logger the orchestrator uses. */
export interface OrchestratorLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface OrchestratorOptions {
  readonly clock: Clock;
  readonly audit: AuditSink;
  /** Each prepare, commit and rollback of an operation gets this long. Default 10 s. */
  readonly stepTimeoutMs?: number;
  /** Default INITIALIZING. */
  readonly initial?: OrchestratorState;
  /** Transitions kept in `history`. Default 64. */
  readonly historyLimit?: number;
  /** Refusals, failed operations and listener errors are logged here. Default: dropped. */
  readonly log?: OrchestratorLog;
}

/** The audit kinds the orchestrator writes (all match audit's KIND_PATTERN). */
export const AUDIT_KINDS = Object.freeze({
  transition: 'orchestrator.transition',
  refused: 'orchestrator.refused',
  operation: 'orchestrator.operation',
} as const);

export const DEFAULT_STEP_TIMEOUT_MS = 10_000;

/** Operations run only while the node serves; not during start-up or DKG, and never after shutdown. */
const OPERATION_STATES: readonly OrchestratorState[] = Object.freeze(['OPERATIONAL', 'MAINTENANCE']);

const silent: OrchestratorLog = { info: () => {}, warn: () => {} };
const noop = (): void => {};

function checkLog(value: unknown): OrchestratorLog {
  if (value === undefined) return silent;
  const l = value as Partial<OrchestratorLog> | null;
  if (typeof l !== 'object' || l === null || typeof l.info !== 'function' || typeof l.warn !== 'function') {
    throw new OrchestratorError('BAD_ARGUMENT', 'the log needs info(obj, msg) and warn(obj, msg)');
  }
  return l as OrchestratorLog;
}

export class Orchestrator {
  readonly #machine: StateMachine;
  readonly #clock: Clock;
  readonly #audit: AuditSink;
  readonly #timeoutMs: number;
  readonly #log: OrchestratorLog;
  /** The tail of the queue: each request starts when the one before it has finished. */
  #queue: Promise<void> = Promise.resolve();

  constructor(options: OrchestratorOptions) {
    if (typeof options !== 'object' || options === null) throw new OrchestratorError('BAD_ARGUMENT', 'orchestrator options must be an object');
    this.#clock = checkClock(options.clock);
    if (typeof options.audit !== 'function') throw new OrchestratorError('BAD_ARGUMENT', 'the audit sink must be a function (kind, data) => Promise');
    this.#audit = options.audit;
    this.#timeoutMs = checkTimeout(options.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS);
    const log = checkLog(options.log);
    this.#log = log;
    this.#machine = new StateMachine({
      clock: this.#clock,
      ...(options.initial === undefined ? {} : { initial: options.initial }),
      ...(options.historyLimit === undefined ? {} : { historyLimit: options.historyLimit }),
      // A broken subscriber must not make an audited transition look failed.
      onListenerError: (err) => log.warn({ event: 'orchestrator.listener-error', error: reasonOf(err) }, 'orchestrator listener failed'),
    });
  }

  get state(): OrchestratorState {
    return this.#machine.state;
  }

  get history(): readonly Transition[] {
    return this.#machine.history;
  }

  /** True iff the table allows moving to `to` from the current state (requests still queued may change that). */
  can(to: unknown): boolean {
    return this.#machine.can(to);
  }

  /** Called after each transition, once its audit entry is durable. Returns a function that unsubscribes. */
  onTransition(fn: (t: Transition) => void): () => void {
    return this.#machine.onTransition(fn);
  }

  /** Called for each refused transition, once the refusal is audited (or its audit failed). */
  onRefused(fn: (r: Refusal) => void): () => void {
    return this.#machine.onRefused(fn);
  }

  /**
   * Moves to `to`, checked against the table when the request's turn comes.
   * Allowed: audits orchestrator.transition {from, to, reason}, then changes
   * state and tells listeners; if the audit fails, the state stays and this
   * rejects with AUDIT_FAILED. Refused: audits orchestrator.refused, logs, tells
   * onRefused listeners and rejects with ILLEGAL_TRANSITION.
   */
  transition(to: OrchestratorState, reason: string): Promise<Transition> {
    let why: string;
    try {
      why = shortText(reason, MAX_REASON_LENGTH, 'a transition reason');
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#serial(async () => {
      const from = this.#machine.state;
      if (!this.#machine.can(to)) return this.#refuse(from, to, why);
      try {
        await this.#audit(AUDIT_KINDS.transition, { from, to, reason: why });
      } catch (err) {
        throw new OrchestratorError('AUDIT_FAILED', `transition ${from} → ${to} not made: the audit trail refused it: ${reasonOf(err)}`, { cause: err });
      }
      const t = this.#machine.transition(to, why);
      this.#log.info({ event: AUDIT_KINDS.transition, from, to, reason: why }, `orchestrator ${from} → ${to}`);
      return t;
    });
  }

  async #refuse(from: OrchestratorState, to: unknown, reason: string): Promise<never> {
    const target = isOrchestratorState(to) ? to : quote(to);
    let auditError: { error: unknown } | undefined;
    try {
      await this.#audit(AUDIT_KINDS.refused, { from, to: target, reason });
    } catch (err) {
      auditError = { error: err };
    }
    this.#log.warn({ event: AUDIT_KINDS.refused, from, to: target, reason, ...(auditError ? { auditError: reasonOf(auditError.error) } : {}) }, `orchestrator refused ${from} → ${target}`);
    try {
      // The state has not moved since can() said no (requests are serial), so this
      // throws ILLEGAL_TRANSITION after telling the onRefused listeners.
      this.#machine.transition(to as OrchestratorState, reason);
    } catch (err) {
      if (auditError !== undefined && err instanceof OrchestratorError) {
        throw new OrchestratorError(err.code, `${err.message} (and the refusal could not be audited: ${reasonOf(auditError.error)})`, { cause: auditError.error });
      }
      throw err;
    }
    throw new OrchestratorError('ILLEGAL_TRANSITION', `illegal transition ${from} → ${target}`);
  }

  /**
   * Runs a coordinated operation (see runOperation) in OPERATIONAL or
   * MAINTENANCE, else BAD_STATE. It waits its turn behind earlier requests and
   * holds the state steady while it runs: a transition asked for meanwhile waits
   * for it, so a step must not wait for this orchestrator's transition(). The
   * outcome is audited as orchestrator.operation { state, ...outcome }; if that
   * fails, this rejects with AUDIT_FAILED carrying the outcome.
   */
  run(operation: Operation): Promise<OperationOutcome> {
    return this.#serial(async () => {
      const state = this.#machine.state;
      if (!OPERATION_STATES.includes(state)) {
        this.#log.warn({ event: 'orchestrator.operation-refused', state }, `orchestrator: no operations in ${state}`);
        throw new OrchestratorError('BAD_STATE', `operations run only in ${OPERATION_STATES.join(' or ')}, not in ${state}`);
      }
      const outcome = await runOperation(operation, { clock: this.#clock, stepTimeoutMs: this.#timeoutMs });
      try {
        await this.#audit(AUDIT_KINDS.operation, { state, ...outcome });
      } catch (err) {
        throw new OrchestratorError('AUDIT_FAILED', `operation ${outcome.operation} ${outcome.outcome}, but the audit trail refused the outcome: ${reasonOf(err)}`, { cause: err, outcome });
      }
      const line = { event: AUDIT_KINDS.operation, operation: outcome.operation, outcome: outcome.outcome, failed: outcome.failed };
      if (outcome.outcome === 'committed') this.#log.info(line, `operation ${outcome.operation} committed`);
      else this.#log.warn(line, `operation ${outcome.operation} ${outcome.outcome}`);
      return outcome;
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(fn);
    this.#queue = result.then(noop, noop);
    return result;
  }
}
