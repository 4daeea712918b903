/** The state machine core: every pair of states, the happy path, history, listeners, and a model-based property. */
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { ManualClock } from '../../src/clock/index.js';
import {
  ORCHESTRATOR_STATES,
  OrchestratorError,
  type OrchestratorErrorCode,
  StateMachine,
  TRANSITIONS,
  type OrchestratorState,
  type Refusal,
  type Transition,
} from '../../src/orchestrator/index.js';

function code(t: ExecutionContext, fn: () => unknown, expected: OrchestratorErrorCode): void {
  const err = t.throws(fn, { instanceOf: OrchestratorError });
  t.is(err?.code, expected, err?.message);
}

test('every pair of states: allowed iff in the table; a refusal throws, keeps the state and is reported', (t) => {
  const clock = new ManualClock(500);
  for (const from of ORCHESTRATOR_STATES) {
    for (const to of ORCHESTRATOR_STATES) {
      const m = new StateMachine({ clock, initial: from });
      const moved: Transition[] = [];
      const refused: Refusal[] = [];
      m.onTransition((x) => moved.push(x));
      m.onRefused((x) => refused.push(x));
      if (TRANSITIONS[from].includes(to)) {
        const tr = m.transition(to, 'test');
        t.deepEqual(tr, { from, to, reason: 'test', at: 500 }, `${from} → ${to}`);
        t.is(m.state, to);
        t.deepEqual(moved, [tr]);
        t.deepEqual(refused, []);
        t.deepEqual(m.history, [tr]);
      } else {
        const err = t.throws(() => m.transition(to, 'test'), { instanceOf: OrchestratorError }, `${from} → ${to}`);
        t.is(err?.code, 'ILLEGAL_TRANSITION');
        t.true(err?.message.includes(`${from} → ${to}`), err?.message);
        t.is(m.state, from, 'the state is unchanged');
        t.deepEqual(moved, []);
        t.deepEqual(refused, [{ from, to, reason: 'test', at: 500 }]);
        t.deepEqual(m.history, [], 'a refusal is not history');
      }
    }
  }
});

test('the happy path, with maintenance twice, ends in SHUTDOWN, which is terminal', (t) => {
  const clock = new ManualClock(0);
  const m = new StateMachine({ clock });
  t.is(m.state, 'INITIALIZING');
  const path: OrchestratorState[] = ['DKG_PHASE', 'READY', 'OPERATIONAL', 'MAINTENANCE', 'OPERATIONAL', 'MAINTENANCE', 'OPERATIONAL', 'SHUTDOWN'];
  for (const to of path) {
    clock.advance(10);
    m.transition(to, `to ${to}`);
    t.is(m.state, to);
  }
  t.deepEqual(m.history.map((x) => x.to), path);
  t.deepEqual(m.history.map((x) => x.at), path.map((_, i) => 10 * (i + 1)), 'at comes from the clock');
  t.deepEqual([...m.next()], []);
  for (const to of ORCHESTRATOR_STATES) {
    t.false(m.can(to));
    code(t, () => m.transition(to, 'revive'), 'ILLEGAL_TRANSITION');
  }
  t.is(m.state, 'SHUTDOWN');
});

test('a failed DKG starts over from INITIALIZING', (t) => {
  const m = new StateMachine({ clock: new ManualClock() });
  m.transition('DKG_PHASE', 'start dkg');
  m.transition('INITIALIZING', 'dkg aborted: 2 of 5 dealers missing');
  m.transition('DKG_PHASE', 'retry');
  m.transition('READY', 'dkg done');
  t.is(m.state, 'READY');
  code(t, () => m.transition('MAINTENANCE', 'not yet operational'), 'ILLEGAL_TRANSITION');
});

test('names that are not states are refused, quoted, and reported', (t) => {
  const m = new StateMachine({ clock: new ManualClock(7), initial: 'OPERATIONAL' });
  const refused: Refusal[] = [];
  m.onRefused((r) => refused.push(r));
  for (const junk of ['operational', 'toString', '', 42, null]) {
    const err = t.throws(() => m.transition(junk as OrchestratorState, 'why'), { instanceOf: OrchestratorError });
    t.is(err?.code, 'ILLEGAL_TRANSITION');
    t.regex(err?.message ?? '', /not a state/);
  }
  t.deepEqual(refused.map((r) => r.to), ['"operational"', '"toString"', '""', '42', 'null']);
  t.is(m.state, 'OPERATIONAL');
});

test('reasons must be short well-formed text; a bad reason is BAD_ARGUMENT, not a refusal', (t) => {
  const m = new StateMachine({ clock: new ManualClock() });
  const refused: Refusal[] = [];
  m.onRefused((r) => refused.push(r));
  for (const bad of ['', 'x'.repeat(201), 'lone \uD800 surrogate', 5, undefined]) {
    code(t, () => m.transition('DKG_PHASE', bad as string), 'BAD_ARGUMENT');
    code(t, () => m.transition('READY', bad as string), 'BAD_ARGUMENT');
  }
  t.deepEqual(refused, []);
  t.is(m.state, 'INITIALIZING');
  m.transition('DKG_PHASE', 'x'.repeat(200));
  t.is(m.state, 'DKG_PHASE');
});

test('history keeps the last historyLimit transitions, oldest dropped first', (t) => {
  const m = new StateMachine({ clock: new ManualClock(), initial: 'OPERATIONAL', historyLimit: 5 });
  for (let i = 0; i < 12; i++) m.transition(i % 2 === 0 ? 'MAINTENANCE' : 'OPERATIONAL', `round ${i}`);
  t.deepEqual(m.history.map((x) => x.reason), ['round 7', 'round 8', 'round 9', 'round 10', 'round 11']);
  t.true(Object.isFrozen(m.history));
  const d = new StateMachine({ clock: new ManualClock(), initial: 'OPERATIONAL' });
  for (let i = 0; i < 100; i++) d.transition(i % 2 === 0 ? 'MAINTENANCE' : 'OPERATIONAL', `round ${i}`);
  t.is(d.history.length, 64, 'the default bound');
  t.is(d.history[0]?.reason, 'round 36');
});

test('options are checked', (t) => {
  const clock = new ManualClock();
  code(t, () => new StateMachine(undefined as never), 'BAD_ARGUMENT');
  code(t, () => new StateMachine({ clock: {} as never }), 'BAD_ARGUMENT');
  code(t, () => new StateMachine({ clock, initial: 'RUNNING' as never }), 'BAD_ARGUMENT');
  for (const historyLimit of [0, -1, 1.5, NaN, 1e9]) code(t, () => new StateMachine({ clock, historyLimit }), 'BAD_ARGUMENT');
  code(t, () => new StateMachine({ clock, onListenerError: 3 as never }), 'BAD_ARGUMENT');
  code(t, () => new StateMachine({ clock }).onTransition(null as never), 'BAD_ARGUMENT');
});

test('listeners unsubscribe; a throwing listener does not stop the others nor undo the move', (t) => {
  const m = new StateMachine({ clock: new ManualClock() });
  const seen: string[] = [];
  const off = m.onTransition((x) => seen.push(`a:${x.to}`));
  m.onTransition(() => {
    throw new Error('publisher down');
  });
  m.onTransition((x) => seen.push(`c:${x.to}`));
  const err = t.throws(() => m.transition('DKG_PHASE', 'go'));
  t.is(err?.message, 'publisher down', 'without onListenerError the first listener error is rethrown');
  t.is(m.state, 'DKG_PHASE', 'the move stands');
  t.deepEqual(seen, ['a:DKG_PHASE', 'c:DKG_PHASE']);
  off();
  t.throws(() => m.transition('READY', 'go'));
  t.deepEqual(seen, ['a:DKG_PHASE', 'c:DKG_PHASE', 'c:READY']);

  const errors: unknown[] = [];
  const h = new StateMachine({ clock: new ManualClock(), onListenerError: (e) => errors.push(e) });
  h.onTransition(() => {
    throw new Error('boom');
  });
  h.onRefused(() => {
    throw new Error('boom too');
  });
  t.notThrows(() => h.transition('DKG_PHASE', 'go'));
  const refusal = t.throws(() => h.transition('OPERATIONAL', 'skip ahead'), { instanceOf: OrchestratorError });
  t.is(refusal?.code, 'ILLEGAL_TRANSITION', 'a listener error never replaces the refusal');
  t.deepEqual(errors.map((e) => (e as Error).message), ['boom', 'boom too']);

  const plain = new StateMachine({ clock: new ManualClock() });
  plain.onRefused(() => {
    throw new Error('logger down');
  });
  const e2 = t.throws(() => plain.transition('READY', 'skip'), { instanceOf: OrchestratorError });
  t.is(e2?.code, 'ILLEGAL_TRANSITION');
  t.is((e2?.cause as Error).message, 'logger down', 'kept as the cause');
});

const target = fc.oneof(
  { weight: 9, arbitrary: fc.constantFrom(...ORCHESTRATOR_STATES) },
  { weight: 1, arbitrary: fc.constantFrom('RUNNING', 'operational', 'toString', '') },
);

test('property: the state is always the result of applying only the allowed requests, and every refusal is reported', (t) => {
  fc.assert(
    fc.property(fc.constantFrom(...ORCHESTRATOR_STATES), fc.array(target, { maxLength: 60 }), (initial, requests) => {
      const m = new StateMachine({ clock: new ManualClock(), initial, historyLimit: 100 });
      const refused: string[] = [];
      const moved: string[] = [];
      m.onRefused((r) => refused.push(`${r.from}>${r.to}`));
      m.onTransition((x) => moved.push(`${x.from}>${x.to}`));
      let model: OrchestratorState = initial;
      const expectRefused: string[] = [];
      const expectMoved: string[] = [];
      for (const to of requests) {
        const legal = (ORCHESTRATOR_STATES as readonly string[]).includes(to) && TRANSITIONS[model].includes(to as OrchestratorState);
        if (legal) {
          expectMoved.push(`${model}>${to}`);
          model = to as OrchestratorState;
          m.transition(to as OrchestratorState, 'p');
        } else {
          expectRefused.push(`${model}>${(ORCHESTRATOR_STATES as readonly string[]).includes(to) ? to : JSON.stringify(to)}`);
          let code: string | undefined;
          try {
            m.transition(to as OrchestratorState, 'p');
          } catch (err) {
            code = (err as OrchestratorError).code;
          }
          if (code !== 'ILLEGAL_TRANSITION') return false;
        }
        if (m.state !== model) return false;
      }
      t.deepEqual(refused, expectRefused);
      t.deepEqual(moved, expectMoved);
      return m.history.map((x) => `${x.from}>${x.to}`).join() === expectMoved.join();
    }),
    { numRuns: 300 },
  );
});
