/**
 * What the agent publishes on …/cmd/result: a plain object, for the telemetry room to encode
 * (CBOR or JSON). `id` (the nonce in hex) ties a result to its command.
 */
import { CommandError } from './errors.js';
import type { Command, Verdict } from './verify.js';

export interface CommandResult {
  readonly id?: string;
  readonly name?: string;
  readonly ok: boolean;
  /** A RejectReason, or a handler's own failure code. */
  readonly reason?: string;
  readonly message?: string;
  /** What the handler returned, plain data. */
  readonly result?: unknown;
  /** Agent clock, milliseconds since the epoch. */
  readonly at: number;
}

function requireTime(now: unknown, fn: string): number {
  if (typeof now !== 'number' || !Number.isFinite(now)) throw new CommandError('BAD_ARGUMENT', `${fn}: now must be a finite number`);
  return now;
}

/** The result for a refused command. */
export function rejectionResult(verdict: Verdict, now: number): CommandResult {
  if (typeof verdict !== 'object' || verdict === null || verdict.ok !== false) {
    throw new CommandError('BAD_ARGUMENT', 'rejectionResult: expected a verdict that refused the command');
  }
  const at = requireTime(now, 'rejectionResult');
  const out: { -readonly [K in keyof CommandResult]: CommandResult[K] } = { ok: false, reason: verdict.reason, message: verdict.message, at };
  if (verdict.id !== undefined) out.id = verdict.id;
  if (verdict.name !== undefined) out.name = verdict.name;
  return out;
}

/** The result for a command its handler ran; `result` is whatever the handler reports (may be undefined). */
export function successResult(command: Command, result: unknown, now: number): CommandResult {
  if (typeof command !== 'object' || command === null || typeof command.id !== 'string' || typeof command.name !== 'string') {
    throw new CommandError('BAD_ARGUMENT', 'successResult: expected a verified command');
  }
  const at = requireTime(now, 'successResult');
  return result === undefined ? { id: command.id, name: command.name, ok: true, at } : { id: command.id, name: command.name, ok: true, result, at };
}

/** The result for a verified command whose handler failed; `reason` is the handler's own code. */
export function failureResult(command: Command, reason: string, message: string, now: number): CommandResult {
  if (typeof command !== 'object' || command === null || typeof command.id !== 'string' || typeof command.name !== 'string') {
    throw new CommandError('BAD_ARGUMENT', 'failureResult: expected a verified command');
  }
  if (typeof reason !== 'string' || reason === '' || typeof message !== 'string') {
    throw new CommandError('BAD_ARGUMENT', 'failureResult: reason must be a non-empty string and message a string');
  }
  return { id: command.id, name: command.name, ok: false, reason, message, at: requireTime(now, 'failureResult') };
}
