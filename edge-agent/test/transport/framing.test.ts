import { randomBytes } from 'node:crypto';
import test from 'ava';
import fc from 'fast-check';
import {
  Decoder,
  Encryptor,
  HEADER_SIZE,
  MAX_FRAME_SIZE,
  MAX_MESSAGE_SIZE,
  TransportError,
  openSession,
} from '../../src/transport/index.js';
import type { DirectionKeys } from '../../src/transport/index.js';
import { chunk, concat, handshakePair, plain, randomMessage, sessionPair } from './helpers.js';

function randomKeys(): DirectionKeys {
  return { key: randomBytes(32), chainingKey: randomBytes(32) };
}

/** Mostly small messages, some medium, some up to the 65535 limit, plus the edges. */
const messageSize = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 64 }) },
  { weight: 3, arbitrary: fc.integer({ min: 65, max: 4096 }) },
  { weight: 1, arbitrary: fc.integer({ min: 4097, max: MAX_MESSAGE_SIZE }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, MAX_MESSAGE_SIZE) },
);

/** TCP-like chunk sizes: single bytes, header-sized splits, and big reads. */
const chunkSizes = fc.array(
  fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: 140000 })),
  { minLength: 1, maxLength: 8 },
);

function decodeAll(decoder: Decoder, chunks: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of chunks) out.push(...decoder.push(c));
  return out;
}

test('round trip: random sizes 0..65535, random chunking, any rotation phase', (t) => {
  fc.assert(
    fc.property(fc.array(messageSize, { maxLength: 12 }), chunkSizes, fc.integer({ min: 0, max: 1100 }), (sizes, cuts, skip) => {
      const keys = randomKeys();
      const encryptor = new Encryptor(keys);
      const decoder = new Decoder(keys);
      // Advance both sides by `skip` empty messages so runs straddle rotations.
      const warmup = [];
      for (let i = 0; i < skip; i += 1) warmup.push(encryptor.encrypt(new Uint8Array(0)));
      if (decodeAll(decoder, [concat(warmup)]).length !== skip) return false;

      const sent = sizes.map(randomMessage);
      const stream = concat(sent.map((m) => encryptor.encrypt(m)));
      const received = decodeAll(decoder, chunk(stream, cuts)).map(plain);
      return decoder.pending === 0 && received.length === sent.length && received.every((m, i) => Buffer.from(m).equals(sent[i] ?? new Uint8Array(0)));
    }),
    { numRuns: 50 },
  );
  t.pass();
});

test('round trip in both directions of a real session across many rotations', (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1600, maxLength: 1600 }), chunkSizes, (sizes, cuts) => {
      const { a, b } = sessionPair();
      for (const [from, to] of [
        [a, b],
        [b, a],
      ] as const) {
        const sent = sizes.map(randomMessage);
        const stream = concat(sent.map((m) => from.encryptor.encrypt(m)));
        const received = decodeAll(to.decoder, chunk(stream, cuts));
        if (received.length !== sent.length) return false;
        if (!received.every((m, i) => Buffer.from(m).equals(sent[i] ?? new Uint8Array(0)))) return false;
      }
      return true;
    }),
    { numRuns: 4 },
  );
  t.pass();
});

test('interleaved traffic: both directions keep independent nonces and rotations', (t) => {
  const { a, b } = sessionPair();
  let ok = true;
  // 1600 messages a->b (3 rotations) interleaved with 800 b->a (1 rotation).
  for (let i = 0; i < 1600; i += 1) {
    const toB = randomMessage(i % 37);
    const [gotB] = b.decoder.push(a.encryptor.encrypt(toB));
    ok &&= gotB !== undefined && Buffer.from(toB).equals(gotB);
    if (i % 2 === 0) {
      const toA = randomMessage(i % 11);
      const [gotA] = a.decoder.push(b.encryptor.encrypt(toA));
      ok &&= gotA !== undefined && Buffer.from(toA).equals(gotA);
    }
  }
  t.true(ok);
});

test('encryptParts yields exactly the frame encrypt() would, in three pieces', (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(messageSize, fc.boolean()), { maxLength: 20 }), fc.integer({ min: 0, max: 1000 }), (plan, skip) => {
      const keys = randomKeys();
      const whole = new Encryptor(keys);
      const parts = new Encryptor(keys);
      for (let i = 0; i < skip; i += 1) {
        whole.encrypt(new Uint8Array(0));
        parts.encryptParts(new Uint8Array(0));
      }
      return plan.every(([size, usePartsTwice]) => {
        const message = randomMessage(size);
        const pieces = parts.encryptParts(message);
        const ok = pieces[0].length === HEADER_SIZE && pieces[2].length === 16 && Buffer.from(concat(pieces)).equals(whole.encrypt(message));
        if (!usePartsTwice) return ok;
        // Mixed use of both methods on one encryptor keeps the nonce sequence.
        return ok && Buffer.from(parts.encrypt(message)).equals(concat(whole.encryptParts(message)));
      });
    }),
    { numRuns: 30 },
  );
  const keys = randomKeys();
  const encryptor = new Encryptor(keys);
  t.throws(() => encryptor.encryptParts(new Uint8Array(MAX_MESSAGE_SIZE + 1)), { instanceOf: TransportError, code: 'TOO_LARGE' });
  t.throws(() => encryptor.encryptParts(7 as unknown as Uint8Array), { instanceOf: TransportError, code: 'BAD_ARGUMENT' });
  const hi = Uint8Array.of(1, 2);
  t.deepEqual(new Decoder(keys).push(concat(encryptor.encryptParts(hi))).map(plain), [hi]);
  encryptor.destroy();
  t.throws(() => encryptor.encryptParts(hi), { instanceOf: TransportError, code: 'DEAD' });
});

test('the largest message fits, one byte more is TOO_LARGE', (t) => {
  const keys = randomKeys();
  const encryptor = new Encryptor(keys);
  const big = randomMessage(MAX_MESSAGE_SIZE);
  const frame = encryptor.encrypt(big);
  t.is(frame.length, MAX_FRAME_SIZE);
  t.throws(() => encryptor.encrypt(new Uint8Array(MAX_MESSAGE_SIZE + 1)), { instanceOf: TransportError, code: 'TOO_LARGE' });
  // The failed call consumed no nonce: the next frame still decodes in order.
  const decoder = new Decoder(keys);
  t.deepEqual(decoder.push(frame).map(plain), [big]);
  t.deepEqual(decoder.push(encryptor.encrypt(Uint8Array.of(7))).map(plain), [Uint8Array.of(7)]);
});

test('an empty message is a 34-byte frame', (t) => {
  const keys = randomKeys();
  const frame = new Encryptor(keys).encrypt(new Uint8Array(0));
  t.is(frame.length, HEADER_SIZE + 16);
  t.deepEqual(new Decoder(keys).push(frame).map(plain), [new Uint8Array(0)]);
});

test('byte-at-a-time input stays bounded by one frame and yields the message at the last byte', (t) => {
  const keys = randomKeys();
  const message = randomMessage(MAX_MESSAGE_SIZE);
  const frame = new Encryptor(keys).encrypt(message);
  const decoder = new Decoder(keys);
  let maxPending = 0;
  for (let i = 0; i < frame.length - 1; i += 1) {
    if (decoder.push(frame.subarray(i, i + 1)).length !== 0) t.fail('message emitted early');
    maxPending = Math.max(maxPending, decoder.pending);
  }
  t.is(maxPending, MAX_FRAME_SIZE - 1);
  t.deepEqual(decoder.push(frame.subarray(frame.length - 1)).map(plain), [message]);
  t.is(decoder.pending, 0);
});

test('a forged length fails as soon as its 18 bytes arrive, before any body is awaited', (t) => {
  const keys = randomKeys();
  const frame = plain(new Encryptor(keys).encrypt(randomMessage(1000)));
  frame[0] = (frame[0] ?? 0) ^ 0xff;
  const decoder = new Decoder(keys);
  t.deepEqual(decoder.push(frame.subarray(0, HEADER_SIZE - 1)), []);
  t.throws(() => decoder.push(frame.subarray(HEADER_SIZE - 1, HEADER_SIZE)), { instanceOf: TransportError, code: 'BAD_MAC' });
});

test('the decoder copies partial input and returns messages that do not alias it', (t) => {
  const keys = randomKeys();
  const message = randomMessage(500);
  const frame = plain(new Encryptor(keys).encrypt(message));
  const decoder = new Decoder(keys);
  const first = frame.subarray(0, 300);
  t.deepEqual(decoder.push(first), []);
  first.fill(0); // the caller reuses its read buffer
  const [received] = decoder.push(frame.subarray(300));
  t.deepEqual(plain(received ?? new Uint8Array(0)), message);
  frame.fill(0);
  t.deepEqual(plain(received ?? new Uint8Array(0)), message);
});

test('openSession wires sending and receiving keys the right way round', (t) => {
  const pair = handshakePair();
  const i = openSession(pair.initiator);
  const r = openSession(pair.responder);
  const hello = Uint8Array.from(Buffer.from('hello'));
  t.deepEqual(r.decoder.push(i.encryptor.encrypt(hello)).map(plain), [hello]);
  t.deepEqual(i.decoder.push(r.encryptor.encrypt(hello)).map(plain), [hello]);
  // Keys were copied: wiping the result does not disturb the session.
  pair.initiator.sendingKey.fill(0);
  pair.initiator.chainingKey.fill(0);
  t.deepEqual(r.decoder.push(i.encryptor.encrypt(hello)).map(plain), [hello]);
});

test('inputs are validated with precise codes and argument errors are not fatal', (t) => {
  const keys = randomKeys();
  const badArg = { instanceOf: TransportError, code: 'BAD_ARGUMENT' } as const;
  const badKey = { instanceOf: TransportError, code: 'BAD_KEY' } as const;
  t.throws(() => new Encryptor(null as unknown as DirectionKeys), badArg);
  t.throws(() => new Decoder(undefined as unknown as DirectionKeys), badArg);
  t.throws(() => new Encryptor({ key: new Uint8Array(31), chainingKey: keys.chainingKey }), badKey);
  t.throws(() => new Decoder({ key: keys.key, chainingKey: new Uint8Array(33) }), badKey);
  t.throws(() => new Decoder({ key: 'k', chainingKey: keys.chainingKey } as unknown as DirectionKeys), badArg);
  t.throws(() => openSession(null as unknown as Parameters<typeof openSession>[0]), badArg);

  const encryptor = new Encryptor(keys);
  const decoder = new Decoder(keys);
  t.throws(() => encryptor.encrypt('hi' as unknown as Uint8Array), badArg);
  t.throws(() => decoder.push([1, 2, 3] as unknown as Uint8Array), badArg);
  const hi = Uint8Array.of(104, 105);
  t.deepEqual(decoder.push(encryptor.encrypt(hi)).map(plain), [hi]);
  t.deepEqual(decoder.push(new Uint8Array(0)), []);
});

test('destroyed encryptors and decoders throw DEAD', (t) => {
  const keys = randomKeys();
  const encryptor = new Encryptor(keys);
  const decoder = new Decoder(keys);
  const frame = encryptor.encrypt(Uint8Array.of(1));
  encryptor.destroy();
  decoder.destroy();
  t.throws(() => encryptor.encrypt(Uint8Array.of(1)), { instanceOf: TransportError, code: 'DEAD' });
  t.throws(() => decoder.push(frame), { instanceOf: TransportError, code: 'DEAD' });
  t.is(decoder.pending, 0);
});
