/**
 * The node's life as an orchestrated member of the fleet, and the one table of
 * moves between its states. Anything not in the table is refused.
 */
export const ORCHESTRATOR_STATES = Object.freeze(['INITIALIZING', 'DKG_PHASE', 'READY', 'OPERATIONAL', 'MAINTENANCE', 'SHUTDOWN'] as const);

export type OrchestratorState = (typeof ORCHESTRATOR_STATES)[number];

function targets(...to: OrchestratorState[]): readonly OrchestratorState[] {
  return Object.freeze(to);
}

/**
 * Allowed transitions, from each state to the states it may move to.
 * - DKG_PHASE → INITIALIZING: a failed or aborted key generation starts over.
 * - SHUTDOWN is reachable from everywhere (a board must always be able to stop)
 *   and leads nowhere: a stopped orchestrator is replaced, not revived.
 */
export const TRANSITIONS: Readonly<Record<OrchestratorState, readonly OrchestratorState[]>> = Object.freeze({
  INITIALIZING: targets('DKG_PHASE', 'SHUTDOWN'),
  DKG_PHASE: targets('READY', 'INITIALIZING', 'SHUTDOWN'),
  READY: targets('OPERATIONAL', 'SHUTDOWN'),
  OPERATIONAL: targets('MAINTENANCE', 'SHUTDOWN'),
  MAINTENANCE: targets('OPERATIONAL', 'SHUTDOWN'),
  SHUTDOWN: targets(),
});

export function isOrchestratorState(value: unknown): value is OrchestratorState {
  return typeof value === 'string' && (ORCHESTRATOR_STATES as readonly string[]).includes(value);
}

/** True iff the table allows `from` → `to`; false for anything that is not a state. */
export function isAllowed(from: unknown, to: unknown): boolean {
  return isOrchestratorState(from) && isOrchestratorState(to) && TRANSITIONS[from].includes(to);
}
