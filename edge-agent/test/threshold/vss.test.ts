/** Feldman VSS arithmetic: polynomials, commitments, Lagrange at zero, reconstruction. */
import test from 'ava';
import fc from 'fast-check';
import { ed25519, ed25519_FROST } from '@noble/curves/ed25519.js';
import { ThresholdError } from '../../src/threshold/errors.js';
import {
  ORDER,
  commitPolynomial,
  evalCommitment,
  evalPolynomial,
  lagrangeAtZero,
  pointFromBytes,
  randomPolynomial,
  reconstruct,
  scalarFromBytes,
  scalarToBytes,
  verifyFeldmanShare as verifyShare,
} from '../../src/threshold/index.js';
import { seededBytes } from '../../src/threshold/index.js';

const scalar = fc.bigInt({ min: 1n, max: ORDER - 1n });

test('evalPolynomial is Horner mod L and agrees with the naive sum', (t) => {
  fc.assert(
    fc.property(fc.array(fc.bigInt({ min: 0n, max: ORDER - 1n }), { minLength: 1, maxLength: 6 }), scalar, (coeffs, x) => {
      let naive = 0n;
      let p = 1n;
      for (const a of coeffs) {
        naive = (naive + a * p) % ORDER;
        p = (p * x) % ORDER;
      }
      return evalPolynomial(coeffs, x) === naive;
    }),
    { seed: 11, numRuns: 200 },
  );
  t.pass();
});

test('any t of n shares reconstruct the secret; t−1 shares give something else', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 7 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 1e9 }), (tt, extra, seed, pick) => {
      const n = tt + extra;
      const rng = seededBytes(seed, 'vss');
      const secret = randomPolynomial(1, 0n, rng)[1]!;
      const f = randomPolynomial(tt - 1, secret, rng);
      const shares = Array.from({ length: n }, (_, i) => ({ x: BigInt(i + 1), y: evalPolynomial(f, BigInt(i + 1)) }));
      // A pseudo-random subset of size t, and one of size t−1.
      const order = [...shares].sort((a, b) => Number(((a.x * 7919n + BigInt(pick)) % 101n) - ((b.x * 7919n + BigInt(pick)) % 101n)));
      const ok = reconstruct(order.slice(0, tt)) === secret;
      const short = reconstruct(order.slice(0, tt - 1)) !== secret;
      return ok && short;
    }),
    { seed: 12, numRuns: 60 },
  );
  t.pass();
});

test('shares verify against the Feldman commitments, and a changed share does not', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 5 }), fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 1, max: 9 }), scalar, (tt, seed, x, delta) => {
      const f = randomPolynomial(tt - 1, randomPolynomial(1, 0n, seededBytes(seed, 's'))[1]!, seededBytes(seed, 'f'));
      const c = commitPolynomial(f);
      const s = evalPolynomial(f, BigInt(x));
      return verifyShare(c, BigInt(x), s) && !verifyShare(c, BigInt(x), (s + delta) % ORDER) && !verifyShare(c, BigInt(x + 1), s);
    }),
    { seed: 13, numRuns: 15 },
  );
  t.pass();
});

test('Lagrange coefficients at 0 match noble: shares combine to the same key as combineSecret', (t) => {
  const deal = ed25519_FROST.trustedDealer({ min: 3, max: 5 });
  const ids = [1, 3, 5];
  const shares = ids.map((i) => ({ x: BigInt(i), y: scalarFromBytes(deal.secretShares[ed25519_FROST.Identifier.fromNumber(i)]!.signingShare) }));
  const key = reconstruct(shares);
  t.deepEqual(ed25519.Point.BASE.multiply(key).toBytes(), deal.public.commitments[0]);
  const sum = ids.reduce((acc, i) => (acc + lagrangeAtZero(ids.map(BigInt), BigInt(i))) % ORDER, 0n);
  t.is(sum, 1n, 'λ sum to one (the constant polynomial 1)');
  // Verifying shares from the commitments equal noble's.
  const commitments = deal.public.commitments.map((c) => pointFromBytes(c));
  for (const i of [1, 2, 3, 4, 5]) {
    t.deepEqual(evalCommitment(commitments, BigInt(i)).toBytes(), deal.public.verifyingShares[ed25519_FROST.Identifier.fromNumber(i)]);
  }
});

test('encodings are strict: non-canonical scalars, off-curve and small-order points are refused', (t) => {
  const big = new Uint8Array(32).fill(0xff);
  t.is(t.throws(() => scalarFromBytes(big), { instanceOf: ThresholdError })?.code, 'BAD_ARGUMENT');
  t.is(t.throws(() => scalarFromBytes(new Uint8Array(31)), { instanceOf: ThresholdError })?.code, 'BAD_ARGUMENT');
  t.is(scalarFromBytes(scalarToBytes(12345n)), 12345n);
  const identity = ed25519.Point.ZERO.toBytes();
  t.throws(() => pointFromBytes(identity), { instanceOf: ThresholdError });
  t.true(pointFromBytes(identity, true).is0());
  // A point of order 8 plus the base: on the curve, not in the prime-order subgroup.
  const torsion = ed25519.Point.fromHex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05');
  const mixed = ed25519.Point.BASE.add(torsion).toBytes();
  t.throws(() => pointFromBytes(mixed), { instanceOf: ThresholdError, message: /subgroup/ });
  t.notThrows(() => pointFromBytes(mixed, false, false));
  const notOnCurve = new Uint8Array(32).fill(0);
  notOnCurve[0] = 2;
  t.throws(() => pointFromBytes(notOnCurve), { instanceOf: ThresholdError });
});

test('inputs are validated with typed errors', (t) => {
  for (const f of [
    () => evalPolynomial([], 1n),
    () => evalPolynomial([ORDER], 1n),
    () => evalCommitment([], 1n),
    () => lagrangeAtZero([1n, 1n], 1n),
    () => lagrangeAtZero([1n, 2n], 3n),
    () => lagrangeAtZero([0n, 2n], 2n),
    () => reconstruct([]),
    () => randomPolynomial(-1, 0n, seededBytes(1, 'x')),
  ]) {
    t.is(t.throws(f, { instanceOf: ThresholdError })?.code, 'BAD_ARGUMENT');
  }
});
