/** The message layer inside BOLT 8 messages (kinds, fragments), and the framing pieces it relies on. */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import fc from 'fast-check';
import { Decoder, Encryptor, FRAGMENT_SIZE, TransportError } from '../../src/transport/index.js';
import { Assembler, fragment, type AssemblySink } from '../../src/transport/fragments.js';
import { chunk, concat, plain } from './helpers.js';

function keys(): { key: Uint8Array; chainingKey: Uint8Array } {
  return { key: randomBytes(32), chainingKey: randomBytes(32) };
}

interface Collected extends AssemblySink {
  readonly messages: Uint8Array[];
  pings: number;
  pongs: number;
}

function collector(): Collected {
  const c: Collected = {
    messages: [],
    pings: 0,
    pongs: 0,
    message: (data) => c.messages.push(plain(data)),
    ping: () => (c.pings += 1),
    pong: () => (c.pongs += 1),
  };
  return c;
}

/** Encrypts whole application messages the way the channel does. */
function wire(encryptor: Encryptor, messages: readonly Uint8Array[]): Uint8Array {
  return concat(messages.flatMap((m) => fragment(m).flatMap((frame) => encryptor.encryptVector(frame))));
}

test('fragment() cuts canonically: whole up to 65534 bytes, then full MORE fragments and a non-empty LAST', (t) => {
  t.deepEqual(
    fragment(new Uint8Array(FRAGMENT_SIZE)).map((f) => [f[0]![0], f[1]!.length]),
    [[0, FRAGMENT_SIZE]],
  );
  t.deepEqual(
    fragment(new Uint8Array(FRAGMENT_SIZE + 1)).map((f) => [f[0]![0], f[1]!.length]),
    [
      [1, FRAGMENT_SIZE],
      [2, 1],
    ],
  );
  t.deepEqual(
    fragment(new Uint8Array(2 * FRAGMENT_SIZE)).map((f) => [f[0]![0], f[1]!.length]),
    [
      [1, FRAGMENT_SIZE],
      [2, FRAGMENT_SIZE],
    ],
  );
  t.deepEqual(fragment(new Uint8Array(0)).map((f) => [f[0]![0], f[1]!.length]), [[0, 0]]);
  t.throws(() => fragment('x' as unknown as Uint8Array), { instanceOf: TransportError, code: 'BAD_ARGUMENT' });
});

test('encryptVector yields exactly the frame encrypt() would, without joining its parts', (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 20000 }), { maxLength: 5 }), (sizes) => {
      const k = keys();
      const parts = sizes.map((n) => plain(randomBytes(n)));
      const total = parts.reduce((n, p) => n + p.length, 0);
      if (total > 65535) return true;
      return Buffer.from(concat(new Encryptor(k).encryptVector(parts))).equals(new Encryptor(k).encrypt(concat(parts)));
    }),
    { numRuns: 60 },
  );
  t.throws(() => new Encryptor(keys()).encryptVector([new Uint8Array(65535), new Uint8Array(1)]), { instanceOf: TransportError, code: 'TOO_LARGE' });
  t.throws(() => new Encryptor(keys()).encryptVector('x' as unknown as Uint8Array[]), { instanceOf: TransportError, code: 'BAD_ARGUMENT' });
});

test('round trip through encryptor, decoder pieces and assembler for any sizes and any chunking', (t) => {
  const size = fc.oneof(
    fc.integer({ min: 0, max: 300 }),
    fc.integer({ min: 4000, max: 70000 }),
    fc.constantFrom(FRAGMENT_SIZE - 1, FRAGMENT_SIZE, FRAGMENT_SIZE + 1, 2 * FRAGMENT_SIZE, 2 * FRAGMENT_SIZE + 1, 200_000),
  );
  const cuts = fc.array(fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 70000 })), { minLength: 1, maxLength: 6 });
  fc.assert(
    fc.property(fc.array(size, { minLength: 1, maxLength: 6 }), cuts, (sizes, c) => {
      const k = keys();
      const sent = sizes.map((n) => plain(randomBytes(n)));
      const decoder = new Decoder(k);
      const assembler = new Assembler(4 * 1024 * 1024);
      const out = collector();
      for (const piece of chunk(wire(new Encryptor(k), sent), c)) {
        for (const frame of decoder.pushPieces(piece)) assembler.push(frame, out);
      }
      return decoder.pending === 0 && assembler.pending === 0 && out.messages.length === sent.length && out.messages.every((m, i) => Buffer.from(m).equals(sent[i]!));
    }),
    { numRuns: 60 },
  );
  t.pass();
});

test('a large body decrypted in pieces releases nothing when its tag is wrong', (t) => {
  const k = keys();
  const frame = Buffer.from(new Encryptor(k).encrypt(randomBytes(30_000)));
  frame[frame.length - 1]! ^= 1;
  const decoder = new Decoder(k);
  t.deepEqual(decoder.pushPieces(frame.subarray(0, 10_000)), []);
  t.deepEqual(decoder.pushPieces(frame.subarray(10_000, frame.length - 8)), []);
  t.true(decoder.pending > 0);
  t.throws(() => decoder.pushPieces(frame.subarray(frame.length - 8)), { instanceOf: TransportError, code: 'BAD_MAC' });
  t.is(decoder.pending, 0);
});

test('pings and pongs are kinds 3 and 4 and carry nothing', (t) => {
  const out = collector();
  const assembler = new Assembler(100);
  assembler.push([Uint8Array.of(3)], out);
  assembler.push([Uint8Array.of(4)], out);
  t.is(out.pings, 1);
  t.is(out.pongs, 1);
  t.throws(() => assembler.push([Uint8Array.of(3, 0)], out), { instanceOf: TransportError, code: 'PROTOCOL' });
});

test('non-canonical or unknown frames are PROTOCOL errors', (t) => {
  const full = new Uint8Array(FRAGMENT_SIZE + 1);
  full[0] = 1;
  const cases: [string, Uint8Array[][]][] = [
    ['empty frame', [[new Uint8Array(0)]]],
    ['unknown kind', [[Uint8Array.of(5, 1)]]],
    ['short MORE', [[Uint8Array.of(1, 1, 2)]]],
    ['LAST without MORE', [[Uint8Array.of(2, 1)]]],
    ['empty LAST', [[full], [Uint8Array.of(2)]]],
    ['whole message inside a fragmented one', [[full], [Uint8Array.of(0, 1)]]],
  ];
  for (const [what, frames] of cases) {
    const assembler = new Assembler(1_000_000);
    const error = t.throws(() => frames.forEach((f) => assembler.push(f, collector())), { instanceOf: TransportError });
    t.is(error?.code, 'PROTOCOL', what);
  }
});

test('TOO_LARGE is raised before a fragment past the bound is stored', (t) => {
  const bound = FRAGMENT_SIZE + 100;
  const assembler = new Assembler(bound);
  const more = new Uint8Array(FRAGMENT_SIZE + 1);
  more[0] = 1;
  assembler.push([more], collector());
  t.is(assembler.pending, FRAGMENT_SIZE);
  const last = new Uint8Array(102);
  last[0] = 2;
  t.throws(() => assembler.push([last], collector()), { instanceOf: TransportError, code: 'TOO_LARGE' });
  t.is(assembler.pending, FRAGMENT_SIZE, 'the refused fragment was not kept');
  const whole = new Uint8Array(10);
  t.throws(() => new Assembler(8).push([whole], collector()), { instanceOf: TransportError, code: 'TOO_LARGE' });
});
