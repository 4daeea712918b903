/** Resharing to a new committee: members leave and join, the threshold changes, the key stays. */
import test from 'ava';
import { ed25519, ed25519_FROST } from '@noble/curves/ed25519.js';
import { ThresholdError } from '../../src/threshold/errors.js';
import { ReshareMember, hmacSignatures, reconstruct, scalarFromBytes, indexOfIdentifier, type Participant } from '../../src/threshold/index.js';
import { DELTA, dealerKey, dones, runReshare, sessionId, signAndVerify } from './dkg-helpers.js';

// Old committee: parties 1..5 (3-of-5). New committee: parties 3..8 with indices 1..6 (4-of-6): 1 and 2 leave, 6, 7, 8 join.
const oldDealers: Participant[] = [1, 2, 3, 4, 5].map((p) => ({ party: p, index: p }));
const newCommittee: Participant[] = [3, 4, 5, 6, 7, 8].map((p, i) => ({ party: p, index: i + 1 }));

test('3-of-5 reshared to 4-of-6 with members added and removed keeps the group key; new shares sign, three do not suffice', (t) => {
  const { pub, secrets } = dealerKey(5, 3);
  const r = runReshare({ oldPublic: pub, oldSecrets: secrets, dealers: oldDealers, receivers: newCommittee, threshold: 4, seed: 31 });
  const out = dones(r, [1, 2, 3, 4, 5, 6, 7, 8]);
  const secret = reconstruct([1, 2, 3].map((i) => ({ x: BigInt(i), y: scalarFromBytes(secrets.get(i)!.signingShare) })));
  for (const o of out) {
    t.deepEqual(o.groupKey, pub.commitments[0]);
    t.deepEqual(o.public, out[0]!.public);
    t.deepEqual(o.public.signers, { min: 4, max: 6 });
    t.deepEqual(o.qualified, [1, 2, 3, 4, 5]);
  }
  // Leaving members (1, 2) end without a share; the others hold one for their new index.
  t.is(out[0]!.share, undefined);
  t.is(out[1]!.share, undefined);
  const fresh = out.slice(2).map((o) => o.share!);
  fresh.forEach((s, i) => {
    t.is(indexOfIdentifier(s.identifier), i + 1);
    t.notThrows(() => ed25519_FROST.validateSecret(s, out[0]!.public));
  });
  const ys = fresh.map((s) => ({ x: BigInt(indexOfIdentifier(s.identifier)), y: scalarFromBytes(s.signingShare) }));
  t.is(reconstruct(ys.slice(0, 4)), secret);
  t.is(reconstruct(ys.slice(2, 6)), secret);
  t.not(reconstruct(ys.slice(0, 3)), secret, 'the new threshold holds: three new shares are not enough');
  t.deepEqual(ed25519.Point.BASE.multiply(secret).toBytes(), pub.commitments[0]);
  t.true(signAndVerify(out[0]!.public, [fresh[0]!, fresh[2]!, fresh[4]!, fresh[5]!], new TextEncoder().encode('new committee')));
});

test('a dealer whose C_0 is not its verifying share, or that cheats on shares, is disqualified; t_old honest dealers suffice', (t) => {
  const { pub, secrets } = dealerKey(5, 3);
  const r = runReshare({
    oldPublic: pub,
    oldSecrets: secrets,
    dealers: oldDealers,
    receivers: newCommittee,
    threshold: 3,
    seed: 32,
    behaviours: new Map([
      [1, [{ kind: 'rushing', rogue: true }, { kind: 'selective-items', to: 1 }]],
      [2, [{ kind: 'bad-shares', victims: [6, 7] }, { kind: 'no-answers' }]],
    ]),
  });
  const out = dones(r, [3, 4, 5, 6, 7, 8]);
  for (const o of out) {
    t.deepEqual(o.qualified, [3, 4, 5]);
    t.deepEqual(o.disqualified.map((d) => d.party), [1, 2]);
    t.deepEqual(o.groupKey, pub.commitments[0]);
    t.notThrows(() => ed25519_FROST.validateSecret(o.share!, o.public));
  }
  t.true(signAndVerify(out[0]!.public, [out[0]!.share!, out[3]!.share!, out[5]!.share!], new Uint8Array([32])));
});

test('fewer than t_old qualified dealers: everyone aborts naming the culprits', (t) => {
  const { pub, secrets } = dealerKey(4, 3);
  const dealers = [1, 2, 3, 4].map((p) => ({ party: p, index: p }));
  const receivers = [1, 2, 3, 4].map((p) => ({ party: p, index: p }));
  const r = runReshare({ oldPublic: pub, oldSecrets: secrets, dealers, receivers, threshold: 2, seed: 33, behaviours: new Map([[1, [{ kind: 'silent' }]], [2, [{ kind: 'silent' }]]]) });
  for (const p of [3, 4]) {
    const o = r.outcomes.get(p);
    t.is(o?.kind, 'abort');
    t.deepEqual(o?.kind === 'abort' ? o.culprits : [], [1, 2]);
  }
});

test('reshare configs are validated', (t) => {
  const { pub, secrets } = dealerKey(5, 3);
  const sigs = hmacSignatures(1);
  const base = {
    sessionId: sessionId(1),
    self: 3,
    oldPublic: pub,
    oldShare: secrets.get(3)!,
    dealers: oldDealers,
    receivers: newCommittee,
    threshold: 4,
    start: 0,
    delta: DELTA,
    signer: sigs.signer(3),
    verifier: sigs.verifier,
  };
  t.notThrows(() => new ReshareMember(base));
  t.is(t.throws(() => new ReshareMember({ ...base, dealers: oldDealers.slice(0, 2) }), { instanceOf: ThresholdError })?.code, 'NOT_ENOUGH_SIGNERS');
  t.is(t.throws(() => new ReshareMember({ ...base, oldShare: secrets.get(4)! }), { instanceOf: ThresholdError })?.code, 'BAD_ARGUMENT');
  const { oldShare: _drop, ...noShare } = base;
  t.is(t.throws(() => new ReshareMember(noShare), { instanceOf: ThresholdError })?.code, 'BAD_ARGUMENT');
  t.is(t.throws(() => new ReshareMember({ ...base, threshold: 7 }), { instanceOf: ThresholdError })?.code, 'BAD_ARGUMENT');
  // A new member that is not an old one needs no share.
  t.notThrows(() => new ReshareMember({ ...noShare, self: 7, signer: sigs.signer(7) }));
});
