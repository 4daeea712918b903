import test from 'ava';
import { ManualClock } from '../../src/clock/index.js';
import {
  CommandError,
  CommandVerifier,
  ReplayGuard,
  failureResult,
  parseOperatorKey,
  rejectionResult,
  signCommand,
  successResult,
} from '../../src/commands/index.js';
import { FLEET, PEER_ID, START, makeOperator, setup } from './helpers.js';

test('a refusal becomes a result with its id, name, reason and message', async (t) => {
  const s = await setup();
  const bytes = signCommand({ secretKey: s.secp.secretKey, fleet: 'beta', target: PEER_ID, name: 'ping', ttlMs: 1000, clock: s.clock });
  const verdict = await s.verifier.verify(bytes);
  if (verdict.ok) return t.fail();
  const result = rejectionResult(verdict, 42);
  t.deepEqual(result, { ok: false, reason: 'MISADDRESSED', message: verdict.message, id: verdict.id, name: 'ping', at: 42 });
  // Without a decodable body there is nothing to correlate by.
  const malformed = await s.verifier.verify(new Uint8Array([0]));
  if (malformed.ok) return t.fail();
  t.deepEqual(Object.keys(rejectionResult(malformed, 1)).sort(), ['at', 'message', 'ok', 'reason']);
});

test('a success and a handler failure carry the command id and name', async (t) => {
  const s = await setup();
  const verdict = await s.verifier.verify(signCommand({ secretKey: s.ed.secretKey, algorithm: 'ed25519', fleet: FLEET, target: '*', name: 'ping', ttlMs: 1000, clock: s.clock }));
  if (!verdict.ok) return t.fail(verdict.message);
  const { command } = verdict;
  t.deepEqual(successResult(command, { pong: true }, 7), { id: command.id, name: 'ping', ok: true, result: { pong: true }, at: 7 });
  t.deepEqual(successResult(command, undefined, 7), { id: command.id, name: 'ping', ok: true, at: 7 });
  t.deepEqual(failureResult(command, 'HANDLER_FAILED', 'no', 8), { id: command.id, name: 'ping', ok: false, reason: 'HANDLER_FAILED', message: 'no', at: 8 });
  t.throws(() => rejectionResult(verdict, 1), { instanceOf: CommandError, code: 'BAD_ARGUMENT' });
  t.throws(() => successResult(command, 1, Number.NaN), { instanceOf: CommandError, code: 'BAD_ARGUMENT' });
  t.throws(() => failureResult(command, '', 'x', 1), { instanceOf: CommandError, code: 'BAD_ARGUMENT' });
});

test('the verifier refuses bad options, and operator keys not made by parseOperatorKey', async (t) => {
  const clock = new ManualClock(START);
  const { guard: replay } = await ReplayGuard.open({ clock });
  const op = makeOperator('secp256k1');
  const base = { fleet: FLEET, peerId: PEER_ID, operators: [op.key], clock, replay };
  for (const over of [{ fleet: 'Beta' }, { peerId: PEER_ID.toUpperCase() }, { peerId: 'ab' }, { clock: null }, { replay: {} }, { maxSkewMs: 1.5 }, { operators: 'x' }]) {
    t.throws(() => new CommandVerifier({ ...base, ...over } as never), { instanceOf: CommandError, code: 'BAD_ARGUMENT' }, JSON.stringify(over));
  }
  // A secp256k1 key passed off as Ed25519 (the scheme comes from the key, not from a label).
  t.throws(() => new CommandVerifier({ ...base, operators: [{ ...op.key, algorithm: 'ed25519' }] }), { instanceOf: CommandError, code: 'BAD_KEY' });
  t.throws(() => new CommandVerifier({ ...base, operators: [{ algorithm: 'ed25519', publicKey: new Uint8Array(32), id: '' }] }), {
    instanceOf: CommandError,
    code: 'BAD_KEY',
  });
  // No operators: every command is refused as UNKNOWN_SIGNER.
  const closed = new CommandVerifier({ ...base, operators: [] });
  const v = await closed.verify(signCommand({ secretKey: op.secretKey, fleet: FLEET, target: PEER_ID, name: 'ping', ttlMs: 1000, clock }));
  t.is(v.ok ? 'ok' : v.reason, 'UNKNOWN_SIGNER');
  await t.throwsAsync(closed.verify('x' as never), { instanceOf: CommandError, code: 'BAD_ARGUMENT' });
  // The same key listed twice (as in a config with a repeated line) is harmless.
  t.notThrows(() => new CommandVerifier({ ...base, operators: [op.key, parseOperatorKey(op.key.id)] }));
});
