/**
 * Coordinated operations: every step prepares, then every step commits; if
 * anything fails or takes too long, whatever was done is undone in reverse.
 * The outcome is plain data (strings, numbers, booleans), ready for the audit
 * trail or the wire.
 */
import type { Clock } from '../clock/index.js';
import { OrchestratorError } from './errors.js';
import { checkClock } from './machine.js';
import { MAX_NAME_LENGTH, quote, shortText } from './text.js';
import { attempt } from './timed.js';

/**
 * One participant. rollback() must undo whatever prepare() and commit() did,
 * including a part of them, or nothing: it is also called on the step whose
 * prepare or commit failed or timed out (which may still be running).
 */
export interface OperationStep {
  readonly name: string;
  prepare(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

export interface Operation {
  readonly name: string;
  readonly steps: readonly OperationStep[];
}

export interface RunOptions {
  readonly clock: Clock;
  /** Each prepare, commit and rollback call gets this long. */
  readonly stepTimeoutMs: number;
}

export type OperationPhase = 'prepare' | 'commit';

export interface StepRecord {
  readonly name: string;
  readonly prepared: boolean;
  readonly committed: boolean;
  /** True when its rollback was called and succeeded. */
  readonly rolledBack: boolean;
}

export interface OperationOutcome {
  readonly operation: string;
  /** rollback-incomplete: something failed and at least one rollback failed or timed out too. */
  readonly outcome: 'committed' | 'rolled-back' | 'rollback-incomplete';
  /** The first failure, which started the rollback; absent when committed. */
  readonly failed?: { readonly step: string; readonly phase: OperationPhase; readonly reason: string };
  /** In the order the rollbacks ran (last step first). */
  readonly rollbackFailures: readonly { readonly step: string; readonly reason: string }[];
  /** In the operation's order. */
  readonly steps: readonly StepRecord[];
  readonly startedAt: number;
  readonly endedAt: number;
}

/** Keeps an outcome well inside one audit entry (64 KiB). */
export const MAX_STEPS = 64;
/** The largest delay setTimeout honours; beyond it Node fires at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export function checkTimeout(value: unknown, what = 'stepTimeoutMs'): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMEOUT_MS) {
    throw new OrchestratorError('BAD_ARGUMENT', `${what} must be a number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, got ${quote(value)}`);
  }
  return value;
}

/** A validated snapshot of the operation, so changes to it while it runs change nothing. */
function checkOperation(op: unknown): Operation {
  if (typeof op !== 'object' || op === null) throw new OrchestratorError('BAD_ARGUMENT', `an operation must be an object, got ${quote(op)}`);
  const { name, steps } = op as Partial<Operation>;
  const opName = shortText(name, MAX_NAME_LENGTH, 'the operation name');
  if (!Array.isArray(steps) || steps.length === 0 || steps.length > MAX_STEPS) {
    throw new OrchestratorError('BAD_ARGUMENT', `operation ${opName}: steps must be an array of 1 to ${MAX_STEPS} steps`);
  }
  const seen = new Set<string>();
  const copy = (steps as readonly unknown[]).map((step, i): OperationStep => {
    if (typeof step !== 'object' || step === null) throw new OrchestratorError('BAD_ARGUMENT', `operation ${opName}: step ${i} must be an object`);
    const s = step as Partial<OperationStep>;
    const stepName = shortText(s.name, MAX_NAME_LENGTH, `operation ${opName}: step ${i}'s name`);
    if (seen.has(stepName)) throw new OrchestratorError('BAD_ARGUMENT', `operation ${opName}: step name "${stepName}" is used twice`);
    seen.add(stepName);
    for (const member of ['prepare', 'commit', 'rollback'] as const) {
      if (typeof s[member] !== 'function') throw new OrchestratorError('BAD_ARGUMENT', `operation ${opName}: step "${stepName}" needs ${member}()`);
    }
    return step as OperationStep;
  });
  return { name: opName, steps: copy };
}

interface MutableRecord {
  name: string;
  prepared: boolean;
  committed: boolean;
  rolledBack: boolean;
}

/**
 * Prepares every step in order, then commits every step in order. The first
 * prepare or commit that throws, rejects or exceeds stepTimeoutMs stops that:
 * the steps already touched (prepared or committed) and the failing one are
 * rolled back, last first; a rollback that fails or times out is recorded and
 * the rest still run. Resolves with the outcome; rejects only with BAD_ARGUMENT
 * for a malformed operation or options, before any step runs.
 */
export async function runOperation(operation: Operation, options: RunOptions): Promise<OperationOutcome> {
  if (typeof options !== 'object' || options === null) throw new OrchestratorError('BAD_ARGUMENT', 'runOperation options must be an object');
  const clock = checkClock(options.clock);
  const timeoutMs = checkTimeout(options.stepTimeoutMs);
  const op = checkOperation(operation);

  const startedAt = clock.now();
  const records: MutableRecord[] = op.steps.map((s) => ({ name: s.name, prepared: false, committed: false, rolledBack: false }));
  let failed: { step: string; phase: OperationPhase; reason: string } | undefined;
  // How many steps, from the first, have had prepare called: these are the ones to roll back.
  let touched = 0;

  for (const [i, step] of op.steps.entries()) {
    touched = i + 1;
    const r = await attempt(() => step.prepare(), clock, timeoutMs);
    if (!r.ok) {
      failed = { step: step.name, phase: 'prepare', reason: r.reason };
      break;
    }
    records[i]!.prepared = true;
  }
  if (failed === undefined) {
    for (const [i, step] of op.steps.entries()) {
      const r = await attempt(() => step.commit(), clock, timeoutMs);
      if (!r.ok) {
        failed = { step: step.name, phase: 'commit', reason: r.reason };
        break;
      }
      records[i]!.committed = true;
    }
  }

  const rollbackFailures: { step: string; reason: string }[] = [];
  if (failed !== undefined) {
    for (let i = touched - 1; i >= 0; i--) {
      const step = op.steps[i]!;
      const r = await attempt(() => step.rollback(), clock, timeoutMs);
      if (r.ok) records[i]!.rolledBack = true;
      else rollbackFailures.push({ step: step.name, reason: r.reason });
    }
  }

  const outcome: OperationOutcome = {
    operation: op.name,
    outcome: failed === undefined ? 'committed' : rollbackFailures.length === 0 ? 'rolled-back' : 'rollback-incomplete',
    // Left out rather than undefined, so the outcome encodes the same everywhere.
    ...(failed === undefined ? {} : { failed: Object.freeze(failed) }),
    rollbackFailures: Object.freeze(rollbackFailures.map((f) => Object.freeze(f))),
    steps: Object.freeze(records.map((r) => Object.freeze({ ...r }))),
    startedAt,
    endedAt: clock.now(),
  };
  return Object.freeze(outcome);
}
