import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { connectAsync, type MqttClient } from 'mqtt';
import { systemClock } from '../../src/clock/index.js';
import { MetricsRegistry } from '../../src/metrics/index.js';
import { TelemetryService, decodePayload, type Outbox } from '../../src/telemetry/index.js';
import { startMosquitto } from '../helpers/mosquitto.js';

const PEER = 'ab'.repeat(32);
const quiet = { info: () => {}, warn: () => {} };

/** The smallest correct outbox, in memory: the durable one is tested in store/. */
class MemoryOutbox implements Outbox {
  entries: { seq: number; payload: Uint8Array }[] = [];
  next = 0;
  dropped = { droppable: 0, kept: 0 };
  get size(): number {
    return this.entries.length;
  }
  get bytes(): number {
    return this.entries.reduce((n, e) => n + e.payload.length, 0);
  }
  async push(payload: Uint8Array): Promise<void> {
    this.entries.push({ seq: this.next++, payload });
  }
  peek(n: number): { seq: number; payload: Uint8Array }[] {
    return this.entries.slice(0, n);
  }
  async ack(seq: number): Promise<void> {
    this.entries = this.entries.filter((e) => e.seq > seq);
  }
}

function service(url: string, outbox: Outbox, extra: Partial<ConstructorParameters<typeof TelemetryService>[0]> = {}): TelemetryService {
  return new TelemetryService({
    url,
    fleet: 'test',
    peerId: PEER,
    format: 'cbor',
    intervalMs: 60_000,
    keepaliveSec: 5,
    clock: systemClock,
    log: quiet,
    outbox,
    metrics: new MetricsRegistry(),
    sample: async () => ({ board: { cpuLoadPercent: 1.5 } }),
    status: () => ({ agentState: 'OPERATIONAL' }),
    random: () => 0,
    ...extra,
  });
}

/** A watcher that records every message on `filter`, decoded. */
async function watch(url: string, filter: string, opts: { clientId?: string; clean?: boolean } = {}): Promise<{ client: MqttClient; seen: { topic: string; body: Record<string, unknown>; retain: boolean }[] }> {
  const client = await connectAsync(url, { clientId: opts.clientId ?? `watch-${Math.random().toString(16).slice(2)}`, clean: opts.clean ?? true, reconnectPeriod: 100 });
  const seen: { topic: string; body: Record<string, unknown>; retain: boolean }[] = [];
  client.on('message', (topic, payload, packet) => seen.push({ topic, body: decodePayload(payload) as Record<string, unknown>, retain: packet.retain }));
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, seen };
}

async function until(what: string, ok: () => boolean | undefined, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A connected service on `url` and a watcher of its whole branch, closed at teardown. */
async function startWatched(t: ExecutionContext, url: string): Promise<{ svc: TelemetryService; seen: Awaited<ReturnType<typeof watch>>['seen'] }> {
  const svc = service(url, new MemoryOutbox());
  svc.start();
  await until('connect', () => svc.connected);
  const { client, seen } = await watch(url, `edge/test/${PEER}/#`);
  t.teardown(() => client.end(true));
  return { svc, seen };
}

test('online status is retained, telemetry and events arrive in CBOR, stop leaves a clean offline', async (t) => {
  const broker = await startMosquitto();
  t.teardown(() => broker.close());
  const { svc, seen } = await startWatched(t, broker.url);
  await until('retained status', () => seen.some((m) => m.topic.endsWith('/status')));
  const status = seen.find((m) => m.topic.endsWith('/status'));
  t.true(status?.retain);
  t.like(status?.body, { state: 'online', agentState: 'OPERATIONAL', fleet: 'test', peerId: PEER });

  await svc.reportNow();
  await svc.event('test.hello', { n: 1 });
  await until('telemetry and event', () => seen.some((m) => m.topic.endsWith('/telemetry')) && seen.some((m) => m.topic.endsWith('/events')));
  const telemetry = seen.find((m) => m.topic.endsWith('/telemetry'))?.body;
  t.like(telemetry, { seq: 0, peerId: PEER, board: { cpuLoadPercent: 1.5 } });
  t.like(seen.find((m) => m.topic.endsWith('/events'))?.body, { seq: 1, type: 'test.hello', n: 1 });

  await svc.stop();
  await until('offline', () => seen.some((m) => m.topic.endsWith('/status') && m.body.state === 'offline'));
  t.like(seen.filter((m) => m.topic.endsWith('/status')).at(-1)?.body, { state: 'offline', reason: 'stopped' });
});

test('JSON payloads by config', async (t) => {
  const broker = await startMosquitto();
  t.teardown(() => broker.close());
  const svc = service(broker.url, new MemoryOutbox(), { format: 'json' });
  const { client } = await watch(broker.url, `edge/test/${PEER}/events`);
  t.teardown(() => client.end(true));
  const raw: string[] = [];
  client.on('message', (_topic, payload) => raw.push(payload.toString('utf8')));
  svc.start();
  await svc.event('test.json', { bytes: Uint8Array.of(1, 2) });
  await until('event', () => raw.length > 0);
  t.like(JSON.parse(raw[0] ?? '') as object, { seq: 0, type: 'test.json', bytes: '0102' });
  await svc.stop();
});

test('the bar: a broker stopped for 30 s and restarted loses no event, and all arrive in order', async (t) => {
  t.timeout(120_000);
  const broker = await startMosquitto({ persistence: true });
  t.teardown(() => broker.close());
  const outbox = new MemoryOutbox();
  const svc = service(broker.url, outbox, { random: Math.random });
  // A persistent session: the broker keeps what arrives for the watcher while it is away too.
  const watcher = await watch(broker.url, `edge/test/${PEER}/events`, { clientId: 'bar-watcher', clean: false });
  t.teardown(() => watcher.client.end(true));
  svc.start();
  await until('connect', () => svc.connected);

  let n = 0;
  const emit = async (count: number, gapMs: number): Promise<void> => {
    for (let i = 0; i < count; i++) {
      await svc.event('test.tick', { n: n++ });
      await new Promise((r) => setTimeout(r, gapMs));
    }
  };
  await emit(20, 20);
  await broker.stop();
  const down = Date.now();
  while (Date.now() - down < 30_000) await emit(1, 200);
  const duringOutage = outbox.size;
  await broker.start();
  await emit(20, 20);
  await until('every event', () => new Set(watcher.seen.map((m) => m.body.n)).size === n, 60_000);

  // At-least-once: a resend after a lost ack is possible, so dedupe by seq, then check order and completeness.
  const bySeq = new Map<number, number>();
  for (const m of watcher.seen) bySeq.set(m.body.seq as number, m.body.n as number);
  const order = [...bySeq.entries()].sort((a, b) => a[0] - b[0]).map(([, value]) => value);
  t.deepEqual(order, Array.from({ length: n }, (_, i) => i));
  const arrival = watcher.seen.map((m) => m.body.n as number).filter((v, i, all) => all.indexOf(v) === i);
  t.deepEqual(arrival, order, 'first arrivals are in order');
  t.true(duringOutage > 100, `events were queued during the outage (${duringOutage})`);
  t.is(outbox.size, 0);
  await svc.stop();
});

test('the same service works against the embedded aedes broker the demo uses', async (t) => {
  const { startEmbeddedBroker } = await import('../../src/demo/broker.js');
  const broker = await startEmbeddedBroker();
  t.teardown(() => broker.close());
  const { svc, seen } = await startWatched(t, broker.url);
  await svc.event('test.aedes', { n: 1 });
  await until('status and event', () => seen.some((m) => m.topic.endsWith('/status')) && seen.some((m) => m.topic.endsWith('/events')));
  t.like(seen.find((m) => m.topic.endsWith('/status'))?.body, { state: 'online' });
  t.like(seen.find((m) => m.topic.endsWith('/events'))?.body, { type: 'test.aedes', n: 1 });
  await svc.stop();
});

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made by OpenSSL in `dir`. */
function makeCertificates(dir: string): void {
  const run = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=edge test CA');
  for (const name of ['server', 'client']) {
    run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name === 'server' ? '127.0.0.1' : 'edge-agent'}`);
    writeFileSync(join(dir, `${name}.ext`), name === 'server' ? 'subjectAltName=IP:127.0.0.1\n' : 'extendedKeyUsage=clientAuth\n');
    run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
  }
}

test('mqtts with client certificates: connects with them, is refused without them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  makeCertificates(dir);
  const broker = await startMosquitto({
    protocol: 'mqtts',
    listenerLines: [`cafile ${dir}/ca.pem`, `certfile ${dir}/server.pem`, `keyfile ${dir}/server.key`, 'require_certificate true'],
  });
  t.teardown(() => broker.close());
  const read = (name: string): Buffer => readFileSync(join(dir, name));

  const svc = service(broker.url, new MemoryOutbox(), { tls: { ca: read('ca.pem'), cert: read('client.pem'), key: read('client.key') } });
  svc.start();
  await until('TLS connect', () => svc.connected);
  await svc.stop();

  const errors: string[] = [];
  const anonymous = service(broker.url, new MemoryOutbox(), { tls: { ca: read('ca.pem') }, log: { info: () => {}, warn: (o: object) => errors.push(JSON.stringify(o)) } });
  anonymous.start();
  await until('a refusal', () => (errors.length > 0 ? true : undefined));
  t.false(anonymous.connected, 'no client certificate, no connection');
  await anonymous.stop();
});
