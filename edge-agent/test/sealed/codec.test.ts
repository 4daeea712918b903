/**
 * Round trips and fuzzing (fast-check, fixed seeds): seal → open for any
 * plaintext and name, states and wrapped keys through canonical CBOR and
 * back, and malformed bytes that always end in a typed SealedError.
 */
import test from 'ava';
import fc from 'fast-check';
import { generateKeyPair } from '../../src/identity/index.js';
import {
  SealedError,
  createRecord,
  decodeState,
  decodeWrappedKey,
  encodeState,
  encodeWrappedKey,
  memberId,
  openAttribute,
  sealAttribute,
  unwrapKey,
  wrapKey,
} from '../../src/sealed/index.js';
import { encodeCanonical } from '../../src/wire/index.js';
import { fleetRecord } from './fixtures.js';

const name = fc.stringMatching(/^[A-Za-z0-9_.\-/]{1,64}$/).filter((s) => s !== '__proto__');
const record = fc.uint8Array({ minLength: 32, maxLength: 32 });
const reader = generateKeyPair();

test('property: sealAttribute then openAttribute gives the plaintext back, and only in its own context', (t) => {
  fc.assert(
    fc.property(record, fc.nat({ max: 1000 }), name, fc.uint8Array({ maxLength: 2048 }), (rec, keyState, attr, plaintext) => {
      const sealed = sealAttribute(rec, keyState, attr, plaintext);
      const entry = { commitment: sealed.commitment, keyCheck: sealed.keyCheck };
      const back = openAttribute(rec, keyState, attr, sealed.key, sealed.blob, entry);
      if (Buffer.compare(back, plaintext) !== 0) return false;
      if (sealed.blob.length !== plaintext.length + 28) return false;
      // Another key state: the key check (bound to its context) refuses before the AEAD is tried.
      try {
        openAttribute(rec, keyState + 1, attr, sealed.key, sealed.blob, entry);
        return false;
      } catch (err) {
        return err instanceof SealedError && err.code === 'BAD_KEY';
      }
    }),
    { seed: 1301, numRuns: 200 },
  );
  t.pass();
});

test('property: wrapKey then unwrapKey gives the key back; the wrapped key survives CBOR', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), record, fc.nat({ max: 2 ** 40 }), name, (key, rec, keyState, attr) => {
      const wrap = wrapKey(key, reader.publicKey, rec, keyState, attr);
      const again = decodeWrappedKey(encodeWrappedKey(wrap));
      return wrap.member === memberId(reader.publicKey) && Buffer.compare(unwrapKey(again, reader.secretKey), key) === 0;
    }),
    { seed: 1302, numRuns: 40 },
  );
  t.pass();
});

test('property: a state encodes canonically and decodes to itself', (t) => {
  const author = generateKeyPair();
  const id = memberId(author.publicKey);
  const publicValue = fc.oneof(fc.string({ maxLength: 64 }), fc.integer(), fc.boolean(), fc.constant(null), fc.uint8Array({ maxLength: 64 }));
  fc.assert(
    fc.property(
      fc.dictionary(name, publicValue, { maxKeys: 6 }),
      fc.dictionary(name, fc.uint8Array({ maxLength: 64 }), { maxKeys: 4 }),
      (pub, priv) => {
        const out = createRecord({ secretKey: author.secretKey, members: [author.publicKey], roles: { all: { attributes: Object.keys(priv), members: [id] } }, public: pub, private: priv });
        const bytes = encodeState(out.state);
        const back = decodeState(bytes);
        return Buffer.compare(encodeState(back), bytes) === 0 && Buffer.compare(encodeCanonical(back), bytes) === 0;
      },
    ),
    { seed: 1303, numRuns: 60 },
  );
  t.pass();
});

/** Decoding must end in a value or a SealedError with a known code; anything else fails the property. */
function typedOrValue(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    return err instanceof SealedError && ['MALFORMED', 'BAD_SIGNATURE'].includes(err.code);
  }
}

test('fuzz: malformed or mutated states and wrapped keys give typed errors, never a crash', (t) => {
  const { out } = fleetRecord();
  const state = encodeState(out.state);
  const wrap = encodeWrappedKey(out.wraps[0]!);
  const mutate = (bytes: Uint8Array) =>
    fc.array(fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }).map((edits) => {
      const copy = Uint8Array.from(bytes);
      for (const [at, x] of edits) copy[at]! ^= x;
      return copy;
    });
  const cut = (bytes: Uint8Array) => fc.nat({ max: bytes.length - 1 }).map((n) => bytes.subarray(0, n));
  let accepted = 0;
  fc.assert(
    fc.property(fc.oneof(mutate(state), cut(state), fc.uint8Array({ maxLength: 512 })), (bytes) => {
      let ok = true;
      try {
        decodeState(bytes);
        accepted++;
      } catch (err) {
        ok = err instanceof SealedError && ['MALFORMED', 'BAD_SIGNATURE'].includes(err.code);
      }
      return ok;
    }),
    { seed: 1304, numRuns: 800 },
  );
  t.is(accepted, 0, 'no mutation of a signed state is accepted');
  fc.assert(fc.property(fc.oneof(mutate(wrap), cut(wrap), fc.uint8Array({ maxLength: 256 })), (bytes) => typedOrValue(() => decodeWrappedKey(bytes))), { seed: 1305, numRuns: 800 });
  // Well-formed CBOR of the wrong shape.
  for (const value of [null, 1, 'state', [], {}, { v: 2 }, { ...out.state, extra: 1 }, { ...out.state, n: -1 }, { ...out.state, members: [] }]) {
    const err = t.throws(() => decodeState(encodeCanonical(value)), { instanceOf: SealedError });
    t.is(err?.code, 'MALFORMED', JSON.stringify(value)?.slice(0, 40));
  }
  // Not canonical: an indefinite-length map is refused before the schema.
  t.throws(() => decodeState(Uint8Array.from([0xbf, 0xff])), { instanceOf: SealedError, code: 'MALFORMED' });
});
