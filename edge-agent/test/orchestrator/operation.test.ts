/** Coordinated operations: prepare all, commit all, or roll back what was done, last first; timeouts on a ManualClock. */
import test from 'ava';
import { ManualClock } from '../../src/clock/index.js';
import { OrchestratorError, runOperation, type Operation, type OperationStep } from '../../src/orchestrator/index.js';
import { deferred, flush, recorder } from './helpers.js';

const TIMEOUT = 1000;
const opts = (clock = new ManualClock(100)) => ({ clock, stepTimeoutMs: TIMEOUT });

test('all steps prepare in order, then commit in order', async (t) => {
  const { calls, step } = recorder();
  const out = await runOperation({ name: 'rotate-keys', steps: [step('a'), step('b'), step('c')] }, opts());
  t.deepEqual(calls, ['a.prepare', 'b.prepare', 'c.prepare', 'a.commit', 'b.commit', 'c.commit']);
  t.deepEqual(out, {
    operation: 'rotate-keys',
    outcome: 'committed',
    rollbackFailures: [],
    steps: ['a', 'b', 'c'].map((name) => ({ name, prepared: true, committed: true, rolledBack: false })),
    startedAt: 100,
    endedAt: 100,
  });
  t.false('failed' in out, 'no failed key at all, not failed: undefined');
  t.true(Object.isFrozen(out) && Object.isFrozen(out.steps) && Object.isFrozen(out.steps[0]));
  t.deepEqual(JSON.parse(JSON.stringify(out)), out, 'plain data');
});

for (const how of ['throw', 'reject'] as const) {
  test(`a prepare that fails (${how}) at step k rolls back steps k..1 in reverse, for every k`, async (t) => {
    const names = ['a', 'b', 'c', 'd'];
    for (let k = 0; k < names.length; k++) {
      const { calls, step } = recorder();
      const steps = names.map((n, i) => step(n, i === k ? { prepare: how } : {}));
      const out = await runOperation({ name: 'op', steps }, opts());
      const prepared = names.slice(0, k + 1).map((n) => `${n}.prepare`);
      const rolled = names.slice(0, k + 1).reverse().map((n) => `${n}.rollback`);
      t.deepEqual(calls, [...prepared, ...rolled], `k=${k}`);
      t.is(out.outcome, 'rolled-back');
      t.deepEqual(out.failed, { step: names[k], phase: 'prepare', reason: `${names[k]}.prepare ${how === 'throw' ? 'threw' : 'failed'}` });
      t.deepEqual(out.rollbackFailures, []);
      t.deepEqual(
        out.steps,
        names.map((name, i) => ({ name, prepared: i < k, committed: false, rolledBack: i <= k })),
      );
    }
  });
}

test('a commit failure rolls back every step (committed or only prepared), last first', async (t) => {
  const { calls, step } = recorder();
  const out = await runOperation({ name: 'op', steps: [step('a'), step('b', { commit: 'reject' }), step('c')] }, opts());
  t.deepEqual(calls, ['a.prepare', 'b.prepare', 'c.prepare', 'a.commit', 'b.commit', 'c.rollback', 'b.rollback', 'a.rollback']);
  t.is(out.outcome, 'rolled-back');
  t.deepEqual(out.failed, { step: 'b', phase: 'commit', reason: 'b.commit failed' });
  t.deepEqual(out.steps, [
    { name: 'a', prepared: true, committed: true, rolledBack: true },
    { name: 'b', prepared: true, committed: false, rolledBack: true },
    { name: 'c', prepared: true, committed: false, rolledBack: true },
  ]);
});

test('a prepare that times out is rolled back with those before it; its late success is ignored', async (t) => {
  const clock = new ManualClock(0);
  const { calls, step } = recorder();
  const slow = deferred();
  const running = runOperation({ name: 'op', steps: [step('a'), step('b', { prepare: slow }), step('c')] }, opts(clock));
  await flush();
  t.deepEqual(calls, ['a.prepare', 'b.prepare']);
  clock.advance(TIMEOUT - 1);
  await flush();
  t.deepEqual(calls, ['a.prepare', 'b.prepare'], 'not yet');
  clock.advance(1);
  const out = await running;
  t.deepEqual(calls, ['a.prepare', 'b.prepare', 'b.rollback', 'a.rollback']);
  t.deepEqual(out.failed, { step: 'b', phase: 'prepare', reason: `timed out after ${TIMEOUT} ms` });
  t.is(out.outcome, 'rolled-back');
  t.is(out.endedAt, TIMEOUT);
  slow.resolve();
  await flush();
  clock.advance(10 * TIMEOUT);
  await flush();
  t.deepEqual(calls, ['a.prepare', 'b.prepare', 'b.rollback', 'a.rollback'], 'nothing runs again');
  t.deepEqual(out.steps[1], { name: 'b', prepared: false, committed: false, rolledBack: true }, 'and nothing is recounted');
});

test('a commit that times out rolls everything back; its late rejection is ignored (and not unhandled)', async (t) => {
  const clock = new ManualClock(0);
  const { calls, step } = recorder();
  const slow = deferred();
  const running = runOperation({ name: 'op', steps: [step('a', { commit: slow }), step('b')] }, opts(clock));
  await flush();
  t.deepEqual(calls, ['a.prepare', 'b.prepare', 'a.commit']);
  clock.advance(TIMEOUT);
  const out = await running;
  t.deepEqual(calls, ['a.prepare', 'b.prepare', 'a.commit', 'b.rollback', 'a.rollback']);
  t.deepEqual(out.failed, { step: 'a', phase: 'commit', reason: `timed out after ${TIMEOUT} ms` });
  slow.reject(new Error('too late'));
  await flush();
  t.is(out.outcome, 'rolled-back');
  t.deepEqual(calls.length, 5);
});

test('a failing rollback is recorded and the earlier steps are still rolled back', async (t) => {
  const { calls, step } = recorder();
  const out = await runOperation(
    { name: 'op', steps: [step('a'), step('b', { rollback: 'throw' }), step('c', { rollback: 'reject' }), step('d', { prepare: 'reject' })] },
    opts(),
  );
  t.deepEqual(calls, ['a.prepare', 'b.prepare', 'c.prepare', 'd.prepare', 'd.rollback', 'c.rollback', 'b.rollback', 'a.rollback']);
  t.is(out.outcome, 'rollback-incomplete');
  t.deepEqual(out.rollbackFailures, [
    { step: 'c', reason: 'c.rollback failed' },
    { step: 'b', reason: 'b.rollback threw' },
  ]);
  t.deepEqual(
    out.steps.map((s) => s.rolledBack),
    [true, false, false, true],
  );
});

test('a rollback that times out is recorded and the rest still run', async (t) => {
  const clock = new ManualClock(0);
  const { calls, step } = recorder();
  const stuck = deferred();
  const running = runOperation({ name: 'op', steps: [step('a'), step('b', { rollback: stuck }), step('c', { commit: 'throw' })] }, opts(clock));
  await flush();
  t.deepEqual(calls.slice(-2), ['c.rollback', 'b.rollback']);
  clock.advance(TIMEOUT);
  const out = await running;
  t.deepEqual(calls.slice(-3), ['c.rollback', 'b.rollback', 'a.rollback']);
  t.is(out.outcome, 'rollback-incomplete');
  t.deepEqual(out.failed, { step: 'c', phase: 'commit', reason: 'c.commit threw' });
  t.deepEqual(out.rollbackFailures, [{ step: 'b', reason: `timed out after ${TIMEOUT} ms` }]);
});

test('steps are called as methods, may be synchronous, and odd throws become short string reasons', async (t) => {
  class Counter implements OperationStep {
    readonly name = 'counter';
    n = 0;
    async prepare(): Promise<void> {
      this.n++;
    }
    async commit(): Promise<void> {
      this.n++;
    }
    async rollback(): Promise<void> {}
  }
  const c = new Counter();
  t.is((await runOperation({ name: 'op', steps: [c] }, opts())).outcome, 'committed');
  t.is(c.n, 2);

  const odd = (thrown: unknown): OperationStep => ({
    name: 'odd',
    prepare: () => {
      throw thrown;
    },
    commit: async () => {},
    rollback: (() => undefined) as unknown as () => Promise<void>,
  });
  const reasons: string[] = [];
  for (const thrown of ['plain string', 42, undefined, new Error(''), new Error('x'.repeat(5000)), new Error('cut \uD83D\uDE00'.repeat(40))]) {
    const out = await runOperation({ name: 'op', steps: [odd(thrown)] }, opts());
    t.is(out.outcome, 'rolled-back', 'a synchronous rollback counts as done');
    reasons.push(out.failed!.reason);
  }
  t.deepEqual(reasons.slice(0, 4), ['plain string', '42', 'undefined', 'Error']);
  t.is(reasons[4]!.length, 200);
  t.true(reasons[4]!.endsWith('…'));
  for (const r of reasons) t.false(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(r), 'no half surrogate pairs');
});

test('malformed operations and options are rejected with BAD_ARGUMENT before any step runs', async (t) => {
  const { calls, step } = recorder();
  const fine = step('a');
  const bad: unknown[] = [
    null,
    { name: '', steps: [fine] },
    { name: 'x'.repeat(101), steps: [fine] },
    { name: 'op', steps: [] },
    { name: 'op', steps: 'a' },
    { name: 'op', steps: Array.from({ length: 65 }, (_, i) => step(`s${i}`)) },
    { name: 'op', steps: [fine, step('a')] },
    { name: 'op', steps: [fine, null] },
    { name: 'op', steps: [{ ...fine, name: 7 }] },
    { name: 'op', steps: [{ ...fine, commit: 'yes' }] },
    { name: 'op', steps: [{ name: 'b', prepare: fine.prepare, commit: fine.commit }] },
  ];
  for (const op of bad) {
    const err = await t.throwsAsync(runOperation(op as Operation, opts()), { instanceOf: OrchestratorError });
    t.is(err?.code, 'BAD_ARGUMENT', err?.message);
  }
  const op: Operation = { name: 'op', steps: [fine] };
  for (const stepTimeoutMs of [0, -5, NaN, Infinity, 2 ** 31, '10' as unknown as number]) {
    const err = await t.throwsAsync(runOperation(op, { clock: new ManualClock(), stepTimeoutMs }), { instanceOf: OrchestratorError });
    t.is(err?.code, 'BAD_ARGUMENT', String(stepTimeoutMs));
  }
  await t.throwsAsync(runOperation(op, { clock: null as never, stepTimeoutMs: 5 }), { instanceOf: OrchestratorError });
  await t.throwsAsync(runOperation(op, undefined as never), { instanceOf: OrchestratorError });
  t.deepEqual(calls, []);
});

test('the steps list is copied: changing it while the operation runs changes nothing', async (t) => {
  const clock = new ManualClock(0);
  const { calls, step } = recorder();
  const gate = deferred();
  const steps = [step('a', { prepare: gate }), step('b')];
  const running = runOperation({ name: 'op', steps }, opts(clock));
  steps.push(step('intruder'));
  gate.resolve();
  const out = await running;
  t.deepEqual(out.steps.map((s) => s.name), ['a', 'b']);
  t.false(calls.some((c) => c.startsWith('intruder')));
});
