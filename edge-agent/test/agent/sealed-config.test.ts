/**
 * The agent's sealed config (sealed-config.ts) over three real Messengers on
 * loopback: A seals an attribute for B, B reads it, C is refused; A moves it
 * to C and the refusal moves with it. Then the typed errors (a reader without
 * a channel, bad arguments, unknown records), the command schemas of
 * seal-config and read-sealed (their longest bodies fit), and the two
 * commands through a CommandDesk with a real verifier and audit trail.
 */
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { pino } from 'pino';
import { CommandDesk } from '../../src/agent/command-desk.js';
import { SealedConfigError, SealedConfigService, configRecordId } from '../../src/agent/sealed-config.js';
import { AuditTrail } from '../../src/audit/index.js';
import { systemClock } from '../../src/clock/index.js';
import { CommandVerifier, ReplayGuard, parseOperatorKey, signBody, signCommand, type CommandResult } from '../../src/commands/index.js';
import { COMMAND_ARGS, MAX_SEAL_CONFIG_READERS, MAX_SEAL_CONFIG_VALUE_BYTES, SEAL_CONFIG_BUDGET } from '../../src/commands/registry.js';
import { generateKeyPair, toHex } from '../../src/identity/index.js';
import { MetricsRegistry } from '../../src/metrics/index.js';
import { withSealedMessages } from '../../src/sealed/index.js';
import { ConnectionManager, Messenger } from '../../src/transport/index.js';
import { coreMessages } from '../../src/wire/index.js';
import { seededRandom } from '../helpers/random.js';
import { address, startManager, until } from '../transport/net-helpers.js';

const registry = withSealedMessages(coreMessages);
const silent = pino({ level: 'silent' });
const code = (c: string) => ({ instanceOf: SealedConfigError, code: c });
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

type Started = Awaited<ReturnType<typeof startManager>>;
interface Node extends Started {
  readonly messenger: Messenger;
  readonly service: SealedConfigService;
  readonly dir: string;
  readonly id: string;
  readonly audit: { kind: string; data: Record<string, unknown> }[];
}

async function tempDir(t: ExecutionContext, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function node(t: ExecutionContext): Promise<Node> {
  const started = await startManager();
  const dir = await tempDir(t, 'sealed-config-');
  const messenger = new Messenger({ manager: started.manager, registry, requestTimeoutMs: 10_000 });
  const audit: Node['audit'] = [];
  const service = await SealedConfigService.open({
    dataDir: dir,
    messenger,
    manager: started.manager,
    secretKey: () => Uint8Array.from(started.keys.secretKey),
    audit: async (kind, data) => void audit.push({ kind, data }),
    log: silent,
  });
  t.teardown(async () => {
    await service.stop();
    messenger.close();
    await started.manager.close();
  });
  return { ...started, messenger, service, dir, id: toHex(started.manager.peerId), audit };
}

async function connect(a: Started, b: Started): Promise<void> {
  await a.manager.dial(address(b.keys, b.port));
  await until(() => a.manager.channel(b.manager.peerId) !== undefined && b.manager.channel(a.manager.peerId) !== undefined, 10_000, 'channel');
}

async function fleet(t: ExecutionContext): Promise<[Node, Node, Node]> {
  const a = await node(t);
  const b = await node(t);
  const c = await node(t);
  await connect(b, a);
  await connect(c, a);
  await connect(c, b);
  return [a, b, c];
}

test('A seals for B: B reads, C is refused; A moves the attribute to C: C reads the new state, B is refused', async (t) => {
  const [a, b, c] = await fleet(t);
  const psk = utf8('correct horse battery staple');
  const first = await a.service.seal({ attribute: 'wifi-psk', value: psk, readers: [b.id] });
  t.deepEqual(first, { record: toHex(configRecordId(a.manager.peerId)), state: 0 });
  t.is(a.service.record, first.record);
  t.is(text(psk), 'correct horse battery staple', 'the caller’s copy is left alone');

  const read = await b.service.read({ record: first.record, attribute: 'wifi-psk', from: a.id });
  t.is(text(read.value), 'correct horse battery staple');
  t.is(read.state, 0);
  await t.throwsAsync(c.service.read({ record: first.record, attribute: 'wifi-psk', from: a.id }), code('NOT_AUTHORIZED'));

  const second = await a.service.seal({ attribute: 'wifi-psk', value: utf8('rotated psk for C'), readers: [c.id] });
  t.deepEqual(second, { record: first.record, state: 1 });
  const now = await c.service.read({ record: first.record, attribute: 'wifi-psk', from: a.id });
  t.deepEqual({ value: text(now.value), state: now.state }, { value: 'rotated psk for C', state: 1 });
  await t.throwsAsync(b.service.read({ record: first.record, attribute: 'wifi-psk', from: a.id }), code('NOT_AUTHORIZED'));

  // A second attribute keeps the first one's readers: C still reads wifi-psk, B reads ntp-key.
  t.is((await a.service.seal({ attribute: 'ntp-key', value: utf8('ntp'), readers: [b.id] })).state, 2);
  t.is(text((await b.service.read({ record: first.record, attribute: 'ntp-key', from: a.id })).value), 'ntp');
  t.is(text((await c.service.read({ record: first.record, attribute: 'wifi-psk', from: a.id })).value), 'rotated psk for C');
  await t.throwsAsync(c.service.read({ record: first.record, attribute: 'ntp-key', from: a.id }), code('NOT_AUTHORIZED'));

  // What was audited, and never the value.
  t.deepEqual(a.audit.map((e) => e.kind), ['sealed.sealed', 'sealed.sealed', 'sealed.sealed']);
  t.deepEqual(a.audit[0]!.data, { record: first.record, attribute: 'wifi-psk', state: 0, readers: [b.id] });
  t.deepEqual(b.audit.map((e) => e.kind), ['sealed.read', 'sealed.refused', 'sealed.read']);
  t.like(b.audit[1]!.data, { op: 'read', record: first.record, attribute: 'wifi-psk', from: a.id, code: 'NOT_AUTHORIZED' });
  const logged = JSON.stringify([...a.audit, ...b.audit, ...c.audit]);
  t.false(logged.includes('horse') || logged.includes('rotated'));
});

test('the record survives a restart: a reopened service updates the same chain', async (t) => {
  const [a, b] = await fleet(t);
  const first = await a.service.seal({ attribute: 'wifi-psk', value: utf8('one'), readers: [b.id] });
  await a.service.stop();
  await t.throwsAsync(a.service.seal({ attribute: 'wifi-psk', value: utf8('x'), readers: [b.id] }), code('STOPPED'));
  t.is((await stat(join(a.dir, 'sealed'))).mode & 0o777, 0o700);
  // A restarted agent: a new manager and messenger on the same identity key, the same data directory.
  const manager = new ConnectionManager({ secretKey: Uint8Array.from(a.keys.secretKey) });
  const messenger = new Messenger({ manager, registry });
  const again = await SealedConfigService.open({ dataDir: a.dir, messenger, manager, secretKey: () => Uint8Array.from(a.keys.secretKey) });
  t.teardown(async () => {
    await again.stop();
    messenger.close();
    await manager.close();
  });
  t.is(again.record, first.record);
  // Sealed for itself alone: no channel needed, and it reads its own attribute back.
  t.deepEqual(await again.seal({ attribute: 'wifi-psk', value: utf8('two'), readers: [a.id] }), { record: first.record, state: 1 });
  t.is(text((await again.read({ record: first.record, attribute: 'wifi-psk', from: a.id })).value), 'two');
});

test('typed refusals: a reader without a channel, bad arguments, an unknown record, attribute or peer', async (t) => {
  const [a, b] = await fleet(t);
  const stranger = toHex(new Uint8Array(32).fill(0x5a));
  const refused = await t.throwsAsync(a.service.seal({ attribute: 'wifi-psk', value: utf8('x'), readers: [b.id, stranger] }), code('NOT_CONNECTED'));
  t.true(refused!.message.includes(stranger), 'the error names the reader');
  t.deepEqual(a.audit.map((e) => [e.kind, e.data.code]), [['sealed.refused', 'NOT_CONNECTED']]);
  t.is(await readdir(join(a.dir, 'sealed')).then((d) => d.length), 0, 'nothing was sealed');

  await t.throwsAsync(a.service.seal({ attribute: 'Wifi', value: utf8('x'), readers: [b.id] }), code('BAD_ARGUMENT'));
  await t.throwsAsync(a.service.seal({ attribute: '__proto__', value: utf8('x'), readers: [b.id] }), code('BAD_ARGUMENT'));
  await t.throwsAsync(a.service.seal({ attribute: 'wifi-psk', value: utf8('x'), readers: [] }), code('BAD_ARGUMENT'));
  await t.throwsAsync(a.service.seal({ attribute: 'wifi-psk', value: utf8('x'), readers: [b.id, b.id] }), code('BAD_ARGUMENT'));
  await t.throwsAsync(a.service.seal({ attribute: 'wifi-psk', value: utf8('x'), readers: [b.id.toUpperCase()] }), code('BAD_ARGUMENT'));
  await t.throwsAsync(a.service.seal({ attribute: 'wifi-psk', value: 'x' as unknown as Uint8Array, readers: [b.id] }), code('BAD_ARGUMENT'));
  await t.throwsAsync(b.service.read({ record: 'ab', attribute: 'wifi-psk', from: a.id }), code('BAD_ARGUMENT'));
  await t.throwsAsync(b.service.read({ record: a.service.record, attribute: 'wifi-psk', from: 'a' }), code('BAD_ARGUMENT'));

  // Nothing sealed yet: a has no such record to serve.
  await t.throwsAsync(b.service.read({ record: a.service.record, attribute: 'wifi-psk', from: a.id }), code('NOT_FOUND'));
  await t.throwsAsync(b.service.read({ record: a.service.record, attribute: 'wifi-psk', from: stranger }), code('NOT_CONNECTED'));
  await a.service.seal({ attribute: 'wifi-psk', value: utf8('x'), readers: [b.id] });
  await t.throwsAsync(b.service.read({ record: a.service.record, attribute: 'ntp-key', from: a.id }), code('UNKNOWN_ATTRIBUTE'));
  // The author is not a reader unless it names itself; then it reads its own record without asking anyone.
  await t.throwsAsync(a.service.read({ record: a.service.record, attribute: 'wifi-psk', from: a.id }), code('NOT_AUTHORIZED'));
  await a.service.seal({ attribute: 'wifi-psk', value: utf8('mine too'), readers: [a.id, b.id] });
  t.is(text((await a.service.read({ record: a.service.record, attribute: 'wifi-psk', from: a.id })).value), 'mine too');
});

test('a messenger without the sealed messages is refused at open', async (t) => {
  const started = await startManager();
  const messenger = new Messenger({ manager: started.manager, registry: coreMessages });
  const dir = await tempDir(t, 'sealed-config-');
  t.teardown(async () => {
    messenger.close();
    await started.manager.close();
  });
  await t.throwsAsync(SealedConfigService.open({ dataDir: dir, messenger, manager: started.manager, secretKey: () => Uint8Array.from(started.keys.secretKey) }), code('BAD_ARGUMENT'));
});

test('the record id is SHA-256 over the label, the peer id and "config": fixed per agent, distinct across agents', (t) => {
  const one = new Uint8Array(32).fill(1);
  t.deepEqual(configRecordId(one), configRecordId(Uint8Array.from(one)));
  t.notDeepEqual(configRecordId(one), configRecordId(new Uint8Array(32).fill(2)));
  t.is(configRecordId(one).length, 32);
  t.throws(() => configRecordId(new Uint8Array(31)), code('BAD_ARGUMENT'));
});

const peer = (rand: () => number): string => Array.from({ length: 32 }, () => Math.floor(rand() * 256).toString(16).padStart(2, '0')).join('');

test('seal-config and read-sealed arguments: the schema takes what it should and refuses the rest', (t) => {
  const rand = seededRandom(13);
  const ids = Array.from({ length: MAX_SEAL_CONFIG_READERS + 1 }, () => peer(rand));
  const seal = COMMAND_ARGS['seal-config'];
  const ok = { attribute: 'wifi-psk', value: 'ab'.repeat(32), readers: ids.slice(0, 2).join(',') };
  t.deepEqual(seal.parse(ok), ok);
  const bad: Record<string, unknown>[] = [
    { ...ok, attribute: '' },
    { ...ok, attribute: 'a'.repeat(65) },
    { ...ok, attribute: 'Wifi' },
    { ...ok, attribute: 'wifi/psk' },
    { ...ok, value: '' },
    { ...ok, value: 'abc' },
    { ...ok, value: 'AB' },
    { ...ok, value: 'ab'.repeat(MAX_SEAL_CONFIG_VALUE_BYTES + 1) },
    { ...ok, readers: '' },
    { ...ok, readers: ids[0]!.toUpperCase() },
    { ...ok, readers: `${ids[0]},` },
    { ...ok, readers: `${ids[0]},${ids[0]}` },
    { ...ok, readers: ids.join(',') },
    { ...ok, readers: [ids[0]] },
    // Each within its own limit, together over the budget.
    { ...ok, value: 'ab'.repeat(MAX_SEAL_CONFIG_VALUE_BYTES), readers: ids.slice(0, 5).join(',') },
    { attribute: 'wifi-psk', value: 'ab' },
    { ...ok, extra: 1 },
  ];
  for (const args of bad) t.throws(() => seal.parse(args), undefined, JSON.stringify(args).slice(0, 80));

  const read = COMMAND_ARGS['read-sealed'];
  const r = { record: 'cd'.repeat(32), attribute: 'wifi-psk', from: ids[0]! };
  t.deepEqual(read.parse(r), r);
  for (const args of [{ ...r, record: 'cd'.repeat(16) }, { ...r, record: 'CD'.repeat(32) }, { ...r, from: 'x' }, { ...r, attribute: 'A' }, { record: r.record, attribute: r.attribute }]) {
    t.throws(() => read.parse(args));
  }
});

test('the longest seal-config bodies (the budget spent on value or on readers, the longest fleet name) fit an agent’s command body', (t) => {
  const rand = seededRandom(7);
  const op = generateKeyPair();
  const sign = (value: number, readers: number): Uint8Array =>
    signCommand({
      secretKey: op.secretKey,
      fleet: 'a'.repeat(63),
      target: 'f'.repeat(64),
      name: 'seal-config',
      args: { attribute: 'z'.repeat(64), value: 'ff'.repeat(value), readers: Array.from({ length: readers }, () => peer(rand)).join(',') },
      ttlMs: 60_000,
    });
  for (let readers = 1; readers <= MAX_SEAL_CONFIG_READERS; readers++) {
    const value = Math.min(MAX_SEAL_CONFIG_VALUE_BYTES, SEAL_CONFIG_BUDGET - 33 * readers);
    t.notThrows(() => sign(value, readers), `${readers} readers, ${value} bytes`);
  }
  t.throws(() => sign(SEAL_CONFIG_BUDGET - 33 * MAX_SEAL_CONFIG_READERS + 1, MAX_SEAL_CONFIG_READERS));
  t.notThrows(() =>
    signCommand({ secretKey: op.secretKey, fleet: 'a'.repeat(63), target: 'f'.repeat(64), name: 'read-sealed', args: { record: 'f'.repeat(64), attribute: 'z'.repeat(64), from: 'f'.repeat(64) }, ttlMs: 60_000 }),
  );
});

/** A CommandDesk as the agent builds it, its sealed targets on `n`'s service. */
async function deskOf(t: ExecutionContext, n: Node, operator: { publicKey: Uint8Array }): Promise<{ desk: CommandDesk; auditDir: string }> {
  const auditDir = await tempDir(t, 'sealed-config-audit-');
  const audit = await AuditTrail.open(auditDir, { clock: systemClock });
  const { guard } = await ReplayGuard.open({ clock: systemClock });
  t.teardown(async () => {
    await audit.close();
    await guard.close();
  });
  const metrics = new MetricsRegistry();
  const desk = new CommandDesk({
    verifier: new CommandVerifier({ fleet: 'unit', peerId: n.id, operators: [parseOperatorKey(toHex(operator.publicKey))], clock: systemClock, replay: guard }),
    targets: {
      state: () => 'OPERATIONAL',
      reportNow: async () => {},
      setLogLevel: () => {},
      enterMaintenance: async () => {},
      leaveMaintenance: async () => {},
      restart: () => {},
      committeeSign: async () => {
        throw new Error('not here');
      },
      committeeOrder: async () => {
        throw new Error('not here');
      },
      sealConfig: (request) => n.service.seal(request),
      readSealed: (request) => n.service.read(request),
    },
    audit,
    clock: systemClock,
    log: silent,
    accepted: metrics.counter('commands', 'accepted'),
    rejected: metrics.counter('commands', 'rejected'),
  });
  return { desk, auditDir };
}

test('through the command desk: seal-config answers { record, state }, read-sealed { value, state } or the refusal’s code', async (t) => {
  const [a, b, c] = await fleet(t);
  const operator = generateKeyPair();
  const send = (desk: CommandDesk, target: Node, name: 'seal-config' | 'read-sealed', args: Record<string, string>): Promise<CommandResult> =>
    desk.handle(signCommand({ secretKey: operator.secretKey, fleet: 'unit', target: target.id, name, args: args as never, ttlMs: 60_000 }));
  const deskA = await deskOf(t, a, operator);
  const deskB = await deskOf(t, b, operator);
  const deskC = await deskOf(t, c, operator);
  const value = Buffer.from('psk for b').toString('hex');

  const sealed = await send(deskA.desk, a, 'seal-config', { attribute: 'wifi-psk', value, readers: b.id });
  t.like(sealed, { ok: true, name: 'seal-config', result: { record: a.service.record, state: 0 } });
  const read = await send(deskB.desk, b, 'read-sealed', { record: a.service.record, attribute: 'wifi-psk', from: a.id });
  t.like(read, { ok: true, result: { value, state: 0 } });
  const refused = await send(deskC.desk, c, 'read-sealed', { record: a.service.record, attribute: 'wifi-psk', from: a.id });
  t.like(refused, { ok: false, reason: 'NOT_AUTHORIZED' });
  const noChannel = await send(deskA.desk, a, 'seal-config', { attribute: 'wifi-psk', value, readers: 'ee'.repeat(32) });
  t.like(noChannel, { ok: false, reason: 'NOT_CONNECTED' });
  // Arguments the schema refuses (signed without signCommand's check) never reach the service.
  const now = Date.now();
  const badArgs = signBody(
    { fleet: 'unit', target: a.id, name: 'seal-config', args: { attribute: 'wifi-psk', value, readers: `${b.id},${b.id}` }, nonce: new Uint8Array(16).fill(9), issuedAt: now, expiresAt: now + 60_000 },
    operator.secretKey,
  );
  t.like(await deskA.desk.handle(badArgs), { ok: false, reason: 'BAD_ARGUMENTS' });
  t.is(a.audit.filter((e) => e.kind === 'sealed.sealed').length, 1);

  // The desk's audit trail holds the command, not the value.
  const trail = (await readdir(deskB.auditDir)).map((f) => join(deskB.auditDir, f));
  const bytes = Buffer.concat(await Promise.all(trail.map((f) => stat(f).then((s) => (s.isFile() ? readFile(f) : Buffer.alloc(0))))));
  t.false(bytes.includes(Buffer.from('psk for b')));
});

test('without a sealed service the desk refuses both commands with STOPPED', async (t) => {
  const operator = generateKeyPair();
  const id = toHex(new Uint8Array(32).fill(7));
  const auditDir = await tempDir(t, 'sealed-config-audit-');
  const audit = await AuditTrail.open(auditDir, { clock: systemClock });
  const { guard } = await ReplayGuard.open({ clock: systemClock });
  t.teardown(async () => {
    await audit.close();
    await guard.close();
  });
  const metrics = new MetricsRegistry();
  const never = async (): Promise<never> => {
    throw new Error('not here');
  };
  const desk = new CommandDesk({
    verifier: new CommandVerifier({ fleet: 'unit', peerId: id, operators: [parseOperatorKey(toHex(operator.publicKey))], clock: systemClock, replay: guard }),
    targets: { state: () => 'OPERATIONAL', reportNow: async () => {}, setLogLevel: () => {}, enterMaintenance: never, leaveMaintenance: never, restart: () => {}, committeeSign: never, committeeOrder: never },
    audit,
    clock: systemClock,
    log: silent,
    accepted: metrics.counter('commands', 'accepted'),
    rejected: metrics.counter('commands', 'rejected'),
  });
  const seal = await desk.handle(signCommand({ secretKey: operator.secretKey, fleet: 'unit', target: id, name: 'seal-config', args: { attribute: 'a', value: '00', readers: id }, ttlMs: 60_000 }));
  t.like(seal, { ok: false, reason: 'STOPPED' });
  const read = await desk.handle(signCommand({ secretKey: operator.secretKey, fleet: 'unit', target: id, name: 'read-sealed', args: { record: id, attribute: 'a', from: id }, ttlMs: 60_000 }));
  t.like(read, { ok: false, reason: 'STOPPED' });
});
