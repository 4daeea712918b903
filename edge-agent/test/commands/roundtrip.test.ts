import test from 'ava';
import { decodeCanonical } from '../../src/wire/index.js';
import {
  COMMAND_NAMES,
  CommandError,
  commandToJson,
  signCommand,
  type CommandArgs,
  type CommandName,
} from '../../src/commands/index.js';
import { ALGORITHMS, FLEET, PEER_ID, START, operatorOf, setup } from './helpers.js';

const ARGS: { [N in CommandName]: CommandArgs<N> } = {
  ping: {},
  'report-now': {},
  'set-log-level': { level: 'debug' },
  'enter-maintenance': { reason: 'replacing the SD card' },
  'leave-maintenance': {},
  restart: { delayMs: 5000 },
  'committee-sign': { message: '6869' },
  'committee-order': { op: 'put', key: 'demo-key', value: '6869' },
  'seal-config': { attribute: 'wifi-psk', value: '6869', readers: `${'ab'.repeat(32)},${'cd'.repeat(32)}` },
  'read-sealed': { record: 'ef'.repeat(32), attribute: 'wifi-psk', from: 'ab'.repeat(32) },
};

for (const algorithm of ALGORITHMS) {
  test(`every command signed with ${algorithm} verifies, with its fields and arguments`, async (t) => {
    const s = await setup();
    const op = operatorOf(s, algorithm);
    for (const name of COMMAND_NAMES) {
      const bytes = signCommand({ secretKey: op.secretKey, algorithm, fleet: FLEET, target: PEER_ID, name, args: ARGS[name], ttlMs: 60_000, clock: s.clock });
      const verdict = await s.verifier.verify(bytes);
      if (!verdict.ok) return t.fail(`${name}: ${verdict.reason} ${verdict.message}`);
      const c = verdict.command;
      t.is(c.name, name);
      t.deepEqual(c.args, ARGS[name]);
      t.is(c.fleet, FLEET);
      t.is(c.target, PEER_ID);
      t.is(c.issuedAt, START);
      t.is(c.expiresAt, START + 60_000);
      t.is(c.signer.algorithm, algorithm);
      t.is(c.signer.id, op.key.id);
      t.is(c.id, Buffer.from(c.nonce).toString('hex'));
      t.is(c.nonce.length, 16);
      t.true(Object.isFrozen(c) && Object.isFrozen(c.args));
    }
    t.is(s.guard.size, COMMAND_NAMES.length);
  });

  test(`the JSON form of a ${algorithm} command verifies too`, async (t) => {
    const s = await setup();
    const op = operatorOf(s, algorithm);
    const bytes = signCommand({ secretKey: op.secretKey, algorithm, fleet: FLEET, target: '*', name: 'ping', ttlMs: 1000, clock: s.clock });
    const json = commandToJson(bytes);
    t.regex(json, /^\{"body":"[0-9a-f]+","sig":"[0-9a-f]{128}"\}$/);
    const verdict = await s.verifier.verify(new TextEncoder().encode(json));
    t.true(verdict.ok);
    // The same command in CBOR form is now a replay: both forms carry one nonce.
    const again = await s.verifier.verify(bytes);
    t.is(again.ok ? 'ok' : again.reason, 'REPLAYED');
  });
}

test('a command to "*" is accepted by any agent of the fleet', async (t) => {
  const s = await setup();
  const bytes = signCommand({ secretKey: s.secp.secretKey, fleet: FLEET, target: '*', name: 'report-now', ttlMs: 1000, clock: s.clock });
  const verdict = await s.verifier.verify(bytes);
  t.true(verdict.ok);
  if (verdict.ok) t.is(verdict.command.target, '*');
});

test('optional arguments may be left out', async (t) => {
  const s = await setup();
  for (const name of ['enter-maintenance', 'restart'] as const) {
    const verdict = await s.verifier.verify(signCommand({ secretKey: s.ed.secretKey, algorithm: 'ed25519', fleet: FLEET, target: PEER_ID, name, ttlMs: 1000, clock: s.clock }));
    t.true(verdict.ok, name);
    if (verdict.ok) t.deepEqual(verdict.command.args, {});
  }
});

test('the wire form is a canonical CBOR map of body and sig, the body carrying every field', (t) => {
  const nonce = new Uint8Array(16).fill(7);
  const s = { secretKey: new Uint8Array(32).fill(1), fleet: FLEET, target: PEER_ID, name: 'ping' as const, ttlMs: 1000, nonce };
  const a = signCommand({ ...s, clock: { now: () => START, setTimer: () => ({ cancel() {} }) } });
  const outer = decodeCanonical(a) as { body: Uint8Array; sig: Uint8Array };
  t.deepEqual(Object.keys(outer).sort(), ['body', 'sig']);
  t.is(outer.sig.length, 64);
  const body = decodeCanonical(outer.body) as Record<string, unknown>;
  t.deepEqual(Object.keys(body).sort(), ['args', 'expiresAt', 'fleet', 'issuedAt', 'name', 'nonce', 'signer', 'target', 'v']);
  t.is(body.v, 1);
  t.deepEqual(body.nonce, nonce);
  t.is(body.expiresAt, START + 1000);
  // Deterministic ECDSA: the same inputs give the same bytes.
  t.deepEqual(signCommand({ ...s, clock: { now: () => START, setTimer: () => ({ cancel() {} }) } }), a);
});

test('signCommand draws a fresh nonce each time', async (t) => {
  const s = await setup();
  const one = signCommand({ secretKey: s.secp.secretKey, fleet: FLEET, target: PEER_ID, name: 'ping', ttlMs: 1000, clock: s.clock });
  const two = signCommand({ secretKey: s.secp.secretKey, fleet: FLEET, target: PEER_ID, name: 'ping', ttlMs: 1000, clock: s.clock });
  t.notDeepEqual(one, two);
  t.true((await s.verifier.verify(one)).ok);
  t.true((await s.verifier.verify(two)).ok);
});

test('signCommand refuses what an agent would refuse as malformed or unknown, with BAD_ARGUMENT', (t) => {
  const base = { secretKey: new Uint8Array(32).fill(1), fleet: FLEET, target: PEER_ID, name: 'ping' as const, ttlMs: 1000 };
  const bad: unknown[] = [
    { ...base, name: 'format-disk' },
    { ...base, name: 'set-log-level', args: { level: 'loud' } },
    { ...base, name: 'restart', args: { delayMs: 60_001 } },
    { ...base, ttlMs: 0 },
    { ...base, ttlMs: 1.5 },
    { ...base, fleet: 'Alpha' },
    { ...base, target: 'ab' },
    { ...base, target: PEER_ID.toUpperCase() },
    { ...base, nonce: new Uint8Array(15) },
    { ...base, algorithm: 'rsa' },
    { ...base, name: 'enter-maintenance', args: { reason: 'x'.repeat(201) } },
  ];
  for (const opts of bad) {
    t.throws(() => signCommand(opts as Parameters<typeof signCommand>[0]), { instanceOf: CommandError, code: 'BAD_ARGUMENT' }, JSON.stringify(opts, (_k, v: unknown) => (v instanceof Uint8Array ? v.length : v)));
  }
  t.throws(() => signCommand({ ...base, secretKey: new Uint8Array(31) }), { instanceOf: CommandError, code: 'BAD_KEY' });
});

test('commandToJson refuses bytes that are not a command', (t) => {
  t.throws(() => commandToJson(new Uint8Array([1, 2, 3])), { instanceOf: CommandError, code: 'BAD_ARGUMENT' });
});
