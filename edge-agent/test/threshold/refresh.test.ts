/** Proactive refresh: the key stays, every share changes, old and new shares do not mix. */
import test from 'ava';
import fc from 'fast-check';
import { ed25519, ed25519_FROST } from '@noble/curves/ed25519.js';
import { ThresholdError } from '../../src/threshold/errors.js';
import { RefreshMember, hmacSignatures, reconstruct, scalarFromBytes } from '../../src/threshold/index.js';
import { DELTA, dealerKey, dones, hexOf, runDkg, runRefresh, sessionId, signAndVerify } from './dkg-helpers.js';

/** All subsets of size k of xs. */
function subsets<T>(xs: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (xs.length < k) return [];
  const [head, ...rest] = xs;
  return [...subsets(rest, k - 1).map((s) => [head!, ...s]), ...subsets(rest, k)];
}

test('after a refresh the key is the same, every share changed, and no mix of old and new shares gives the key', (t) => {
  const n = 5;
  const k = 3;
  const dkg = dones(runDkg({ n, t: k, seed: 21 }), [1, 2, 3, 4, 5]);
  const secrets = new Map(dkg.map((o, i) => [i + 1, o.share!]));
  const out = dones(runRefresh({ pub: dkg[0]!.public, secrets, seed: 21 }), [1, 2, 3, 4, 5]);
  const groupKey = dkg[0]!.groupKey;
  const secretKey = reconstruct(dkg.slice(0, k).map((o, i) => ({ x: BigInt(i + 1), y: scalarFromBytes(o.share!.signingShare) })));
  t.deepEqual(ed25519.Point.BASE.multiply(secretKey).toBytes(), groupKey);
  const oldY = new Map(dkg.map((o, i) => [i + 1, scalarFromBytes(o.share!.signingShare)]));
  const newY = new Map(out.map((o, i) => [i + 1, scalarFromBytes(o.share!.signingShare)]));
  for (const o of out) {
    t.deepEqual(o.groupKey, groupKey);
    t.deepEqual(o.public, out[0]!.public);
    t.notThrows(() => ed25519_FROST.validateSecret(o.share!, o.public));
  }
  for (let i = 1; i <= n; i++) {
    t.not(newY.get(i), oldY.get(i), `share ${i} changed`);
    t.throws(() => ed25519_FROST.validateSecret(dkg[i - 1]!.share!, out[0]!.public), undefined, 'an old share does not fit the new package');
  }
  // t new shares give the key; every mix of old and new (t shares from t distinct members) does not.
  for (const ids of subsets([1, 2, 3, 4, 5], k)) {
    t.is(reconstruct(ids.map((i) => ({ x: BigInt(i), y: newY.get(i)! }))), secretKey);
    for (let mask = 1; mask < (1 << k) - 1; mask++) {
      const mix = ids.map((i, j) => ({ x: BigInt(i), y: (mask >> j) & 1 ? newY.get(i)! : oldY.get(i)! }));
      t.not(reconstruct(mix), secretKey);
    }
    // t−1 shares of either kind tell nothing: they reconstruct something else.
    t.not(reconstruct(ids.slice(1).map((i) => ({ x: BigInt(i), y: newY.get(i)! }))), secretKey);
  }
  t.true(signAndVerify(out[0]!.public, [out[0]!.share!, out[2]!.share!, out[4]!.share!], new TextEncoder().encode('after refresh')));
});

test('property: refresh preserves the key and changes every share (random n, t, seeds)', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 4 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 1e6 }), (k, extra, seed) => {
      const n = k + extra;
      const { pub, secrets } = dealerKey(n, k);
      const ids = [...secrets.keys()];
      const out = dones(runRefresh({ pub, secrets, seed }), ids);
      return out.every(
        (o, i) =>
          hexOf(o.groupKey) === hexOf(pub.commitments[0]!) &&
          hexOf(o.share!.signingShare) !== hexOf(secrets.get(ids[i]!)!.signingShare) &&
          (ed25519_FROST.validateSecret(o.share!, o.public), true),
      );
    }),
    { seed: 22, numRuns: 4 },
  );
  t.pass();
});

test('a refresh dealer whose C_0 is not the identity is refused by all; a silent one too; the rest refresh', (t) => {
  const { pub, secrets } = dealerKey(5, 3);
  // Party 2 sends a package with C_0 ≠ O and keeps its valid one to itself (no evidence either).
  const r = runRefresh({
    pub,
    secrets,
    seed: 25,
    behaviours: new Map([
      [2, [{ kind: 'rushing', rogue: true }, { kind: 'selective-items', to: 2 }]],
      [5, [{ kind: 'silent' }]],
    ]),
  });
  t.true((r.dropped['invalid'] ?? 0) >= 1, 'the rogue package was refused as invalid');
  t.true((r.dropped['invalid'] ?? 0) + (r.dropped['late'] ?? 0) >= 3, 'or as late, by every honest member');
  const out = dones(r, [1, 3, 4]);
  for (const o of out) {
    t.deepEqual(o.qualified, [1, 3, 4]);
    t.deepEqual(o.disqualified.map((d) => d.party), [2, 5]);
    t.deepEqual(o.groupKey, pub.commitments[0]);
    t.notThrows(() => ed25519_FROST.validateSecret(o.share!, o.public));
  }
});

test('refresh configs are validated', (t) => {
  const { pub, secrets } = dealerKey(3, 2);
  const sigs = hmacSignatures(1);
  const base = { sessionId: sessionId(1), public: pub, share: secrets.get(1)!, start: 0, delta: DELTA, signer: sigs.signer(1), verifier: sigs.verifier };
  t.notThrows(() => new RefreshMember(base));
  t.is(t.throws(() => new RefreshMember({ ...base, share: { ...secrets.get(1)!, signingShare: secrets.get(2)!.signingShare } }), { instanceOf: ThresholdError })?.code, 'BAD_SHARE');
  t.is(t.throws(() => new RefreshMember({ ...base, public: { ...pub, commitments: pub.commitments.slice(1) } as typeof pub }), { instanceOf: ThresholdError })?.code, 'BAD_ARGUMENT');
});
