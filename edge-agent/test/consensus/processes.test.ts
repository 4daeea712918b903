/**
 * PBFT as real processes (edge-agent/test/helpers/pbft-worker.ts): four
 * replicas and a client process, BOLT 8 over TCP on loopback, logs on disk.
 * Operations commit; the primary's process is SIGKILLed and the client's next
 * operations commit in a new view; the primary's process comes back with the
 * same key, port and log, catches up and keeps agreeing.
 */
import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, toHex } from '../../src/identity/index.js';
import { PbftWorker, type PeerInfo } from '../helpers/pbft-worker.js';
import { freePort } from '../helpers/ports.js';

const N = 4;
// Backups time every request from its arrival: 1 s leaves room for a loaded machine in normal operation.
const TUNING = { requestTimeout: 1_000, statusInterval: 100, checkpointInterval: 4 };

interface Commit {
  readonly replicas: number[];
  readonly ms: number;
  readonly at: number;
}

interface Status {
  readonly view: number;
  readonly active: boolean;
  readonly lastExecuted: number;
  readonly dropped: Record<string, number>;
  readonly recovered: number;
  readonly firstExecAt: Record<string, number>;
  readonly failure: string | null;
}

const status = async (w: PbftWorker): Promise<Status> => (await w.call('status')) as unknown as Status;

/** Polls until `check` holds; a safety net against a hang, never a speed assertion. */
async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function submit(client: PbftWorker, count: number): Promise<Commit[]> {
  const r = await client.call('submit', { count }, 30_000);
  return r['results'] as Commit[];
}

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-pbft-proc-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('four replica processes and a client over TCP: commit, SIGKILL the primary, commit in a new view, restart it from its log, it catches up', async (t) => {
  t.timeout(90_000);
  const dir = await tempDir(t);
  const keys = Array.from({ length: N }, () => generateKeyPair());
  // Ports fixed up front: the restarted replica takes its old one, so the client's address for it holds.
  const ports = await Promise.all(keys.map(() => freePort()));
  const replicas = keys.map((k, i) => new PbftWorker(`replica ${i}`, { secretKey: toHex(k.secretKey), port: ports[i]! }));
  const client = new PbftWorker('client');
  t.teardown(async () => {
    await Promise.all([...replicas, client].map((w) => w.stop()));
  });

  const infos = await Promise.all(replicas.map((w) => w.ready));
  await client.ready;
  const peers: PeerInfo[] = infos.map((info, i) => ({ member: i, ...info }));
  await Promise.all(replicas.map((w, i) => w.call('mesh', { self: i, peers })));
  const groupId = randomBytes(16).toString('hex');
  const made = (await client.call('clients', { groupId, base: 100, count: 1, replicas: peers, retransmitTimeoutMs: 300 }))['clients'] as PeerInfo[];
  const startArgs = (i: number) => ({
    groupId,
    self: i,
    replicas: peers.map((p) => [p.member, p.publicKey]),
    clients: made.map((c) => [c.member, c.publicKey]),
    logPath: join(dir, `replica-${i}.log`),
    tuning: TUNING,
  });
  await Promise.all(replicas.map((w, i) => w.call('start', startArgs(i))));

  // Normal operation in view 0.
  const first = await submit(client, 8);
  t.is(first.length, 8);
  t.true(first.every((c) => c.replicas.length >= 2), 'each result from f+1 matching replies');
  await until(async () => (await Promise.all(replicas.map(status))).every((s) => s.lastExecuted >= 1), 10_000, 'every replica executing');
  const views0 = await Promise.all(replicas.map(status));
  t.true(views0.every((s) => s.view === 0), JSON.stringify(views0.map((s) => [s.view, s.dropped])));

  // SIGKILL the primary's process: no stop, no flush.
  replicas[0]!.kill();
  await replicas[0]!.exited;
  const after = await submit(client, 4);
  t.is(after.length, 4);
  t.true(after.every((c) => !c.replicas.includes(0) && c.replicas.length >= 2), 'committed without replica 0');
  const survivors = await Promise.all(replicas.slice(1).map(status));
  t.true(survivors.every((s) => s.view >= 1), `views ${survivors.map((s) => s.view).join(',')}`);
  t.true(
    survivors.every((s) => Object.keys(s.firstExecAt).some((v) => Number(v) >= 1)),
    'the survivors executed in a view ≥ 1',
  );

  // Replica 0 comes back: same key, same port, same log.
  replicas[0] = new PbftWorker('replica 0 (restarted)', { secretKey: toHex(keys[0]!.secretKey), port: ports[0]! });
  t.is((await replicas[0].ready).port, ports[0]!);
  await replicas[0].call('mesh', { self: 0, peers: [...peers, ...made], dialAll: true });
  const restarted = await replicas[0].call('start', startArgs(0));
  t.true((restarted['recovered'] as number) > 0, 'rebuilt from its log');

  // The group moves on; replica 0 reaches what the others executed.
  await submit(client, 6);
  const target = Math.max(...(await Promise.all(replicas.slice(1).map(status))).map((s) => s.lastExecuted));
  await until(async () => (await status(replicas[0]!)).lastExecuted >= target, 30_000, `replica 0 reaching seq ${target}`);
  const caughtUp = await status(replicas[0]);
  t.true(caughtUp.view >= 1, `replica 0 in view ${caughtUp.view}`);
  t.is(caughtUp.failure, null);

  // And keeps agreeing: later operations execute at replica 0 at the same sequence numbers as elsewhere.
  const later = await submit(client, 6);
  t.true(later.every((c) => c.replicas.length >= 2));
  await until(
    async () => {
      const all = await Promise.all(replicas.map(status));
      return new Set(all.map((s) => s.lastExecuted)).size === 1;
    },
    20_000,
    'all four at the same executed sequence number',
  );
  const end = await Promise.all(replicas.map(status));
  t.log(`executed seq ${end.map((s) => s.lastExecuted).join(',')}; views ${end.map((s) => s.view).join(',')}; replica 0 recovered ${caughtUp.recovered} records; replies from 0 in later commits: ${later.filter((c) => c.replicas.includes(0)).length}/6`);
});
