/** The TCP shell: dial/accept, channels, timeouts, backpressure, bounds; all over real loopback sockets. */
import { randomBytes } from 'node:crypto';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import test from 'ava';
import { ManualClock } from '../../src/clock/index.js';
import { generateKeyPair, peerIdOf } from '../../src/identity/index.js';
import { TransportError, dial, type Channel, type CloseReason } from '../../src/transport/index.js';
import { address, channelServer, closedByOther, LOCAL, rawConnect, rawHandshake, sleep, unlimited } from './net-helpers.js';

test('dial and accept agree on keys, peer ids and handshake hash, and carry messages both ways', async (t) => {
  const server = await channelServer();
  t.teardown(server.close);
  const client = generateKeyPair();
  const a = await dial(address(server.keys, server.port), { secretKey: client.secretKey });
  const b = await server.channels[0]!;
  t.deepEqual(a.remotePublicKey, Uint8Array.from(server.keys.publicKey));
  t.deepEqual(b.remotePublicKey, Uint8Array.from(client.publicKey));
  t.deepEqual(b.remotePeerId, peerIdOf(client.publicKey));
  t.deepEqual(a.handshakeHash, b.handshakeHash);
  t.true(a.initiator);
  t.false(b.initiator);
  for (const size of [0, 1, 65534, 65535, 65536, 200_000]) {
    const m = randomBytes(size);
    await a.send(m);
    t.true(Buffer.from((await b.receive()) ?? []).equals(m), `${size} bytes a→b`);
    await b.send(m);
    t.true(Buffer.from((await a.receive()) ?? []).equals(m), `${size} bytes b→a`);
  }
  a.close();
  t.is((await b.closed).reason, 'CLOSED_BY_PEER');
  t.is((await a.closed).reason, 'LOCAL');
  t.is(await b.receive(), undefined);
  t.throws(() => a.trySend(new Uint8Array(1)), { instanceOf: TransportError, code: 'CLOSED' });
  await t.throwsAsync(a.send(new Uint8Array(1)), { instanceOf: TransportError, code: 'CLOSED' });
});

test('a responder without the dialled key makes the dial fail with WRONG_KEY', async (t) => {
  const server = await channelServer();
  t.teardown(server.close);
  const someoneElse = generateKeyPair();
  await t.throwsAsync(dial(address(someoneElse, server.port), { secretKey: generateKeyPair().secretKey }), {
    instanceOf: TransportError,
    code: 'WRONG_KEY',
  });
  // The responder saw an act one it could not authenticate.
  await t.throwsAsync(server.channels[0]!, { instanceOf: TransportError, code: 'BAD_MAC' });
});

test('an act two that does not authenticate fails the dial with WRONG_KEY; a silent responder times out', async (t) => {
  const sockets: Socket[] = [];
  // Version 0 and a valid ephemeral point, but a tag made without the dialled key.
  const impostor = createServer((socket) => {
    sockets.push(socket);
    socket.once('data', () => socket.write(Buffer.concat([Buffer.from([0]), generateKeyPair().publicKey, randomBytes(16)])));
  });
  const silent = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => impostor.listen(0, LOCAL, resolve));
  await new Promise<void>((resolve) => silent.listen(0, LOCAL, resolve));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    impostor.close();
    silent.close();
  });
  const key = generateKeyPair();
  const secretKey = generateKeyPair().secretKey;
  await t.throwsAsync(dial(address(key, (impostor.address() as AddressInfo).port), { secretKey }), {
    instanceOf: TransportError,
    code: 'WRONG_KEY',
  });
  await t.throwsAsync(dial(address(key, (silent.address() as AddressInfo).port), { secretKey, handshakeTimeoutMs: 200 }), {
    instanceOf: TransportError,
    code: 'HANDSHAKE_TIMEOUT',
  });
  await t.throwsAsync(dial(address(key, 1), { secretKey }), { instanceOf: TransportError, code: 'CONNECT_FAILED' });
  await t.throwsAsync(dial(address(key, 1), { secretKey: key.secretKey }), { instanceOf: TransportError, code: 'SELF' });
});

test('the responder times out a socket that connects and says nothing, and rejects wrong or extra act bytes', async (t) => {
  const impatient = await channelServer({ handshakeTimeoutMs: 200 });
  t.teardown(impatient.close);
  const quiet = await rawConnect(impatient.port);
  await t.throwsAsync(impatient.channels[0]!, { instanceOf: TransportError, code: 'HANDSHAKE_TIMEOUT' });
  await closedByOther(quiet);

  const server = await channelServer();
  t.teardown(server.close);

  const version = await rawConnect(server.port);
  version.write(Buffer.alloc(50, 1));
  await t.throwsAsync(server.channels[0]!, { instanceOf: TransportError, code: 'BAD_VERSION' });

  // Act one plus bytes an honest initiator could not have sent yet.
  const eager = await rawConnect(server.port);
  eager.write(Buffer.concat([Buffer.alloc(50), Buffer.alloc(10)]));
  await t.throwsAsync(server.channels[1]!, { instanceOf: TransportError, code: 'UNEXPECTED_ACT' });

  const short = await rawConnect(server.port);
  short.end(Buffer.alloc(20));
  await t.throwsAsync(server.channels[2]!, { instanceOf: TransportError, code: 'UNEXPECTED_ACT' });
});

test('idle timeout closes a channel whose peer sends nothing; keepalive pings keep a quiet channel open', async (t) => {
  const idle = await channelServer({ idleTimeoutMs: 300, keepaliveMs: 10_000 });
  t.teardown(idle.close);
  const raw = await rawHandshake(idle.port, idle.keys.publicKey);
  const channel = await idle.channels[0]!;
  t.is((await channel.closed).reason, 'IDLE_TIMEOUT');
  await closedByOther(raw.socket);

  // Time is virtual here and moves only in this loop, which stalls together with the
  // sockets, so a loaded machine can slow this part down but not fail it: 30 steps of
  // one keepalive period (twice the idle timeout of application silence), each followed
  // by a moment of real time for the ping and pong it causes to cross loopback.
  const clock = new ManualClock(Date.now());
  const options = { idleTimeoutMs: 1500, keepaliveMs: 100, clock };
  const lively = await channelServer(options);
  t.teardown(lively.close);
  const a = await dial(address(lively.keys, lively.port), { secretKey: generateKeyPair().secretKey, ...options });
  const b = await lively.channels[0]!;
  for (let step = 0; step < 30; step++) {
    clock.advance(100);
    await sleep(20);
  }
  t.true(a.isOpen && b.isOpen);
  a.close();

  // The same channel without keepalive (pings far apart) dies of silence on the same virtual clock.
  const quiet = await channelServer({ idleTimeoutMs: 1500, keepaliveMs: 60_000, clock });
  t.teardown(quiet.close);
  const c = await dial(address(quiet.keys, quiet.port), { secretKey: generateKeyPair().secretKey, idleTimeoutMs: 1500, keepaliveMs: 60_000, clock });
  clock.advance(1600);
  t.is((await c.closed).reason, 'IDLE_TIMEOUT');
});

test('after the handshake not one plaintext byte reaches the wire', async (t) => {
  const server = await channelServer();
  t.teardown(server.close);
  // A relay in the middle records every byte that crosses it.
  const seen: Buffer[] = [];
  const relay = createServer((inbound) => {
    const outbound = connect({ host: LOCAL, port: server.port });
    inbound.on('data', (d: Buffer) => {
      seen.push(d);
      outbound.write(d);
    });
    outbound.on('data', (d: Buffer) => {
      seen.push(d);
      inbound.write(d);
    });
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, LOCAL, resolve));
  const a = await dial(address(server.keys, (relay.address() as AddressInfo).port), { secretKey: generateKeyPair().secretKey });
  const b = await server.channels[0]!;
  const marker = Buffer.from('PLAINTEXT-MARKER-'.repeat(8));
  const big = Buffer.concat(Array.from({ length: 5000 }, () => marker)); // fragmented
  await a.send(marker);
  await a.send(big);
  await b.send(marker);
  t.deepEqual(Buffer.from((await b.receive()) ?? []), marker);
  t.deepEqual(Buffer.from((await b.receive()) ?? []), big);
  t.deepEqual(Buffer.from((await a.receive()) ?? []), marker);
  const wire = Buffer.concat(seen);
  t.true(wire.length > big.length);
  t.is(wire.indexOf(Buffer.from('PLAINTEXT-MARKER')), -1);
  a.close();
  relay.close();
});

test('backpressure: a reader that does not consume stalls the writer with bounded queues on both sides', async (t) => {
  const hwm = 256 * 1024;
  const queued = 256 * 1024;
  const server = await channelServer({ maxQueuedBytes: queued, rateLimit: unlimited });
  t.teardown(server.close);
  const a = await dial(address(server.keys, server.port), { secretKey: generateKeyPair().secretKey, highWaterMark: hwm, rateLimit: unlimited });
  const b = await server.channels[0]!;
  const message = randomBytes(64 * 1024);
  let accepted = 0;
  let sending = true;
  let maxOutbound = 0;
  let maxInbound = 0;
  const writer = (async () => {
    while (sending && accepted < 10_000) {
      await a.send(message);
      accepted += 1;
      maxOutbound = Math.max(maxOutbound, a.outboundBytes);
    }
  })();
  // Wait until the writer is stuck: nothing more is accepted for a while.
  let last = -1;
  while (last !== accepted) {
    last = accepted;
    await sleep(300);
    maxInbound = Math.max(maxInbound, b.inboundBytes);
  }
  t.true(accepted < 10_000, 'the writer was stopped');
  // What the writer got rid of is bounded by our buffers plus the kernel's socket buffers, not by the 640 MB it tried.
  t.true(accepted * message.length < 64 * 1024 * 1024, `${accepted} messages accepted`);
  t.true(maxOutbound <= hwm + message.length + 1024, `outbound peaked at ${maxOutbound}`);
  t.true(maxInbound <= queued + 2 * 64 * 1024 + 4096, `inbound peaked at ${maxInbound}`);
  t.true(a.outboundBytes >= hwm, 'the writer waits on a full buffer');
  // Draining the reader releases the writer, and every message arrives.
  sending = false;
  let writerDone = false;
  void writer.then(() => (writerDone = true));
  let received = 0;
  while (!writerDone || received < accepted) {
    const m = b.read();
    if (m === undefined) {
      // Once the writer is done only the reader can make progress; racing a settled promise would spin.
      await (writerDone ? b.readable() : Promise.race([b.readable(), writer]));
      continue;
    }
    t.is(m.length, message.length);
    received += 1;
    maxInbound = Math.max(maxInbound, b.inboundBytes);
  }
  t.is(received, accepted);
  t.true(maxInbound <= queued + 2 * 64 * 1024 + 4096);
  a.close();
});

test('an oversized message closes the receiving channel with TOO_LARGE; the sender refuses it locally first', async (t) => {
  const server = await channelServer({ maxMessageSize: 100_000, rateLimit: unlimited });
  t.teardown(server.close);
  const a = await dial(address(server.keys, server.port), { secretKey: generateKeyPair().secretKey, maxMessageSize: 300_000, rateLimit: unlimited });
  const b = await server.channels[0]!;
  await a.send(randomBytes(100_000));
  t.is((await b.receive())?.length, 100_000);
  await a.send(randomBytes(250_000));
  const info = await b.closed;
  t.is(info.reason, 'TOO_LARGE');
  t.true(b.inboundBytes === 0, 'nothing of the oversized message was queued');
  t.throws(() => a.trySend(new Uint8Array(300_001)), { instanceOf: TransportError, code: 'TOO_LARGE' });
});

test('a peer over its message budget is cut off with RATE_LIMIT', async (t) => {
  const server = await channelServer({ rateLimit: { messagesPerSec: 20, messageBurst: 10 } });
  t.teardown(server.close);
  const a = await dial(address(server.keys, server.port), { secretKey: generateKeyPair().secretKey });
  const b = await server.channels[0]!;
  for (let i = 0; i < 50; i++) a.trySend(Buffer.from([i]));
  t.is((await b.closed).reason, 'RATE_LIMIT');
  // Everything before the breach was delivered, in order.
  const got: number[] = [];
  for (let m = b.read(); m !== undefined; m = b.read()) got.push(m[0]!);
  t.deepEqual(got, Array.from({ length: got.length }, (_, i) => i));
  t.true(got.length <= 10);
});

test('a byte budget breach is RATE_LIMIT too', async (t) => {
  const server = await channelServer({ maxMessageSize: 100_000, rateLimit: { bytesPerSec: 10_000, byteBurst: 100_000 } });
  t.teardown(server.close);
  const a = await dial(address(server.keys, server.port), { secretKey: generateKeyPair().secretKey });
  const b = await server.channels[0]!;
  for (let i = 0; i < 5; i++) a.trySend(randomBytes(40_000));
  t.is((await b.closed).reason, 'RATE_LIMIT');
});

test('frames after the handshake: garbage, bit flips, unknown kinds and truncation close with their reasons', async (t) => {
  const server = await channelServer();
  t.teardown(server.close);
  const cases: [CloseReason, (raw: Awaited<ReturnType<typeof rawHandshake>>) => void][] = [
    ['BAD_MAC', (raw) => raw.socket.write(randomBytes(100))],
    [
      'BAD_MAC',
      (raw) => {
        const frame = Buffer.from(raw.session.encryptor.encrypt(Buffer.from([0, 1, 2, 3])));
        frame[frame.length - 3]! ^= 0x10;
        raw.socket.write(frame);
      },
    ],
    ['PROTOCOL', (raw) => raw.socket.write(raw.session.encryptor.encrypt(Buffer.from([9, 1, 2])))],
    ['PROTOCOL', (raw) => raw.socket.write(raw.session.encryptor.encrypt(new Uint8Array(0)))],
    ['PROTOCOL', (raw) => raw.socket.write(raw.session.encryptor.encrypt(Buffer.from([1, 1, 2])))], // short MORE fragment
    ['TRUNCATED', (raw) => raw.socket.end(Buffer.from(raw.session.encryptor.encrypt(Buffer.from([0, 1, 2]))).subarray(0, 25))],
    ['CLOSED_BY_PEER', (raw) => raw.socket.end(raw.session.encryptor.encrypt(Buffer.from([0, 7])))],
  ];
  for (const [index, [reason, misbehave]] of cases.entries()) {
    const raw = await rawHandshake(server.port, server.keys.publicKey);
    const channel = await server.channels[index]!;
    misbehave(raw);
    const info = await channel.closed;
    t.is(info.reason, reason, `case ${index}`);
    raw.socket.destroy();
  }
});

test('inputs are validated with precise codes', async (t) => {
  const secretKey = generateKeyPair().secretKey;
  await t.throwsAsync(dial('not an address', { secretKey }), { instanceOf: TransportError, code: 'BAD_ARGUMENT' });
  await t.throwsAsync(dial(address(generateKeyPair(), 1), { secretKey: new Uint8Array(32) }), { instanceOf: TransportError, code: 'BAD_KEY' });
  await t.throwsAsync(dial(address(generateKeyPair(), 1), { secretKey, idleTimeoutMs: 0 }), { instanceOf: TransportError, code: 'BAD_ARGUMENT' });
  await t.throwsAsync(dial(address(generateKeyPair(), 1), { secretKey, rateLimit: { messagesPerSec: -1 } }), {
    instanceOf: TransportError,
    code: 'BAD_ARGUMENT',
  });
  const server = await channelServer();
  t.teardown(server.close);
  const a: Channel = await dial(address(server.keys, server.port), { secretKey });
  t.throws(() => a.trySend('text' as unknown as Uint8Array), { instanceOf: TransportError, code: 'BAD_ARGUMENT' });
  t.throws(() => a.close('WHATEVER' as never), { instanceOf: TransportError, code: 'BAD_ARGUMENT' });
  a.close();
});
