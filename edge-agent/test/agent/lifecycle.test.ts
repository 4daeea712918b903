import test from 'ava';
import { Lifecycle, LifecycleError, type Service } from '../../src/agent/lifecycle.js';

function recorder() {
  const events: string[] = [];
  const service = (name: string, opts: { failStart?: boolean; stopMs?: number; failStop?: boolean } = {}): Service => ({
    name,
    async start() {
      if (opts.failStart) throw new Error('boom');
      events.push(`start ${name}`);
    },
    async stop() {
      if (opts.stopMs) await new Promise((r) => setTimeout(r, opts.stopMs));
      if (opts.failStop) throw new Error('stuck');
      events.push(`stop ${name}`);
    },
  });
  return { events, service };
}

test('starts in order and stops in reverse', async (t) => {
  const { events, service } = recorder();
  const life = new Lifecycle([service('a'), service('b'), service('c')]);
  const states: string[] = [];
  life.onState((s) => states.push(s));
  await life.start(1000);
  t.is(life.state, 'ready');
  const report = await life.stop(1000);
  t.deepEqual(report.unclean, []);
  t.deepEqual(events, ['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
  t.deepEqual(states, ['starting', 'ready', 'stopping', 'stopped']);
});

test('a failed start stops what had started and names the service', async (t) => {
  const { events, service } = recorder();
  const life = new Lifecycle([service('a'), service('b'), service('c', { failStart: true }), service('d')]);
  const err = await t.throwsAsync(life.start(1000), { instanceOf: LifecycleError });
  t.is(err?.code, 'START_FAILED');
  t.regex(err?.message ?? '', /^c: boom$/);
  t.deepEqual(events, ['start a', 'start b', 'stop b', 'stop a']);
  t.is(life.state, 'failed');
});

test('a stop that throws is reported and the next service still stops', async (t) => {
  const { events, service } = recorder();
  const life = new Lifecycle([service('a'), service('bad', { failStop: true })]);
  await life.start(1000);
  const report = await life.stop(1000);
  t.deepEqual(report.unclean, [{ name: 'bad', reason: 'stuck' }]);
  t.deepEqual(events, ['start a', 'start bad', 'stop a']);
});

test('past the deadline the stuck service and those after it are reported, not awaited', async (t) => {
  const { events, service } = recorder();
  const life = new Lifecycle([service('a'), service('slow', { stopMs: 5000 })]);
  await life.start(1000);
  const report = await life.stop(100);
  t.deepEqual(
    report.unclean.map((u) => u.name),
    ['slow', 'a'],
  );
  t.regex(report.unclean[0]!.reason, /still stopping after 100 ms/);
  t.regex(report.unclean[1]!.reason, /deadline passed/);
  t.true(report.elapsedMs < 1000);
  t.false(events.includes('stop a'));
  t.is(life.state, 'stopped');
});

test('refuses duplicate names and double start', async (t) => {
  const { service } = recorder();
  t.throws(() => new Lifecycle([service('a'), service('a')]), { instanceOf: LifecycleError });
  const life = new Lifecycle([service('a')]);
  await life.start(100);
  await t.throwsAsync(life.start(100), { instanceOf: LifecycleError });
});
