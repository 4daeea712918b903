/** The transition table itself: its shape, and that isAllowed answers exactly from it. */
import test from 'ava';
import { ORCHESTRATOR_STATES, TRANSITIONS, isAllowed, isOrchestratorState, type OrchestratorState } from '../../src/orchestrator/index.js';

// Written out independently of the source, so a change to the table shows up here.
const EXPECTED: Record<OrchestratorState, OrchestratorState[]> = {
  INITIALIZING: ['DKG_PHASE', 'SHUTDOWN'],
  DKG_PHASE: ['READY', 'INITIALIZING', 'SHUTDOWN'],
  READY: ['OPERATIONAL', 'SHUTDOWN'],
  OPERATIONAL: ['MAINTENANCE', 'SHUTDOWN'],
  MAINTENANCE: ['OPERATIONAL', 'SHUTDOWN'],
  SHUTDOWN: [],
};

test('the six states, in life order', (t) => {
  t.deepEqual([...ORCHESTRATOR_STATES], ['INITIALIZING', 'DKG_PHASE', 'READY', 'OPERATIONAL', 'MAINTENANCE', 'SHUTDOWN']);
  t.deepEqual(Object.keys(TRANSITIONS).sort(), [...ORCHESTRATOR_STATES].sort());
});

test('the table is the one in the issue, and frozen', (t) => {
  for (const s of ORCHESTRATOR_STATES) t.deepEqual([...TRANSITIONS[s]].sort(), [...EXPECTED[s]].sort(), s);
  t.true(Object.isFrozen(TRANSITIONS));
  t.true(Object.isFrozen(ORCHESTRATOR_STATES));
  for (const s of ORCHESTRATOR_STATES) t.true(Object.isFrozen(TRANSITIONS[s]), s);
  t.throws(() => (TRANSITIONS.SHUTDOWN as OrchestratorState[]).push('OPERATIONAL'));
});

test('isAllowed is true exactly for the pairs in the table (all 36 pairs)', (t) => {
  let allowed = 0;
  for (const from of ORCHESTRATOR_STATES) {
    for (const to of ORCHESTRATOR_STATES) {
      const expected = EXPECTED[from].includes(to);
      t.is(isAllowed(from, to), expected, `${from} → ${to}`);
      if (expected) allowed++;
    }
  }
  t.is(allowed, 11);
});

test('no self-transitions, SHUTDOWN is terminal and reachable from every other state', (t) => {
  for (const s of ORCHESTRATOR_STATES) {
    t.false(isAllowed(s, s), s);
    if (s !== 'SHUTDOWN') t.true(isAllowed(s, 'SHUTDOWN'), s);
  }
  t.deepEqual([...TRANSITIONS.SHUTDOWN], []);
});

test('names that are not states are never allowed', (t) => {
  for (const junk of ['', 'operational', 'RUNNING', 'toString', '__proto__', 'constructor', null, undefined, 3, {}]) {
    t.false(isOrchestratorState(junk), String(junk));
    t.false(isAllowed('OPERATIONAL', junk), String(junk));
    t.false(isAllowed(junk, 'SHUTDOWN'), String(junk));
  }
});
