/**
 * The committee's agreement (agreement.ts): who runs a replica, the refusals of
 * committee-order, the longest command fitting an agent's body limit, and four
 * members over BOLT 8 on loopback that start their replicas only once every
 * channel is open, order a put and a get, and stop cleanly.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { pino } from 'pino';
import { AgreementError, CommitteeAgreement, MIN_AGREEMENT_MEMBERS, agreementGroupId, agreementRefusal } from '../../src/agent/agreement.js';
import { committeePlan } from '../../src/agent/committee-plan.js';
import { systemClock } from '../../src/clock/index.js';
import { MAX_COMMITTEE_ORDER_KEY, MAX_COMMITTEE_ORDER_VALUE_BYTES, signCommand } from '../../src/commands/index.js';
import { parseConfig } from '../../src/config/index.js';
import { withConsensusMessages } from '../../src/consensus/index.js';
import { generateKeyPair, peerIdOf, toHex, type KeyPair } from '../../src/identity/index.js';
import { ConnectionManager, Messenger } from '../../src/transport/index.js';
import { coreMessages } from '../../src/wire/index.js';
import { LOCAL, address, until } from '../transport/net-helpers.js';

const silent = pino({ level: 'silent' });
const peerHex = (k: KeyPair): string => toHex(peerIdOf(k.publicKey));

function agreementOf(config: ReturnType<typeof parseConfig>, keys: KeyPair, messenger = {} as Messenger, manager = {} as ConnectionManager): CommitteeAgreement {
  return new CommitteeAgreement({
    config,
    plan: committeePlan(config, peerHex(keys)),
    messenger,
    manager,
    secretKey: () => Uint8Array.from(keys.secretKey),
    clock: systemClock,
    log: silent,
  });
}

test('who runs a replica: workers, outsiders and committees below four run none; committee-order is refused with a code', async (t) => {
  const keys = Array.from({ length: 4 }, () => generateKeyPair());
  const ids = keys.map(peerHex);
  const worker = agreementOf(parseConfig({ committee: { threshold: 2, members: ids } }), keys[0]!);
  const three = agreementOf(parseConfig({ role: 'committee', committee: { threshold: 2, members: ids.slice(0, 3) } }), keys[0]!);
  const four = agreementOf(parseConfig({ role: 'committee', committee: { threshold: 2, members: ids } }), keys[0]!);
  t.false(worker.member);
  t.false(three.member);
  t.true(four.member);
  t.is(agreementRefusal(committeePlan(parseConfig({ role: 'committee', committee: { threshold: 2, members: ids.slice(0, 3) } }), ids[0]!))?.code, 'COMMITTEE_TOO_SMALL');
  t.is(MIN_AGREEMENT_MEMBERS, 4);
  const put = { op: 'put' as const, key: 'k', value: new Uint8Array([1]) };
  t.is((await t.throwsAsync(worker.order(put), { instanceOf: AgreementError }))?.code, 'NOT_A_COMMITTEE_MEMBER');
  t.is((await t.throwsAsync(three.order(put), { instanceOf: AgreementError }))?.code, 'COMMITTEE_TOO_SMALL');
  // A member whose replica has not started (start() not called: no channels) refuses too.
  t.is((await t.throwsAsync(four.order(put), { instanceOf: AgreementError }))?.code, 'REPLICA_NOT_RUNNING');
  // Arguments are checked before anything else.
  t.is((await t.throwsAsync(four.order({ op: 'put', key: 'k' }), { instanceOf: AgreementError }))?.code, 'BAD_ARGUMENT');
  t.is((await t.throwsAsync(four.order({ op: 'get', key: 'k', value: new Uint8Array(1) }), { instanceOf: AgreementError }))?.code, 'BAD_ARGUMENT');
  t.is((await t.throwsAsync(four.order({ op: 'get', key: '' }), { instanceOf: AgreementError }))?.code, 'BAD_ARGUMENT');
  t.deepEqual(worker.figures(), { replica: false });
  t.like(four.figures(), { replica: true, running: false, members: 4, view: null, lastExecuted: null });
});

test('the group id is 16 bytes bound to the fleet and the ordered members', (t) => {
  const members = Array.from({ length: 4 }, () => peerIdOf(generateKeyPair().publicKey));
  const id = agreementGroupId('f1', members);
  t.is(id.length, 16);
  t.deepEqual(agreementGroupId('f1', members), id);
  t.notDeepEqual(agreementGroupId('f2', members), id);
  t.notDeepEqual(agreementGroupId('f1', [...members].reverse()), id);
  t.throws(() => agreementGroupId('f1', [new Uint8Array(31)]), { instanceOf: AgreementError });
});

test('the longest committee-order (key and value at their limits, the longest fleet name) fits an agent’s command body', (t) => {
  const op = generateKeyPair();
  t.notThrows(() =>
    signCommand({
      secretKey: op.secretKey,
      fleet: 'a'.repeat(63),
      target: 'f'.repeat(64),
      name: 'committee-order',
      args: { op: 'put', key: '~'.repeat(MAX_COMMITTEE_ORDER_KEY), value: 'ff'.repeat(MAX_COMMITTEE_ORDER_VALUE_BYTES) },
      ttlMs: 60_000,
    }),
  );
});

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-agreement-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('four members over BOLT 8: replicas start once every channel is open, a put and a get commit at increasing seqs, stop is clean', async (t) => {
  const registry = withConsensusMessages(coreMessages);
  const keys = Array.from({ length: 4 }, () => generateKeyPair());
  const ids = keys.map(peerHex);
  const root = await tempDir(t);
  const nodes = await Promise.all(
    keys.map(async (k, i) => {
      const manager = new ConnectionManager({ secretKey: k.secretKey });
      const { port } = await manager.listen(`${LOCAL}:0`);
      const messenger = new Messenger({ manager, registry });
      const config = parseConfig({ fleet: 'unit', dataDir: join(root, `m${i}`), role: 'committee', committee: { threshold: 2, members: ids } });
      return { keys: k, manager, messenger, port, config, agreement: agreementOf(config, k, messenger, manager) };
    }),
  );
  t.teardown(async () => {
    for (const n of nodes) {
      await n.agreement.stop().catch(() => {});
      n.messenger.close();
      await n.manager.close();
    }
  });
  // Started before any channel: they wait for all of them.
  for (const n of nodes) n.agreement.start();
  t.false(nodes.some((n) => n.agreement.running));
  for (let i = 0; i < nodes.length; i++) for (let j = i + 1; j < nodes.length; j++) await nodes[i]!.manager.dial(address(nodes[j]!.keys, nodes[j]!.port));
  await until(() => nodes.every((n) => n.agreement.running), 30_000, 'every replica running');

  // Every member is a client: ask two different ones.
  const value = new TextEncoder().encode('ordered');
  const put = await nodes[0]!.agreement.order({ op: 'put', key: 'demo-key', value });
  t.true(put.ok);
  t.true(put.view >= 0 && put.seq >= 1);
  const got = await nodes[2]!.agreement.order({ op: 'get', key: 'demo-key' });
  t.true(got.ok);
  t.deepEqual(got.value, value);
  t.true(got.seq > put.seq);
  t.true(got.view >= put.view, 'views only grow');
  const missing = await nodes[1]!.agreement.order({ op: 'get', key: 'absent' });
  t.false(missing.ok);
  t.is(missing.error, 'not-found');
  // The figures telemetry carries.
  await until(() => nodes.every((n) => (n.agreement.figures().lastExecuted as number) >= missing.seq), 30_000, 'every replica executed');
  t.like(nodes[3]!.agreement.figures(), { replica: true, running: true, members: 4 });
  t.is(nodes[3]!.agreement.figures().view, missing.view, 'telemetry shows the view the last operation committed in');

  const dir = join(nodes[0]!.config.dataDir, 'consensus');
  t.is((await stat(dir)).mode & 0o777, 0o700);
  t.true((await stat(join(dir, 'replica.log'))).size > 0);
  for (const n of nodes) await n.agreement.stop();
  t.false(nodes[0]!.agreement.running);
  t.is((await t.throwsAsync(nodes[0]!.agreement.order({ op: 'get', key: 'demo-key' }), { instanceOf: AgreementError }))?.code, 'STOPPING');
});
