/**
 * PBFT over real secure channels (BOLT 8 over TCP on loopback): four replicas
 * with their logs on disk and a client. Operations commit in order; the
 * primary stops and the others commit in a new view; the stopped replica is
 * rebuilt from its log and catches up.
 */
import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientService, KvStateMachine, ReplicaService, decodeKvResult, encodeKvOp, withConsensusMessages, type ReplicaEvent } from '../../src/consensus/index.js';
import { generateKeyPair, type KeyPair } from '../../src/identity/index.js';
import { ConnectionManager, Messenger } from '../../src/transport/index.js';
import { coreMessages } from '../../src/wire/index.js';
import { LOCAL, address, until } from '../transport/net-helpers.js';

const registry = withConsensusMessages(coreMessages);
const text = new TextEncoder();

interface Node {
  readonly keys: KeyPair;
  manager: ConnectionManager;
  messenger: Messenger;
  port: number;
}

async function startNode(keys: KeyPair): Promise<Node> {
  const manager = new ConnectionManager({ secretKey: keys.secretKey });
  const { port } = await manager.listen(`${LOCAL}:0`);
  return { keys, manager, messenger: new Messenger({ manager, registry }), port };
}

async function stopNode(n: Node): Promise<void> {
  n.messenger.close();
  await n.manager.close();
}

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-pbft-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Replicas 0..3 and one client (node 4), every pair joined by a channel. */
async function group(t: ExecutionContext) {
  const nodes = await Promise.all(Array.from({ length: 5 }, () => startNode(generateKeyPair())));
  t.teardown(async () => {
    await Promise.all(nodes.map((n) => stopNode(n).catch(() => {})));
  });
  for (let i = 0; i < nodes.length; i++) for (let j = i + 1; j < nodes.length; j++) await nodes[i]!.manager.dial(address(nodes[j]!.keys, nodes[j]!.port));
  await until(() => nodes.every((n) => n.manager.channels().length === nodes.length - 1), 10_000, 'full mesh');
  const replicas = new Map(nodes.slice(0, 4).map((n, i) => [i, n.keys.publicKey] as const));
  // Client 7 is a node of its own; client 8 lives on replica 1's node (a member ordering an operation).
  const clients = new Map([
    [7, nodes[4]!.keys.publicKey],
    [8, nodes[1]!.keys.publicKey],
  ] as const);
  return { nodes, replicas, clients, groupId: randomBytes(16), dir: await tempDir(t) };
}

const put = (key: string, value: string): Uint8Array => encodeKvOp({ op: 'put', key, value: text.encode(value) });
const get = (key: string): Uint8Array => encodeKvOp({ op: 'get', key });

test('four replicas over BOLT 8 order a client’s operations; after the primary stops the rest commit in a new view; the primary rebuilt from its log catches up', async (t) => {
  const g = await group(t);
  const executed: Map<number, number>[] = [0, 1, 2, 3].map(() => new Map());
  const start = (i: number, node: Node): Promise<ReplicaService> =>
    ReplicaService.start({
      messenger: node.messenger,
      groupId: g.groupId,
      replicas: g.replicas,
      clients: g.clients,
      self: i,
      secretKey: node.keys.secretKey,
      stateMachine: new KvStateMachine(),
      logPath: join(g.dir, `replica-${i}.log`),
      tuning: { requestTimeout: 400, statusInterval: 100, checkpointInterval: 4 },
      compactAfterRecords: 16,
      onEvent: (e: ReplicaEvent) => {
        if (e.kind === 'executed') for (const r of e.requests) executed[i]!.set(r.timestamp, e.seq);
      },
    });
  const services = await Promise.all(g.nodes.slice(0, 4).map((n, i) => start(i, n)));
  t.teardown(() => Promise.all(services.map((s) => s.stop())).then(() => undefined));
  const client = new ClientService({ messenger: g.nodes[4]!.messenger, groupId: g.groupId, replicas: g.replicas, self: 7, secretKey: g.nodes[4]!.keys.secretKey, retransmitTimeoutMs: 300 });
  t.teardown(() => client.close());

  // Normal operation in view 0.
  for (let i = 0; i < 10; i++) {
    const c = await client.submit(put(`k${i}`, `v${i}`));
    t.true(decodeKvResult(c.result).ok);
    t.true(c.replicas.length >= 2, 'f+1 matching replies');
  }
  const read = decodeKvResult((await client.submit(get('k3'))).result);
  t.true(read.ok && new TextDecoder().decode(read.ok ? read.value : new Uint8Array()) === 'v3');
  await until(() => executed.every((m) => m.size === 11), 10_000, 'every replica executed all 11');
  // Same sequence number for every request at every replica.
  for (const [ts, seq] of executed[0]!) for (const m of executed) t.is(m.get(ts), seq);
  t.true(services.every((s) => s.stats.persisted > 0));
  t.true(services.every((s) => s.stats.compactions > 0 && s.stats.logRecords < s.stats.persisted), 'logs compacted after stable checkpoints');

  // The primary (replica 0) stops: the others change view and go on.
  await services[0]!.stop();
  await stopNode(g.nodes[0]!);
  const after = await client.submit(put('after', 'view change'));
  t.true(decodeKvResult(after.result).ok);
  t.false(after.replicas.includes(0));
  t.true(services.slice(1).every((s) => s.stats.view >= 1), `views ${services.map((s) => s.stats.view).join(',')}`);
  for (let i = 0; i < 6; i++) await client.submit(put(`late${i}`, `${i}`));

  // Replica 0 comes back with the same key and its log, and catches up with what it missed.
  const back = await startNode(g.nodes[0]!.keys);
  g.nodes[0] = back;
  for (let j = 1; j < 5; j++) await back.manager.dial(address(g.nodes[j]!.keys, g.nodes[j]!.port));
  await until(() => back.manager.channels().length === 4, 10_000, 'replica 0 reconnected');
  executed[0]!.clear();
  const restarted = await start(0, back);
  services[0] = restarted;
  t.true(restarted.stats.recovered > 0, 'rebuilt from its log');
  await client.submit(put('final', 'all four'));
  await until(() => restarted.stats.view >= 1 && executed[1]!.size >= 18, 15_000, 'the group moved on');
  const finalTs = [...executed[1]!.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  await until(() => executed[0]!.has(finalTs) || restarted.replica.stats.lastExecuted >= executed[1]!.get(finalTs)!, 15_000, 'replica 0 caught up');

  // A client beside a replica on one node: replies reach it under their own route.
  const local = new ClientService({ messenger: g.nodes[1]!.messenger, groupId: g.groupId, replicas: g.replicas, self: 8, secretKey: g.nodes[1]!.keys.secretKey, retransmitTimeoutMs: 300 });
  t.teardown(() => local.close());
  const mine = await local.submit(get('final'));
  t.true(decodeKvResult(mine.result).ok);
});
