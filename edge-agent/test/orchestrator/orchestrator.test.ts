/** The shell: audit before publish, refusals audited and reported, one request at a time, operations only when serving. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { AuditTrail, KIND_PATTERN, verifyAuditDir } from '../../src/audit/index.js';
import { ManualClock } from '../../src/clock/index.js';
import {
  AUDIT_KINDS,
  ORCHESTRATOR_STATES,
  Orchestrator,
  OrchestratorError,
  TRANSITIONS,
  type OrchestratorState,
  type Refusal,
  type Transition,
} from '../../src/orchestrator/index.js';
import { deferred, flush, recorder, type Deferred } from './helpers.js';

interface Entry {
  kind: string;
  data: Record<string, unknown>;
}

/** An audit sink that records entries; `gate`, when set, holds the next append until released. */
function sink() {
  const entries: Entry[] = [];
  const state: { gate: Deferred | undefined; fail: Error | undefined } = { gate: undefined, fail: undefined };
  const audit = async (kind: string, data: Record<string, unknown>): Promise<void> => {
    const gate = state.gate;
    state.gate = undefined;
    if (gate) await gate.promise;
    if (state.fail) throw state.fail;
    entries.push({ kind, data: structuredClone(data) });
  };
  return { entries, audit, state };
}

const walk = async (o: Orchestrator, ...to: OrchestratorState[]): Promise<void> => {
  for (const s of to) await o.transition(s, `to ${s}`);
};

test('the audit kinds match the audit trail KIND_PATTERN', (t) => {
  for (const kind of Object.values(AUDIT_KINDS)) t.regex(kind, KIND_PATTERN);
});

test('a transition is audited before the state moves and before listeners hear of it', async (t) => {
  const { entries, audit, state } = sink();
  const o = new Orchestrator({ clock: new ManualClock(50), audit });
  const heard: Transition[] = [];
  o.onTransition((x) => heard.push(x));
  const gate = deferred();
  state.gate = gate;
  const p = o.transition('DKG_PHASE', 'committee formed');
  await flush();
  t.is(o.state, 'INITIALIZING', 'not before the audit entry is durable');
  t.deepEqual(heard, []);
  t.deepEqual(entries, []);
  gate.resolve();
  const tr = await p;
  t.deepEqual(tr, { from: 'INITIALIZING', to: 'DKG_PHASE', reason: 'committee formed', at: 50 });
  t.deepEqual(entries, [{ kind: 'orchestrator.transition', data: { from: 'INITIALIZING', to: 'DKG_PHASE', reason: 'committee formed' } }]);
  t.deepEqual(heard, [tr]);
  t.is(o.state, 'DKG_PHASE');
  t.deepEqual(o.history, [tr]);
});

test('every illegal pair is audited as refused, reported, rejected, and leaves the state alone', async (t) => {
  for (const from of ORCHESTRATOR_STATES) {
    for (const to of ORCHESTRATOR_STATES) {
      if (TRANSITIONS[from].includes(to)) continue;
      const { entries, audit } = sink();
      const warnings: object[] = [];
      const o = new Orchestrator({ clock: new ManualClock(), audit, initial: from, log: { info: () => {}, warn: (obj) => warnings.push(obj) } });
      const refused: Refusal[] = [];
      o.onRefused((r) => refused.push(r));
      o.onTransition(() => t.fail('no transition'));
      const err = await t.throwsAsync(o.transition(to, 'why not'), { instanceOf: OrchestratorError });
      t.is(err?.code, 'ILLEGAL_TRANSITION', `${from} → ${to}`);
      t.is(o.state, from);
      t.deepEqual(entries, [{ kind: 'orchestrator.refused', data: { from, to, reason: 'why not' } }]);
      t.deepEqual(refused, [{ from, to, reason: 'why not', at: 0 }]);
      t.is(warnings.length, 1, 'and logged');
    }
  }
});

test('the happy path is audited entry by entry; nothing leaves SHUTDOWN', async (t) => {
  const { entries, audit } = sink();
  const o = new Orchestrator({ clock: new ManualClock(), audit });
  const path: OrchestratorState[] = ['DKG_PHASE', 'READY', 'OPERATIONAL', 'MAINTENANCE', 'OPERATIONAL', 'SHUTDOWN'];
  await walk(o, ...path);
  t.deepEqual(
    entries.map((e) => `${e.kind} ${e.data.from}>${e.data.to}`),
    path.map((to, i) => `orchestrator.transition ${i === 0 ? 'INITIALIZING' : path[i - 1]}>${to}`),
  );
  await t.throwsAsync(o.transition('OPERATIONAL', 'revive'), { code: 'ILLEGAL_TRANSITION' });
  t.is(o.state, 'SHUTDOWN');
});

test('requests are served one at a time, each checked when its turn comes', async (t) => {
  const { entries, audit, state } = sink();
  const o = new Orchestrator({ clock: new ManualClock(), audit });
  const gate = deferred();
  state.gate = gate;
  const first = o.transition('DKG_PHASE', 'one');
  const second = o.transition('READY', 'two'); // legal only once the first is done
  const third = o.transition('DKG_PHASE', 'three'); // illegal by then
  await flush();
  t.deepEqual(entries, [], 'the second waits for the first audit');
  gate.resolve();
  await first;
  await second;
  await t.throwsAsync(third, { instanceOf: OrchestratorError });
  t.is(o.state, 'READY');
  t.deepEqual(
    entries.map((e) => [e.kind, e.data.reason]),
    [
      ['orchestrator.transition', 'one'],
      ['orchestrator.transition', 'two'],
      ['orchestrator.refused', 'three'],
    ],
  );
});

test('if the audit trail refuses a transition, the state does not move and nobody is told', async (t) => {
  const { audit, state } = sink();
  const o = new Orchestrator({ clock: new ManualClock(), audit });
  const heard: Transition[] = [];
  o.onTransition((x) => heard.push(x));
  state.fail = new Error('disk full');
  const err = await t.throwsAsync(o.transition('DKG_PHASE', 'go'), { instanceOf: OrchestratorError });
  t.is(err?.code, 'AUDIT_FAILED');
  t.is((err?.cause as Error).message, 'disk full');
  t.is(o.state, 'INITIALIZING');
  t.deepEqual(heard, []);
  // A refusal is still a refusal when its audit fails, and says so.
  const refused: Refusal[] = [];
  o.onRefused((r) => refused.push(r));
  const e2 = await t.throwsAsync(o.transition('OPERATIONAL', 'skip'), { instanceOf: OrchestratorError });
  t.is(e2?.code, 'ILLEGAL_TRANSITION');
  t.regex(e2?.message ?? '', /could not be audited: disk full/);
  t.is(refused.length, 1);
  // The queue is not stuck after failures.
  state.fail = undefined;
  await o.transition('DKG_PHASE', 'again');
  t.is(o.state, 'DKG_PHASE');
});

test('a bad reason is rejected before queueing and is not audited; a throwing listener is logged, not fatal', async (t) => {
  const { entries, audit } = sink();
  const warnings: object[] = [];
  const o = new Orchestrator({ clock: new ManualClock(), audit, log: { info: () => {}, warn: (obj) => warnings.push(obj) } });
  const err = await t.throwsAsync(o.transition('DKG_PHASE', ''), { instanceOf: OrchestratorError });
  t.is(err?.code, 'BAD_ARGUMENT');
  t.deepEqual(entries, []);
  o.onTransition(() => {
    throw new Error('mqtt down');
  });
  const tr = await o.transition('DKG_PHASE', 'go');
  t.is(tr.to, 'DKG_PHASE');
  t.is(o.state, 'DKG_PHASE');
  t.like(warnings[0], { event: 'orchestrator.listener-error', error: 'mqtt down' });
});

test('unknown targets are refused and audited as quoted text', async (t) => {
  const { entries, audit } = sink();
  const o = new Orchestrator({ clock: new ManualClock(), audit, initial: 'OPERATIONAL' });
  await t.throwsAsync(o.transition('REBOOT' as never, 'ops request'), { instanceOf: OrchestratorError });
  t.deepEqual(entries, [{ kind: 'orchestrator.refused', data: { from: 'OPERATIONAL', to: '"REBOOT"', reason: 'ops request' } }]);
});

test('options are checked', (t) => {
  const clock = new ManualClock();
  const audit = async (): Promise<void> => {};
  const bad: unknown[] = [
    undefined,
    { clock, audit: 'trail' },
    { clock: {}, audit },
    { clock, audit, stepTimeoutMs: 0 },
    { clock, audit, initial: 'BOOT' },
    { clock, audit, historyLimit: 0 },
    { clock, audit, log: console.log },
  ];
  for (const options of bad) {
    const err = t.throws(() => new Orchestrator(options as never), { instanceOf: OrchestratorError });
    t.is(err?.code, 'BAD_ARGUMENT');
  }
});

test('operations run only in OPERATIONAL or MAINTENANCE', async (t) => {
  for (const initial of ORCHESTRATOR_STATES) {
    const { entries, audit } = sink();
    const { calls, step } = recorder();
    const o = new Orchestrator({ clock: new ManualClock(), audit, initial });
    const run = o.run({ name: 'op', steps: [step('a')] });
    if (initial === 'OPERATIONAL' || initial === 'MAINTENANCE') {
      t.is((await run).outcome, 'committed', initial);
      t.is(entries.length, 1);
    } else {
      const err = await t.throwsAsync(run, { instanceOf: OrchestratorError });
      t.is(err?.code, 'BAD_STATE', initial);
      t.deepEqual(calls, []);
      t.deepEqual(entries, []);
    }
  }
});

test('the outcome of an operation is audited with the state it ran in, and returned', async (t) => {
  const { entries, audit } = sink();
  const clock = new ManualClock(10);
  const o = new Orchestrator({ clock, audit, initial: 'MAINTENANCE', stepTimeoutMs: 500 });
  const { step } = recorder();
  const stuck = deferred();
  const running = o.run({ name: 'firmware-swap', steps: [step('stage'), step('flash', { prepare: stuck })] });
  await flush();
  clock.advance(500);
  const out = await running;
  t.is(out.outcome, 'rolled-back');
  t.deepEqual(out.failed, { step: 'flash', phase: 'prepare', reason: 'timed out after 500 ms' });
  t.deepEqual(entries, [{ kind: 'orchestrator.operation', data: { state: 'MAINTENANCE', ...structuredClone(out) } }]);
});

test('an operation holds the state: a transition asked for meanwhile waits for the outcome', async (t) => {
  const { entries, audit } = sink();
  const o = new Orchestrator({ clock: new ManualClock(), audit, initial: 'OPERATIONAL' });
  const { step } = recorder();
  const gate = deferred();
  const running = o.run({ name: 'op', steps: [step('a', { commit: gate })] });
  const moving = o.transition('MAINTENANCE', 'window');
  await flush();
  t.is(o.state, 'OPERATIONAL');
  gate.resolve();
  await running;
  await moving;
  t.deepEqual(entries.map((e) => e.kind), ['orchestrator.operation', 'orchestrator.transition']);
});

test('if the outcome cannot be audited, the error carries it', async (t) => {
  const { audit, state } = sink();
  const o = new Orchestrator({ clock: new ManualClock(), audit, initial: 'OPERATIONAL' });
  state.fail = new Error('trail closed');
  const { step } = recorder();
  const err = await t.throwsAsync(o.run({ name: 'op', steps: [step('a')] }), { instanceOf: OrchestratorError });
  t.is(err?.code, 'AUDIT_FAILED');
  t.is(err?.outcome?.outcome, 'committed');
});

test('with a real audit trail: transitions, refusals and outcomes are entries of a chain that verifies', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'orchestrator-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const clock = new ManualClock(1_700_000_000_000);
  const trail = await AuditTrail.open(join(dir, 'audit'), { clock });
  const o = new Orchestrator({ clock, audit: (kind, data) => trail.append(kind, data) });
  await walk(o, 'DKG_PHASE', 'READY', 'OPERATIONAL');
  await t.throwsAsync(o.transition('DKG_PHASE', 'nope \uD83D\uDE00'));
  const { step } = recorder();
  await o.run({ name: 'op', steps: [step('a'), step('b', { commit: 'throw', rollback: 'reject' })] });
  await o.transition('SHUTDOWN', 'stop');
  await trail.close();
  const report = await verifyAuditDir(join(dir, 'audit'));
  t.like(report, { ok: true, entries: 6 });
});

test('property: after any sequence of requests the state is the model state, and the trail has one entry per request', async (t) => {
  const target = fc.constantFrom(...ORCHESTRATOR_STATES);
  await fc.assert(
    fc.asyncProperty(fc.array(target, { maxLength: 30 }), async (requests) => {
      const { entries, audit } = sink();
      const o = new Orchestrator({ clock: new ManualClock(), audit });
      const refused: string[] = [];
      o.onRefused((r) => refused.push(r.to));
      // Fire them all at once: serialisation must give the same result as one by one.
      const results = await Promise.allSettled(requests.map((to) => o.transition(to, 'p')));
      let model: OrchestratorState = 'INITIALIZING';
      const expectRefused: string[] = [];
      const expectKinds: string[] = [];
      for (const [i, to] of requests.entries()) {
        const ok = TRANSITIONS[model].includes(to);
        if (ok) model = to;
        else expectRefused.push(to);
        expectKinds.push(ok ? 'orchestrator.transition' : 'orchestrator.refused');
        if ((results[i]!.status === 'fulfilled') !== ok) return false;
      }
      t.deepEqual(refused, expectRefused);
      t.deepEqual(entries.map((e) => e.kind), expectKinds);
      return o.state === model;
    }),
    { numRuns: 150 },
  );
});
