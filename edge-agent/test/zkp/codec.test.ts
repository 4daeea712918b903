import test from 'ava';
import fc from 'fast-check';
import { bn254 } from '@noble/curves/bn254.js';
import {
  compressG1,
  compressG2,
  decodeProof,
  decodeProofResult,
  decompressG1,
  decompressG2,
  encodeProof,
  encodeProofResult,
  FIELD_ORDER,
  MAX_SIGNALS,
  ZkpError,
  type G1Affine,
  type G2Affine,
  type Groth16Proof,
} from '../../src/zkp/index.js';
import { encodeCanonical } from '../../src/wire/index.js';

const P = bn254.fields.Fp.ORDER;
/** A map of 4: 1 + "v" 1 (3) + "a" bstr 32 (36) + "b" bstr 64 (68) + "c" bstr 32 (36). */
const PROOF_BYTES = 144;
const scalar = fc.bigInt({ min: 1n, max: FIELD_ORDER - 1n });
const g1 = (k: bigint): G1Affine => bn254.G1.Point.BASE.multiply(k).toAffine();
const g2 = (k: bigint): G2Affine => {
  const { x, y } = bn254.G2.Point.BASE.multiply(k).toAffine();
  return { x: [x.c0, x.c1], y: [y.c0, y.c1] };
};
const proofArb = fc.tuple(scalar, scalar, scalar).map(([a, b, c]): Groth16Proof => ({ a: g1(a), b: g2(b), c: g1(c) }));
const signalsArb = fc.array(fc.bigInt({ min: 0n, max: FIELD_ORDER - 1n }), { maxLength: 4 });

/** Every decoder failure is a ZkpError with a code; nothing else escapes. */
function outcome(f: () => unknown): 'ok' | string {
  try {
    f();
    return 'ok';
  } catch (err) {
    if (!(err instanceof ZkpError)) throw err;
    return err.code;
  }
}

test('points round-trip through compression, and the sign bit picks y', (t) => {
  fc.assert(
    fc.property(scalar, (k) => {
      const p = g1(k);
      const neg = g1(FIELD_ORDER - k);
      const cp = compressG1(p);
      const q = g2(k);
      const back = decompressG2(compressG2(q));
      return (
        cp.length === 32 &&
        (cp[0]! & 0x80) === 0 &&
        decompressG1(cp).x === p.x &&
        decompressG1(cp).y === p.y &&
        decompressG1(compressG1(neg)).y === neg.y &&
        back.x[0] === q.x[0] && back.x[1] === q.x[1] && back.y[0] === q.y[0] && back.y[1] === q.y[1]
      );
    }),
    { numRuns: 25, seed: 0xc0dec },
  );
  t.pass();
});

test('proofs and proofs with signals round-trip; the bytes are canonical and small', (t) => {
  fc.assert(
    fc.property(proofArb, signalsArb, (proof, publicSignals) => {
      const bytes = encodeProof(proof);
      const withSignals = encodeProofResult({ proof, publicSignals });
      const back = decodeProofResult(withSignals);
      return (
        bytes.length === PROOF_BYTES &&
        // "s" (2 bytes), an array header (1), and 34 bytes (header + 32) per signal
        withSignals.length === PROOF_BYTES + 3 + 34 * publicSignals.length &&
        JSON.stringify(encodeProof(decodeProof(bytes))) === JSON.stringify(bytes) &&
        back.publicSignals.length === publicSignals.length &&
        back.publicSignals.every((s, i) => s === publicSignals[i]) &&
        JSON.stringify(encodeProofResult(back)) === JSON.stringify(withSignals)
      );
    }),
    { numRuns: 15, seed: 0x9f00f },
  );
  t.pass();
});

test('fuzz: random bytes and mutated proofs never throw anything but a ZkpError, and what decodes re-encodes to the same bytes', (t) => {
  const good = encodeProofResult({ proof: { a: g1(3n), b: g2(5n), c: g1(7n) }, publicSignals: [1n, 2n, 3n] });
  const mutated = fc
    .array(fc.tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })
    .map((edits) => {
      const b = Uint8Array.from(good);
      for (const [i, v] of edits) b[i] = v;
      return b;
    });
  const truncated = fc.nat({ max: good.length - 1 }).map((n) => good.slice(0, n));
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }), mutated, truncated), (bytes) => {
      const r = outcome(() => decodeProofResult(bytes));
      if (r === 'ok') {
        const again = encodeProofResult(decodeProofResult(bytes));
        return Buffer.from(again).equals(Buffer.from(bytes));
      }
      return ['MALFORMED', 'BAD_POINT', 'NOT_IN_FIELD'].includes(r);
    }),
    { numRuns: 400, seed: 0xf022 },
  );
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => outcome(() => decodeProof(bytes)) !== 'ARGUMENT'), { numRuns: 200, seed: 7 });
  t.pass();
});

test('strict decoding: each bad encoding has its error', (t) => {
  const proof: Groth16Proof = { a: g1(3n), b: g2(5n), c: g1(7n) };
  const fields = { v: 1, a: compressG1(proof.a), b: compressG2(proof.b), c: compressG1(proof.c) };
  const code = (bytes: Uint8Array) => t.throws(() => decodeProof(bytes), { instanceOf: ZkpError })!.code;
  const enc = (o: unknown) => encodeCanonical(o);
  const set = (b: Uint8Array, i: number, v: number) => {
    const c = Uint8Array.from(b);
    c[i] = v;
    return c;
  };
  const xBytes = (x: bigint) => {
    const b = new Uint8Array(32);
    let v = x;
    for (let i = 31; i >= 0; i--) ((b[i] = Number(v & 0xffn)), (v >>= 8n));
    return b;
  };

  t.is(code(enc({ ...fields, v: 2 })), 'MALFORMED');
  t.is(code(enc({ ...fields, extra: 1 })), 'MALFORMED');
  t.is(code(enc({ v: 1, a: fields.a, b: fields.b })), 'MALFORMED');
  t.is(code(enc({ ...fields, a: fields.a.slice(1) })), 'MALFORMED');
  t.is(code(enc({ ...fields, b: fields.a })), 'MALFORMED');
  t.is(code(enc([1, fields.a, fields.b, fields.c])), 'MALFORMED');
  t.is(code(Uint8Array.from([...enc(fields), 0])), 'MALFORMED'); // trailing byte
  t.is(code(set(enc(fields), 0, 0xbf)), 'MALFORMED'); // indefinite-length map
  t.is(code(enc({ ...fields, a: set(fields.a, 0, fields.a[0]! | 0x80) })), 'BAD_POINT'); // reserved bit
  t.is(code(enc({ ...fields, a: xBytes(P) })), 'BAD_POINT'); // x = p, not reduced
  t.is(code(enc({ ...fields, a: xBytes(P + 1n) })), 'BAD_POINT'); // x = p + 1 (would alias x = 1)
  // x = 4 is not on G1 (4^3 + 3 = 67 is not a square mod p): find any such x near it.
  let bad = 4n;
  while (outcome(() => decompressG1(xBytes(bad))) === 'ok') bad++;
  t.is(code(enc({ ...fields, c: xBytes(bad) })), 'BAD_POINT');
  // A G2 x on the twist but outside the prime-order subgroup (the twist's cofactor is huge,
  // so the first x with a square root on the right-hand side will do).
  const { Fp2 } = bn254.fields;
  let outside: Uint8Array | undefined;
  for (let x = 1n; x < 50n && !outside; x++) {
    const fx = Fp2.fromBigTuple([x, 0n]);
    const rhs = Fp2.add(Fp2.mul(Fp2.sqr(fx), fx), bn254.G2.Point.CURVE().b);
    let y;
    try {
      y = Fp2.sqrt(rhs);
    } catch {
      continue; // not on the twist
    }
    outside = new Uint8Array(64);
    outside.set(xBytes(x), 32);
    t.throws(() => bn254.G2.Point.fromAffine({ x: fx, y }).assertValidity());
  }
  t.truthy(outside);
  t.is(code(enc({ ...fields, b: outside! })), 'BAD_POINT');
  t.is(t.throws(() => decodeProofResult(enc({ ...fields, s: [xBytes(FIELD_ORDER)] })), { instanceOf: ZkpError })!.code, 'NOT_IN_FIELD');
  t.is(t.throws(() => decodeProofResult(enc({ ...fields, s: Array.from({ length: MAX_SIGNALS + 1 }, () => xBytes(1n)) })), { instanceOf: ZkpError })!.code, 'MALFORMED');
  t.is(t.throws(() => encodeProof({ ...proof, a: { x: 1n, y: 1n } }), { instanceOf: ZkpError })!.code, 'BAD_POINT');
});

test('a decoded proof is frozen: it cannot change after its points were checked', (t) => {
  const back = decodeProof(encodeProof({ a: g1(3n), b: g2(5n), c: g1(7n) }));
  for (const o of [back, back.a, back.b, back.b.x, back.b.y, back.c]) t.true(Object.isFrozen(o));
  t.throws(() => {
    (back.b.x as unknown as bigint[])[0] = 1n;
  });
});
