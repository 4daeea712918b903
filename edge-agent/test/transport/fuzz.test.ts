import { randomBytes } from 'node:crypto';
import test from 'ava';
import fc from 'fast-check';
import { Decoder, Encryptor, HEADER_SIZE, TransportError } from '../../src/transport/index.js';
import type { DirectionKeys } from '../../src/transport/index.js';
import { chunk, concat, plain, randomMessage } from './helpers.js';

interface Stream {
  readonly keys: DirectionKeys;
  readonly sent: Uint8Array[];
  readonly bytes: Uint8Array;
  /** Offset just past each frame. */
  readonly ends: number[];
}

function makeStream(sizes: readonly number[]): Stream {
  const keys = { key: randomBytes(32), chainingKey: randomBytes(32) };
  const encryptor = new Encryptor(keys);
  const sent = sizes.map(randomMessage);
  const frames = sent.map((m) => encryptor.encrypt(m));
  const ends: number[] = [];
  let end = 0;
  for (const f of frames) ends.push((end += f.length));
  return { keys, sent, bytes: concat(frames), ends };
}

/** Feeds chunks; returns what came out and the error, if any. */
function feed(decoder: Decoder, chunks: readonly Uint8Array[]): { received: Uint8Array[]; error: unknown } {
  const received: Uint8Array[] = [];
  try {
    for (const c of chunks) received.push(...decoder.push(c).map(plain));
  } catch (error) {
    return { received, error };
  }
  return { received, error: undefined };
}

function isPrefixOf(received: readonly Uint8Array[], sent: readonly Uint8Array[]): boolean {
  return received.length <= sent.length && received.every((m, i) => Buffer.from(m).equals(sent[i] ?? new Uint8Array(0)));
}

const sizes = fc.array(fc.oneof(fc.integer({ min: 0, max: 80 }), fc.integer({ min: 0, max: 3000 })), { minLength: 1, maxLength: 10 });
const cuts = fc.array(fc.integer({ min: 1, max: 4000 }), { minLength: 1, maxLength: 6 });

test('fuzz: random bytes never yield a message and only raise BAD_MAC', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), cuts, (bytes, c) => {
      const { received, error } = feed(new Decoder({ key: randomBytes(32), chainingKey: randomBytes(32) }), chunk(bytes, c));
      if (received.length !== 0) return false;
      if (bytes.length < HEADER_SIZE) return error === undefined;
      return error instanceof TransportError && error.code === 'BAD_MAC';
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('fuzz: a bit flip anywhere yields only the untouched prefix, then a permanent BAD_MAC', (t) => {
  fc.assert(
    fc.property(sizes, cuts, fc.nat(), (s, c, bit) => {
      const stream = makeStream(s);
      const tampered = plain(stream.bytes);
      const at = bit % (tampered.length * 8);
      tampered[at >> 3] = (tampered[at >> 3] ?? 0) ^ (1 << (at & 7));
      const intact = stream.ends.filter((end) => end <= at >> 3).length;

      const decoder = new Decoder(stream.keys);
      const { received, error } = feed(decoder, chunk(tampered, c));
      if (!(error instanceof TransportError) || error.code !== 'BAD_MAC') return false;
      if (received.length > intact || !isPrefixOf(received, stream.sent)) return false;
      // Dead: every later call rethrows the very same error, even for valid-looking input.
      const again = feed(decoder, [stream.bytes]);
      return again.error === error && again.received.length === 0;
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('fuzz: a truncated stream yields exactly the complete frames and waits', (t) => {
  fc.assert(
    fc.property(sizes, cuts, fc.nat(), (s, c, cut) => {
      const stream = makeStream(s);
      const length = cut % (stream.bytes.length + 1);
      const complete = stream.ends.filter((end) => end <= length);
      const decoder = new Decoder(stream.keys);
      const { received, error } = feed(decoder, chunk(stream.bytes.subarray(0, length), c));
      if (error !== undefined) return false;
      const lastEnd = complete.at(-1) ?? 0;
      return received.length === complete.length && isPrefixOf(received, stream.sent) && decoder.pending === length - lastEnd;
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('fuzz: dropped, replayed, swapped or foreign frames are rejected', (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 3, maxLength: 8 }), fc.nat(), fc.integer({ min: 0, max: 3 }), (s, pick, mode) => {
      const stream = makeStream(s);
      const frames = stream.ends.map((end, i) => stream.bytes.subarray(i === 0 ? 0 : (stream.ends[i - 1] ?? 0), end));
      const i = pick % (frames.length - 1);
      const edited = [...frames];
      if (mode === 0) edited.splice(i, 1); // drop
      else if (mode === 1) edited.splice(i + 1, 0, frames[i] ?? new Uint8Array(0)); // replay
      else if (mode === 2) [edited[i], edited[i + 1]] = [frames[i + 1] ?? new Uint8Array(0), frames[i] ?? new Uint8Array(0)]; // swap
      else edited[i] = new Encryptor({ key: randomBytes(32), chainingKey: randomBytes(32) }).encrypt(stream.sent[i] ?? new Uint8Array(0)); // foreign key
      const { received, error } = feed(new Decoder(stream.keys), [concat(edited)]);
      return error instanceof TransportError && error.code === 'BAD_MAC' && received.length === 0;
    }),
    { numRuns: 200 },
  );
  // Frame by frame, the good prefix is delivered before the failure.
  const stream = makeStream([5, 6, 7]);
  const decoder = new Decoder(stream.keys);
  const first = stream.bytes.subarray(0, stream.ends[0]);
  t.deepEqual(decoder.push(first).map(plain), [stream.sent[0]]);
  t.throws(() => decoder.push(first), { instanceOf: TransportError, code: 'BAD_MAC' });
});
