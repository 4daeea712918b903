/**
 * Issue 8 in the agent, end to end: three real `edge-agent run` processes form
 * a 2-of-3 committee. They run the DKG in DKG_PHASE, all reach OPERATIONAL with
 * one group key and record it in their audit trails; a restarted member takes
 * its key from the keystore (no second DKG); and a committee-sign command,
 * signed by an operator and delivered over MQTT, comes back with an ordinary
 * Ed25519 signature that node:crypto verifies under the group key.
 */
import { createPublicKey, verify as verifySignature } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { connectAsync } from 'mqtt';
import { decodeEntry, type AuditEntry } from '../../src/audit/entry.js';
import { signCommand } from '../../src/commands/index.js';
import { startEmbeddedBroker } from '../../src/demo/broker.js';
import { AgentProcess, type AgentEvent } from '../../src/demo/index.js';
import { DEFAULT_POW_DIFFICULTY, createIdentity, generateKeyPair, toHex } from '../../src/identity/index.js';
import { scanLog } from '../../src/store/index.js';
import { decodePayload, topicsFor } from '../../src/telemetry/index.js';
import { freePort } from '../helpers/ports.js';

const FLEET = 'committee-test';

interface Member {
  readonly name: string;
  readonly dir: string;
  readonly peerId: string;
  readonly publicKey: string;
  readonly port: number;
  /** Everything it logged, across restarts. */
  records: Record<string, unknown>[];
  stderr: string[];
  exit?: string;
  proc?: AgentProcess;
}

function onEvent(m: Member, event: AgentEvent): void {
  if (event.kind === 'log') m.records.push(event.record);
  else if (event.kind === 'stderr') m.stderr.push(event.line);
  else m.exit = event.signal ?? String(event.code);
}

async function until<T>(what: string, members: readonly Member[], find: () => T | undefined, ms = 45_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    const gone = members.find((m) => m.exit !== undefined && m.proc?.running === false && m.exit !== '0');
    if (gone) throw new Error(`${gone.name} exited (${gone.exit}): ${gone.stderr.slice(-3).join(' | ')}`);
    if (Date.now() > end) {
      const tail = members.map((m) => `${m.name}: ${m.records.slice(-4).map((r) => String(r.msg)).join(' / ')}`).join('\n');
      throw new Error(`timed out waiting for ${what}\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const transitions = (m: Member, to: string): Record<string, unknown>[] => m.records.filter((r) => r.event === 'orchestrator.transition' && r.to === to);
const keyLines = (m: Member): Record<string, unknown>[] => m.records.filter((r) => r.event === 'committee.key');

async function auditEntries(dir: string): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  await scanLog(join(dir, 'audit', 'audit.log'), (r) => void out.push(decodeEntry(r)));
  return out;
}

test('a 2-of-3 committee of agent processes: DKG in DKG_PHASE, one group key, the key reused after a restart, a committee-sign that node:crypto verifies', async (t) => {
  t.timeout(120_000);
  const root = await mkdtemp(join(tmpdir(), 'edge-committee-'));
  const broker = await startEmbeddedBroker();
  const members: Member[] = [];
  t.teardown(async () => {
    await Promise.all(members.map((m) => m.proc?.stop(5_000)));
    await broker.close();
    await rm(root, { recursive: true, force: true });
  });
  for (let i = 0; i < 3; i++) {
    const dir = join(root, `agent-${i + 1}`);
    await mkdir(dir, { mode: 0o700 });
    const identity = await createIdentity(dir, { difficulty: DEFAULT_POW_DIFFICULTY });
    members.push({ name: `agent-${i + 1}`, dir, peerId: toHex(identity.peerId), publicKey: toHex(identity.publicKey), port: await freePort(), records: [], stderr: [] });
    identity.destroy();
  }
  const operator = generateKeyPair();
  const start = (m: Member): void => {
    m.exit = undefined;
    m.proc = new AgentProcess(join(m.dir, 'config.json'), (e) => onEvent(m, e));
  };
  for (const [i, m] of members.entries()) {
    const config = {
      fleet: FLEET,
      nodeName: m.name,
      dataDir: m.dir,
      board: 'x86-64-dev',
      role: 'committee',
      committee: { threshold: 2, members: members.map((x) => x.peerId), deltaMs: 500 },
      status: { intervalMs: 60_000 },
      // Each dials the ones before it: a full mesh, every pair once.
      network: { listen: `127.0.0.1:${m.port}`, bootstrap: members.slice(0, i).map((p) => `${p.publicKey}@127.0.0.1:${p.port}`) },
      telemetry: { broker: broker.url, intervalMs: 60_000, keepaliveSec: 5 },
      operators: [{ name: 'ops', publicKey: toHex(operator.publicKey) }],
      liveness: { challenge: false },
    };
    await writeFile(join(m.dir, 'config.json'), JSON.stringify(config));
  }
  members.forEach(start);

  // All three leave DKG_PHASE through the DKG, with one key and everyone qualified.
  await until('OPERATIONAL everywhere', members, () => (members.every((m) => transitions(m, 'OPERATIONAL').length > 0) ? true : undefined));
  const keys = members.map((m) => keyLines(m).find((r) => r.source === 'dkg'));
  for (const [i, k] of keys.entries()) t.truthy(k, `${members[i]!.name} generated its key`);
  const groupKey = String(keys[0]!.groupKey);
  t.regex(groupKey, /^[0-9a-f]{64}$/);
  t.true(keys.every((k) => k!.groupKey === groupKey), 'one group key');
  for (const m of members) {
    t.regex(String(transitions(m, 'READY')[0]!.reason), new RegExp(`^committee key ${groupKey.slice(0, 16)}… from DKG, qualified members 1,2,3$`));
    t.is(transitions(m, 'DKG_PHASE').length, 1);
  }
  const members1 = new Set(members.map((m) => m.records.find((r) => r.event === 'committee')?.member));
  t.deepEqual([...members1].sort(), [1, 2, 3], 'members numbered 1..3 by peer id');

  // A restart: the key comes from the keystore, no DKG.
  const again = members[1]!;
  await again.proc!.stop(10_000);
  t.is(again.exit, '0');
  const before = again.records.length;
  start(again);
  await until('the restarted agent OPERATIONAL', members, () => (again.records.slice(before).some((r) => r.event === 'orchestrator.transition' && r.to === 'OPERATIONAL') ? true : undefined));
  const after = again.records.slice(before);
  t.like(after.find((r) => r.event === 'committee.key'), { source: 'keystore', groupKey });
  t.regex(String(after.find((r) => r.event === 'orchestrator.transition' && r.to === 'READY')?.reason), /from the keystore: no DKG$/);
  t.false(after.some((r) => r.event === 'committee.dkg'), 'no DKG after the restart');

  // committee-sign over MQTT to the restarted member: it coordinates with its stored share.
  const client = await connectAsync(broker.url, { clientId: `committee-test-${process.pid}`, reconnectPeriod: 0 });
  t.teardown(() => client.end(true));
  const topics = topicsFor(FLEET, again.peerId);
  const results: Record<string, unknown>[] = [];
  client.on('message', (_topic, payload) => {
    if (payload.length > 0) results.push(decodePayload(payload) as Record<string, unknown>);
  });
  await client.subscribeAsync(topics.cmdResult, { qos: 1 });
  // The channels of the restarted agent come back before it can gather two signers.
  await until('channels back', members, () => (again.records.slice(before).some((r) => r.event === 'channel' && r.channels === 2) ? true : undefined));
  const message = new TextEncoder().encode('edge-agent committee test message');
  const command = signCommand({ secretKey: operator.secretKey, fleet: FLEET, target: again.peerId, name: 'committee-sign', args: { message: Buffer.from(message).toString('hex') }, ttlMs: 60_000 });
  await client.publishAsync(topics.cmd, Buffer.from(command), { qos: 1 });
  const result = await until('the committee-sign result', members, () => results.find((r) => r.name === 'committee-sign'));
  t.true(result.ok, JSON.stringify(result));
  const body = result.result as { signature: string; groupKey: string; signers: number[] };
  t.is(body.groupKey, groupKey);
  t.is(body.signers.length, 2);
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(groupKey, 'hex')]);
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  t.true(verifySignature(null, message, key, Buffer.from(body.signature, 'hex')), 'node:crypto verifies the committee signature');
  t.false(verifySignature(null, new TextEncoder().encode('another message'), key, Buffer.from(body.signature, 'hex')));

  // The trails: one DKG each (the restart made none), the same key, and the signature recorded by its coordinator.
  await Promise.all(members.map((m) => m.proc!.stop(10_000)));
  for (const m of members) {
    t.is(m.exit, '0', `${m.name} stopped cleanly`);
    const entries = await auditEntries(m.dir);
    const dkg = entries.filter((e) => e.kind === 'threshold.dkg');
    t.is(dkg.length, 1, `${m.name}: one threshold.dkg entry`);
    t.like(dkg[0]!.data, { outcome: 'done', groupKey, qualified: [1, 2, 3] });
  }
  const signs = (await auditEntries(again.dir)).filter((e) => e.kind === 'threshold.sign');
  t.is(signs.length, 1);
  t.like(signs[0]!.data, { groupKey });
});
