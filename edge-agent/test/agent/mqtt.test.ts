/**
 * The bar, end to end: real `edge-agent run` processes against a real
 * Mosquitto broker. A SIGKILLed agent shows offline; forged, replayed,
 * expired and misaddressed commands are rejected with their reasons on
 * cmd/result; an illegal transition is refused; restart exits to be restarted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { connectAsync, type MqttClient } from 'mqtt';
import { ManualClock } from '../../src/clock/index.js';
import { signBody, signCommand } from '../../src/commands/index.js';
import { createIdentity, generateKeyPair, toHex } from '../../src/identity/index.js';
import { decodePayload, topicsFor } from '../../src/telemetry/index.js';
import { startMosquitto, type Broker } from '../helpers/mosquitto.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const FLEET = 'bar';
const KEEPALIVE_SEC = 2;

interface Running {
  readonly peerId: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}

async function startAgent(t: ExecutionContext, broker: Broker, operatorKey: Uint8Array): Promise<Running> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-mqtt-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const identity = await createIdentity(dir, { difficulty: 4 });
  const peerId = toHex(identity.peerId);
  identity.destroy();
  const config = join(dir, 'config.json');
  await writeFile(
    config,
    JSON.stringify({
      fleet: FLEET,
      dataDir: dir,
      board: 'x86-64-dev',
      network: { listen: '127.0.0.1:0' },
      telemetry: { broker: broker.url, keepaliveSec: KEEPALIVE_SEC, intervalMs: 60_000 },
      operators: [{ name: 'ops', publicKey: toHex(operatorKey) }],
    }),
  );
  const child = spawn(process.execPath, ['--import=tsx', main, 'run', '--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => void child.kill('SIGKILL'));
  return { peerId, child, exited };
}

interface Seen {
  readonly topic: string;
  readonly body: Record<string, unknown>;
  readonly at: number;
}

async function watcher(t: ExecutionContext, url: string, filter: string): Promise<{ client: MqttClient; seen: Seen[] }> {
  const client = await connectAsync(url, { clientId: `w-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0 });
  t.teardown(() => client.end(true));
  const seen: Seen[] = [];
  client.on('message', (topic, payload) => {
    // The watcher also hears the commands the test sends, garbage included: only what decodes is recorded.
    if (payload.length === 0 || topic.endsWith('/cmd')) return;
    seen.push({ topic, body: decodePayload(payload) as Record<string, unknown>, at: Date.now() });
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, seen };
}

async function until<T>(what: string, find: () => T | undefined, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const status = (seen: Seen[]): Record<string, unknown> | undefined => seen.filter((m) => m.topic.endsWith('/status')).at(-1)?.body;

test('an agent killed with SIGKILL shows offline on its status topic within its keepalive window', async (t) => {
  const broker = await startMosquitto();
  t.teardown(() => broker.close());
  const agent = await startAgent(t, broker, generateKeyPair().publicKey);
  const { seen } = await watcher(t, broker.url, `edge/${FLEET}/${agent.peerId}/status`);
  await until('OPERATIONAL online status', () => (status(seen)?.agentState === 'OPERATIONAL' && status(seen)?.state === 'online' ? true : undefined));
  const killedAt = Date.now();
  agent.child.kill('SIGKILL');
  const offline = await until('offline', () => seen.find((m) => m.at >= killedAt && m.body.state === 'offline'));
  t.like(offline.body, { state: 'offline', reason: 'lost', peerId: agent.peerId, fleet: FLEET });
  t.true(offline.at - killedAt <= 1.5 * KEEPALIVE_SEC * 1000, `offline after ${offline.at - killedAt} ms`);
});

test('commands: good ones run; forged, replayed, expired, misaddressed and unknown-signer ones are rejected with reasons; an illegal transition is refused', async (t) => {
  t.timeout(120_000);
  const broker = await startMosquitto();
  t.teardown(() => broker.close());
  const operator = generateKeyPair();
  const agent = await startAgent(t, broker, operator.publicKey);
  const topics = topicsFor(FLEET, agent.peerId);
  const { client, seen } = await watcher(t, broker.url, `edge/${FLEET}/${agent.peerId}/#`);
  await until('OPERATIONAL', () => (status(seen)?.agentState === 'OPERATIONAL' ? true : undefined));

  const results = (): Record<string, unknown>[] => seen.filter((m) => m.topic === topics.cmdResult).map((m) => m.body);
  const send = async (payload: Uint8Array, topic = topics.cmd): Promise<Record<string, unknown>> => {
    const before = results().length;
    await client.publishAsync(topic, Buffer.from(payload), { qos: 1 });
    return until('a result', () => results()[before]);
  };
  const sign = (name: Parameters<typeof signCommand>[0]['name'], extra: Partial<Parameters<typeof signCommand>[0]> = {}): Uint8Array =>
    signCommand({ secretKey: operator.secretKey, fleet: FLEET, target: agent.peerId, name, ttlMs: 60_000, ...extra });

  const ping = sign('ping');
  t.like(await send(ping), { ok: true, name: 'ping', result: { pong: true, state: 'OPERATIONAL' } });
  t.like(await send(ping), { ok: false, reason: 'REPLAYED' }, 'the same bytes again');

  const forger = generateKeyPair();
  t.like(await send(signCommand({ secretKey: forger.secretKey, fleet: FLEET, target: agent.peerId, name: 'ping', ttlMs: 60_000 })), { ok: false, reason: 'UNKNOWN_SIGNER' });
  const forged = Uint8Array.from(sign('ping'));
  forged[forged.length - 1] = (forged.at(-1) ?? 0) ^ 1; // the signature's last byte
  t.like(await send(forged), { ok: false, reason: 'BAD_SIGNATURE' });

  const past = new ManualClock(Date.now() - 120_000);
  t.like(await send(sign('ping', { clock: past })), { ok: false, reason: 'EXPIRED' });
  t.like(await send(sign('ping', { target: 'cd'.repeat(32) })), { ok: false, reason: 'MISADDRESSED' });
  t.like(await send(sign('ping', { fleet: 'other' })), { ok: false, reason: 'MISADDRESSED' });
  t.like(await send(signBody({ fleet: FLEET, target: agent.peerId, name: 'ping', args: {}, nonce: new Uint8Array(16).fill(7), issuedAt: Date.now(), expiresAt: Date.now() + 60_000 }, forger.secretKey)), {
    ok: false,
    reason: 'UNKNOWN_SIGNER',
  });
  t.like(await send(Buffer.from('not a command')), { ok: false, reason: 'MALFORMED' });

  // The orchestrator: maintenance in and out, and an illegal move refused.
  t.like(await send(sign('leave-maintenance')), { ok: false, name: 'leave-maintenance', reason: 'ILLEGAL_TRANSITION' });
  await until('the refusal event', () => seen.find((m) => m.topic === topics.events && m.body.type === 'orchestrator.refused'));
  t.like(await send(sign('enter-maintenance', { args: { reason: 'firmware swap' } })), { ok: true, result: { state: 'MAINTENANCE' } });
  await until('MAINTENANCE status', () => (status(seen)?.agentState === 'MAINTENANCE' ? true : undefined));
  t.like(await send(sign('leave-maintenance')), { ok: true, result: { state: 'OPERATIONAL' } });
  t.like(await send(sign('set-log-level', { args: { level: 'debug' } })), { ok: true, result: { level: 'debug' } });
  t.like(await send(sign('report-now')), { ok: true });
  await until('telemetry', () => seen.find((m) => m.topic === topics.telemetry));

  // A fleet-wide command reaches it on the fleet branch.
  t.like(await send(sign('ping', { target: '*' }), topics.fleetCmd), { ok: true, name: 'ping' });

  // Restart: the result is published, then the process exits with 75 for systemd to start it again.
  t.like(await send(sign('restart', { args: { delayMs: 0 } })), { ok: true, result: { restartingInMs: 0 } });
  t.is(await agent.exited, 75);
  t.like(status(seen), { state: 'offline', reason: 'stopped' });
});
