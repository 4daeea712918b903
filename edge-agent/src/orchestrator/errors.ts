/**
 * Every failure the orchestrator reports is an OrchestratorError with a stable
 * code, so callers can tell a refused transition from a bad call without
 * parsing messages.
 */
import type { OperationOutcome } from './operation.js';

export type OrchestratorErrorCode =
  /** The requested transition is not in the table (or names no state at all). */
  | 'ILLEGAL_TRANSITION'
  /** The call is not allowed in the current state (e.g. an operation before OPERATIONAL). */
  | 'BAD_STATE'
  /** A caller passed something of the wrong type or shape. */
  | 'BAD_ARGUMENT'
  /** The audit sink refused an entry; what it refused is named in the message and `cause`. */
  | 'AUDIT_FAILED';

export class OrchestratorError extends Error {
  override readonly name = 'OrchestratorError';
  readonly code: OrchestratorErrorCode;
  /** For AUDIT_FAILED after an operation: it ran to this outcome, but the outcome is not in the trail. */
  readonly outcome: OperationOutcome | undefined;

  constructor(code: OrchestratorErrorCode, message: string, options?: { cause?: unknown; outcome?: OperationOutcome }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.outcome = options?.outcome;
  }
}
