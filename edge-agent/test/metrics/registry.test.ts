import test from 'ava';
import { MetricsError, MetricsRegistry } from '../../src/metrics/index.js';

test('counters and gauges are per room, created once, and appear in the snapshot', (t) => {
  const r = new MetricsRegistry();
  r.counter('transport', 'opened').inc();
  r.counter('transport', 'opened').inc(2);
  r.gauge('agent', 'state').set('OPERATIONAL');
  t.deepEqual(r.snapshot(), { transport: { opened: 3 }, agent: { state: 'OPERATIONAL' } });
});

test('collectors are asked at snapshot time and can be removed', (t) => {
  const r = new MetricsRegistry();
  let channels = 1;
  const off = r.register('transport', () => ({ channels }));
  channels = 4;
  t.deepEqual(r.snapshot().transport, { channels: 4 });
  off();
  t.deepEqual(r.snapshot().transport, {});
});

test('a failing or malformed collector is counted, not fatal', (t) => {
  const r = new MetricsRegistry();
  r.register('a', () => {
    throw new Error('boom');
  });
  r.register('a', () => ({ ok: 1, bad: { nested: true } as unknown as number, 'Bad Key': 2, nan: Number.NaN }));
  t.deepEqual(r.snapshot().a, { ok: 1, collectorErrors: 4 });
});

test('bad names, values and kinds are refused with a typed error', (t) => {
  const r = new MetricsRegistry();
  t.is(t.throws(() => r.counter('Bad Room', 'x'), { instanceOf: MetricsError })?.code, 'BAD_NAME');
  t.is(t.throws(() => r.counter('room', ''), { instanceOf: MetricsError })?.code, 'BAD_NAME');
  t.is(t.throws(() => r.counter('room', 'c').inc(-1), { instanceOf: MetricsError })?.code, 'BAD_VALUE');
  t.is(t.throws(() => r.gauge('room', 'g').set(Number.POSITIVE_INFINITY), { instanceOf: MetricsError })?.code, 'BAD_VALUE');
  t.is(t.throws(() => r.gauge('room', 'c'), { instanceOf: MetricsError })?.code, 'KIND_MISMATCH');
  t.is(t.throws(() => r.register('room', 5 as unknown as () => Record<string, number>), { instanceOf: MetricsError })?.code, 'BAD_VALUE');
});
