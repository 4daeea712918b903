/**
 * Public face of orchestrator/: the node's state machine (INITIALIZING →
 * DKG_PHASE → READY → OPERATIONAL ⇄ MAINTENANCE → SHUTDOWN) with one explicit
 * table of allowed moves, coordinated operations (prepare, commit, rollback),
 * and the shell that audits and publishes both. See docs/orchestrator.md.
 */
export { OrchestratorError } from './errors.js';
export type { OrchestratorErrorCode } from './errors.js';
export { ORCHESTRATOR_STATES, TRANSITIONS, isAllowed, isOrchestratorState } from './states.js';
export type { OrchestratorState } from './states.js';
export { DEFAULT_HISTORY_LIMIT, StateMachine } from './machine.js';
export type { Refusal, StateMachineOptions, Transition } from './machine.js';
export { MAX_STEPS, runOperation } from './operation.js';
export type { Operation, OperationOutcome, OperationPhase, OperationStep, RunOptions, StepRecord } from './operation.js';
export { AUDIT_KINDS, DEFAULT_STEP_TIMEOUT_MS, Orchestrator } from './orchestrator.js';
export type { AuditSink, OrchestratorLog, OrchestratorOptions } from './orchestrator.js';
export { MAX_NAME_LENGTH, MAX_REASON_LENGTH } from './text.js';
