import test from 'ava';
import fc from 'fast-check';
import { Tag, WireError, coreMessages, decodeBounded, decodeCanonical, decodeEnvelope, encodeCanonical, encodeEnvelope } from '../../src/wire/index.js';
import { canonicalValue, hex, pingPongEnvelope } from './helpers.js';

/** True if `value` holds only what decodeBounded promises to return. */
function inSubset(value: unknown): boolean {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return true;
  if (typeof value === 'number') return Number.isFinite(value) && (!Number.isInteger(value) || Math.abs(value) > 2 ** 53 || Number.isSafeInteger(value));
  if (value instanceof Uint8Array) return Object.getPrototypeOf(value) === Uint8Array.prototype;
  if (Array.isArray(value)) return value.every(inSubset);
  if (value instanceof Tag) return inSubset(value.value);
  if (typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return false;
  return !Object.hasOwn(value, '__proto__') && Object.values(value).every(inSubset);
}

/** Runs `decode`; a success must satisfy `ok`, a failure must be a WireError. */
function holds(decode: () => unknown, ok: (value: unknown) => boolean): boolean {
  let value: unknown;
  try {
    value = decode();
  } catch (err) {
    if (err instanceof WireError) return true;
    throw err;
  }
  return ok(value);
}

/** Every decoder either succeeds with a value that keeps its promise, or throws WireError. */
function checkAll(frame: Uint8Array): boolean {
  const h = hex(frame);
  return (
    holds(() => decodeBounded(frame), inSubset) &&
    holds(() => decodeBounded(frame, { allowedTags: new Set([7, 1000]), maxDepth: 64 }), inSubset) &&
    // the canonical guarantee, checked against the real encoder
    holds(() => decodeCanonical(frame), (v) => hex(encodeCanonical(v)) === h) &&
    holds(() => decodeEnvelope(frame, coreMessages), (env) => hex(encodeEnvelope(env as Parameters<typeof encodeEnvelope>[0])) === h)
  );
}

const interesting = fc.constantFrom(
  0x00, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1f, 0x20, 0x3b, 0x40, 0x58, 0x5b, 0x5f, 0x60, 0x61, 0x78, 0x7b, 0x7f,
  0x80, 0x81, 0x98, 0x9b, 0x9f, 0xa0, 0xa1, 0xb8, 0xbb, 0xbf, 0xc0, 0xc7, 0xd8, 0xd9, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
  0xf9, 0xfa, 0xfb, 0xff, 0x7c, 0xc3, 0xed, 0xf0,
);

test('fuzz: random bytes decode to a valid value or throw WireError, never anything else', (t) => {
  const frames = fc.oneof(
    fc.uint8Array({ maxLength: 48 }),
    fc.array(interesting, { maxLength: 48 }).map((a) => new Uint8Array(a)),
    fc.array(fc.oneof(interesting, fc.integer({ min: 0, max: 255 })), { maxLength: 200 }).map((a) => new Uint8Array(a)),
  );
  fc.assert(fc.property(frames, checkAll), { numRuns: 5000 });
  t.pass();
});

type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'set'; at: number; byte: number }
  | { op: 'length'; at: number; info: number; arg: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 9 }) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    op: fc.constant('length' as const),
    at: fc.nat(),
    info: fc.integer({ min: 24, max: 31 }),
    arg: fc.oneof(fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.constant(new Uint8Array(8).fill(0xff))),
  }),
);

function mutate(frame: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let out = Uint8Array.from(frame);
  for (const m of mutations) {
    if (out.length === 0) break;
    const at = m.at % out.length;
    switch (m.op) {
      case 'flip':
        out[at] = out[at]! ^ (1 << m.bit);
        break;
      case 'truncate':
        out = out.slice(0, at);
        break;
      case 'insert':
        out = Uint8Array.from([...out.subarray(0, at), ...m.bytes, ...out.subarray(at)]);
        break;
      case 'set':
        out[at] = m.byte;
        break;
      case 'length': {
        // rewrite a head's additional information and the argument bytes after it
        out[at] = (out[at]! & 0xe0) | m.info;
        const size = m.info < 28 ? 1 << (m.info - 24) : 0;
        out.set(m.arg.subarray(0, Math.min(size, out.length - at - 1)), at + 1);
        break;
      }
    }
  }
  return out;
}

const validFrame = fc.oneof(pingPongEnvelope.map((env) => encodeEnvelope(env)), canonicalValue.map((v) => encodeCanonical(v)));

test('fuzz: mutated valid frames decode to a valid message or throw WireError', (t) => {
  fc.assert(
    fc.property(validFrame, fc.array(mutation, { minLength: 1, maxLength: 4 }), (frame, mutations) => checkAll(mutate(frame, mutations))),
    { numRuns: 4000 },
  );
  t.pass();
});

test('fuzz: the unmutated frames themselves decode', (t) => {
  fc.assert(
    fc.property(pingPongEnvelope, (env) => hex(encodeEnvelope(decodeEnvelope(encodeEnvelope(env), coreMessages))) === hex(encodeEnvelope(env))),
  );
  t.pass();
});
