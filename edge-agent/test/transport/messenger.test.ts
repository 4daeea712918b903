/** Typed messaging above the channels: envelopes, handlers, requests, trust checks. */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import * as s from '../../src/schema/index.js';
import { generateKeyPair, peerIdOf } from '../../src/identity/index.js';
import { coreMessages, defineMessage, encodeEnvelope, ENVELOPE_VERSION } from '../../src/wire/index.js';
import { Messenger, TransportError, defineRequest, dial, type Incoming } from '../../src/transport/index.js';
import { address, startManager, until } from './net-helpers.js';

const note = defineMessage('test.note', s.object({ text: s.text({ max: 100 }) }));
const stranger = defineMessage('test.stranger', s.object({}));
const add = defineRequest('test.add', s.object({ a: s.int(), b: s.int() }), s.int());
const stall = defineRequest('test.stall', s.object({}), s.object({}));
const fail = defineRequest('test.fail', s.object({}), s.object({}));
const orphan = defineRequest('test.orphan', s.object({}), s.object({}));
const registry = coreMessages.with(note, add.request, add.response, stall.request, stall.response, fail.request, fail.response, orphan.request, orphan.response);

async function pair() {
  const a = await startManager();
  const b = await startManager();
  const ma = new Messenger({ manager: a.manager, registry });
  const mb = new Messenger({ manager: b.manager, registry });
  await a.manager.dial(address(b.keys, b.port));
  await until(() => b.manager.channels().length === 1);
  const close = async () => {
    ma.close();
    mb.close();
    await a.manager.close();
    await b.manager.close();
  };
  return { a, b, ma, mb, close };
}

test('send delivers a typed message to its handler with the authenticated sender', async (t) => {
  const { a, b, ma, mb, close } = await pair();
  const got: Incoming<{ text: string }>[] = [];
  mb.handle(note, (m) => void got.push(m));
  await ma.send(b.manager.peerId, note, { text: 'hello' });
  await ma.send(b.manager.peerId, note, { text: 'again' });
  await until(() => got.length === 2);
  t.deepEqual(
    got.map((m) => m.body.text),
    ['hello', 'again'],
  );
  t.deepEqual(got[0]!.peerId, a.manager.peerId);
  t.deepEqual(got[0]!.envelope.to, b.manager.peerId);
  t.throws(() => mb.handle(note, () => {}), { instanceOf: TransportError, code: 'BAD_ARGUMENT' });
  await t.throwsAsync(ma.send(b.manager.peerId, note, { text: 7 } as never), { instanceOf: TransportError, code: 'BAD_ARGUMENT' });
  await t.throwsAsync(ma.send(b.manager.peerId, stranger, {}), { instanceOf: TransportError, code: 'BAD_ARGUMENT' });
  await t.throwsAsync(ma.send(randomBytes(32), note, { text: 'x' }), { instanceOf: TransportError, code: 'NO_CHANNEL' });
  await close();
});

test('requests get their responses, errors and timeouts', async (t) => {
  const { b, ma, mb, close } = await pair();
  mb.handle(add, ({ body }) => body.a + body.b);
  mb.handle(stall, () => new Promise<never>(() => {}));
  mb.handle(fail, () => {
    throw Object.assign(new Error('secret internals'), { code: 'NOT_TODAY' });
  });
  const peer = b.manager.peerId;
  const sums = await Promise.all(Array.from({ length: 50 }, (_, i) => ma.request(peer, add, { a: i, b: 1000 })));
  t.deepEqual(
    sums,
    Array.from({ length: 50 }, (_, i) => i + 1000),
  );
  await t.throwsAsync(ma.request(peer, stall, {}, { timeoutMs: 200 }), { instanceOf: TransportError, code: 'TIMEOUT' });
  const remote = await t.throwsAsync(ma.request(peer, fail, {}), { instanceOf: TransportError, code: 'REMOTE_ERROR' });
  t.regex(remote?.message ?? '', /NOT_TODAY/);
  t.notRegex(remote?.message ?? '', /secret/);
  await t.throwsAsync(ma.request(peer, orphan, {}), { instanceOf: TransportError, code: 'REMOTE_ERROR', message: /NO_HANDLER/ });
  await close();
});

test('a pending request fails with CLOSED when its channel closes', async (t) => {
  const { a, b, ma, mb, close } = await pair();
  mb.handle(stall, () => new Promise<never>(() => {}));
  const pending = ma.request(b.manager.peerId, stall, {}, { timeoutMs: 60_000 });
  await until(() => b.manager.channels().length === 1);
  a.manager.channel(b.manager.peerId)?.close();
  await t.throwsAsync(pending, { instanceOf: TransportError, code: 'CLOSED' });
  await close();
});

test('an envelope whose sender is not the channel peer, or that does not decode, closes with PROTOCOL', async (t) => {
  const b = await startManager();
  const mb = new Messenger({ manager: b.manager, registry });
  const got: string[] = [];
  mb.handle(note, (m) => void got.push(m.body.text));
  const keys = generateKeyPair();
  const envelope = (from: Uint8Array, text: string, type = 'test.note') =>
    encodeEnvelope({ v: ENVELOPE_VERSION, type, from, to: b.manager.peerId, ts: Date.now(), nonce: randomBytes(16), body: { text } });

  const honest = await dial(address(b.keys, b.port), { secretKey: keys.secretKey });
  await honest.send(envelope(peerIdOf(keys.publicKey), 'fine'));
  await honest.send(envelope(peerIdOf(keys.publicKey), 'ignored', 'test.unknown')); // unknown types are dropped, not fatal
  await honest.send(envelope(peerIdOf(keys.publicKey), 'still fine'));
  await until(() => got.length === 2);
  t.deepEqual(got, ['fine', 'still fine']);
  t.true(honest.isOpen);

  await honest.send(envelope(randomBytes(32), 'forged'));
  t.is((await honest.closed).reason, 'CLOSED_BY_PEER');
  await until(() => b.manager.counters()['PROTOCOL'] === 1);

  const garbage = await dial(address(b.keys, b.port), { secretKey: generateKeyPair().secretKey });
  await garbage.send(randomBytes(40));
  await garbage.closed;
  await until(() => b.manager.counters()['PROTOCOL'] === 2);
  t.deepEqual(got, ['fine', 'still fine']);
  mb.close();
  await b.manager.close();
});

test('messenger inputs are validated', async (t) => {
  const { b, ma, close } = await pair();
  t.throws(() => new Messenger({ manager: {} as never, registry }), { instanceOf: TransportError, code: 'BAD_ARGUMENT' });
  t.throws(() => new Messenger({ manager: b.manager, registry: {} as never }), { instanceOf: TransportError, code: 'BAD_ARGUMENT' });
  t.throws(() => ma.handle(note, 'nope' as never), { instanceOf: TransportError, code: 'BAD_ARGUMENT' });
  await t.throwsAsync(ma.request(b.manager.peerId, add, { a: 1, b: 2 }, { timeoutMs: 0 }), { instanceOf: TransportError, code: 'BAD_ARGUMENT' });
  t.throws(() => defineRequest('Bad Name', s.object({}), s.object({})), { instanceOf: TransportError, code: 'BAD_ARGUMENT' });
  ma.close();
  await t.throwsAsync(ma.send(b.manager.peerId, note, { text: 'x' }), { instanceOf: TransportError, code: 'CLOSED' });
  await close();
});
