import test from 'ava';
import fc from 'fast-check';
import { encode as cborxEncode } from 'cbor-x';
import { isDeepStrictEqual } from 'node:util';
import * as s from '../../src/schema/index.js';
import {
  MessageRegistry,
  WireError,
  coreMessages,
  decodeEnvelope,
  defineMessage,
  encodeCanonical,
  encodeEnvelope,
  ping,
  pong,
  signingBytes,
  type Envelope,
  type WireErrorCode,
} from '../../src/wire/index.js';
import { hex, pingPongEnvelope } from './helpers.js';

const base = {
  v: 1 as const,
  type: 'ping' as const,
  from: new Uint8Array(32).fill(1),
  ts: 1_700_000_000_123,
  nonce: new Uint8Array(16).fill(2),
  body: { seq: 7 },
};

function failure(run: () => unknown): WireError {
  try {
    run();
  } catch (err) {
    if (err instanceof WireError) return err;
    throw err;
  }
  throw new Error('expected a WireError');
}
const codeOf = (run: () => unknown): WireErrorCode => failure(run).code;

/** Encodes an arbitrary record canonically, to forge envelopes encodeEnvelope would refuse. */
const forge = (value: Record<string, unknown>) => encodeCanonical(value);

test('a ping round-trips and narrows by type', (t) => {
  const env = { ...base, to: new Uint8Array(32).fill(9), sig: new Uint8Array(64).fill(3) };
  const decoded = decodeEnvelope(encodeEnvelope(env), coreMessages);
  t.true(isDeepStrictEqual(decoded, env));
  if (decoded.type === 'ping') {
    const seq: number = decoded.body.seq;
    t.is(seq, 7);
  } else {
    t.fail('expected a ping');
  }
});

test('property: valid envelopes round-trip byte for byte', (t) => {
  fc.assert(
    fc.property(pingPongEnvelope, (env) => {
      const bytes = encodeEnvelope(env);
      const decoded = decodeEnvelope(bytes, coreMessages);
      return decoded.type === env.type && hex(encodeEnvelope(decoded)) === hex(bytes);
    }),
  );
  t.pass();
});

test('another version is VERSION; a missing or malformed one is SCHEMA', (t) => {
  t.is(codeOf(() => decodeEnvelope(forge({ ...base, v: 2 }), coreMessages)), 'VERSION');
  t.is(codeOf(() => decodeEnvelope(forge({ ...base, v: 0 }), coreMessages)), 'VERSION');
  t.is(codeOf(() => decodeEnvelope(forge({ ...base, v: '1' }), coreMessages)), 'SCHEMA');
  t.is(codeOf(() => decodeEnvelope(forge({ ...base, v: undefined }), coreMessages)), 'SCHEMA');
  // a future version may have any shape: its version is judged before the rest
  t.is(codeOf(() => decodeEnvelope(forge({ v: 2, whatever: [1, 2] }), coreMessages)), 'VERSION');
});

test('an unregistered type is UNKNOWN_TYPE; a non-string type is SCHEMA', (t) => {
  t.is(codeOf(() => decodeEnvelope(forge({ ...base, type: 'ota.offer' }), coreMessages)), 'UNKNOWN_TYPE');
  t.is(codeOf(() => decodeEnvelope(forge({ ...base, type: 5 }), coreMessages)), 'SCHEMA');
});

test('a bad header or body is SCHEMA, naming the path from the SchemaError', (t) => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...base, body: { seq: -1 } }, /body\.seq: expected an integer >= 0, got -1/],
    [{ ...base, body: { seq: 1.5 } }, /body\.seq/],
    [{ ...base, body: { seq: 1, extra: true } }, /body\.extra/],
    [{ ...base, body: 'ping' }, /body: expected an object/],
    [{ ...base, from: new Uint8Array(31) }, /from: expected 32 bytes, got 31 bytes/],
    [{ ...base, to: new Uint8Array(33) }, /to: expected 32 bytes/],
    [{ ...base, nonce: new Uint8Array(8) }, /nonce/],
    [{ ...base, sig: new Uint8Array(63) }, /sig/],
    [{ ...base, ts: -1 }, /ts/],
    [{ ...base, ts: 1.5 }, /ts/],
    [{ ...base, relay: 1 }, /relay: unknown property/],
    [{ ...base, body: undefined }, /body/],
  ];
  for (const [env, message] of cases) {
    const err = failure(() => decodeEnvelope(forge(env), coreMessages));
    t.is(err.code, 'SCHEMA', message.source);
    t.regex(err.message, message);
    t.true(err.cause instanceof s.SchemaError);
  }
  t.is(codeOf(() => decodeEnvelope(encodeCanonical([1, 2]), coreMessages)), 'SCHEMA');
  t.is(codeOf(() => decodeEnvelope(encodeCanonical(null), coreMessages)), 'SCHEMA');
});

test('bytes that are not canonical are refused before any schema check', (t) => {
  // cbor-x's own encoding keeps insertion order and writes 1.7e12 as a float
  t.is(codeOf(() => decodeEnvelope(cborxEncode(base), coreMessages)), 'NOT_CANONICAL');
  t.is(codeOf(() => decodeEnvelope(new Uint8Array([0xa0, 0x00]), coreMessages)), 'TRAILING');
});

test('decodeEnvelope honours decode limits', (t) => {
  t.is(codeOf(() => decodeEnvelope(encodeEnvelope(base), coreMessages, { maxBytes: 32 })), 'FRAME_TOO_LARGE');
  t.is(codeOf(() => decodeEnvelope(encodeEnvelope(base), coreMessages, { maxDepth: 1 })), 'TOO_DEEP');
});

test('encodeEnvelope checks the header and the encodability of the body', (t) => {
  t.is(codeOf(() => encodeEnvelope({ ...base, from: new Uint8Array(3) })), 'SCHEMA');
  t.is(codeOf(() => encodeEnvelope({ ...base, v: 2 } as unknown as Envelope)), 'SCHEMA');
  t.is(codeOf(() => encodeEnvelope({ ...base, type: 'Bad Type' })), 'SCHEMA');
  t.is(codeOf(() => encodeEnvelope({ ...base, body: undefined })), 'SCHEMA');
  t.is(codeOf(() => encodeEnvelope({ ...base, body: { at: new Date() } })), 'ENCODE');
  t.is(codeOf(() => encodeEnvelope(null as unknown as Envelope)), 'SCHEMA');
});

test('signingBytes: a domain prefix, then the canonical envelope without sig', (t) => {
  const sig = new Uint8Array(64).fill(5);
  const bytes = signingBytes({ ...base, sig });
  const domain = Buffer.from('edge-agent/envelope/v1\0');
  t.is(hex(bytes.subarray(0, domain.length)), domain.toString('hex'));
  t.is(hex(bytes.subarray(domain.length)), hex(encodeEnvelope(base)));
  t.is(hex(signingBytes(base)), hex(bytes));
  t.not(hex(signingBytes({ ...base, body: { seq: 8 } })), hex(bytes));
  t.not(hex(signingBytes({ ...base, to: new Uint8Array(32) })), hex(bytes));
  // a signature over an envelope is never a signature over the envelope's plain encoding
  t.not(hex(bytes), hex(encodeEnvelope(base)));
  t.is(codeOf(() => signingBytes({ ...base, nonce: new Uint8Array(1) })), 'SCHEMA');
});

test('property: signingBytes ignores sig and changes with every other field', (t) => {
  fc.assert(
    fc.property(pingPongEnvelope, fc.nat(), (env, seq) => {
      const { sig: _sig, ...unsigned } = env;
      const same = hex(signingBytes(env)) === hex(signingBytes(unsigned));
      const changed = seq === env.body.seq || hex(signingBytes({ ...env, body: { seq } })) !== hex(signingBytes(env));
      return same && changed;
    }),
  );
  t.pass();
});

test('later rooms add message types without touching wire', (t) => {
  const offer = defineMessage('ota.offer', s.object({ version: s.text({ max: 32 }), hash: s.bytes({ len: 32 }) }));
  const registry = coreMessages.with(offer);
  const env = { ...base, type: 'ota.offer' as const, body: { version: '1.2.3', hash: new Uint8Array(32).fill(4) } };
  const decoded = decodeEnvelope(encodeEnvelope(env), registry);
  t.true(isDeepStrictEqual(decoded, env));
  if (decoded.type === 'ota.offer') t.is(decoded.body.version, '1.2.3');
  // the core registry is unchanged
  t.is(codeOf(() => decodeEnvelope(encodeEnvelope(env), coreMessages)), 'UNKNOWN_TYPE');
  t.deepEqual(registry.types, ['ping', 'pong', 'ota.offer']);
  t.is(registry.get('ota.offer'), offer);
});

test('registries refuse duplicates and hand-made descriptors; names are checked', (t) => {
  t.is(codeOf(() => coreMessages.with(defineMessage('ping', s.object({})))), 'ARGUMENT');
  t.is(codeOf(() => MessageRegistry.of(ping, pong, ping)), 'ARGUMENT');
  const fake = { type: 'fake', body: s.object({}), envelope: s.object({}) } as unknown as typeof ping;
  t.is(codeOf(() => coreMessages.with(fake)), 'ARGUMENT');
  t.is(codeOf(() => defineMessage('Ping', s.object({}))), 'ARGUMENT');
  t.is(codeOf(() => defineMessage('', s.object({}))), 'ARGUMENT');
  t.is(codeOf(() => defineMessage('a'.repeat(65), s.object({}))), 'ARGUMENT');
  t.is(codeOf(() => defineMessage('ok', null as unknown as s.Schema<unknown>)), 'ARGUMENT');
  t.is(codeOf(() => decodeEnvelope(encodeEnvelope(base), {} as typeof coreMessages)), 'ARGUMENT');
  t.true(Object.isFrozen(ping));
});
