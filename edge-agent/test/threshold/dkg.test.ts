/** The DKG core: honest runs, complaints and answers, equivocation, silence, hostile bytes. */
import test from 'ava';
import fc from 'fast-check';
import { ed25519, ed25519_FROST } from '@noble/curves/ed25519.js';
import { ThresholdError } from '../../src/threshold/errors.js';
import { DkgMember, scalarFromBytes, ed25519Signatures, foreignPackage, hmacSignatures, seededBytes, type DkgAction } from '../../src/threshold/index.js';
import { decodeSigned } from '../../src/threshold/dkg-messages.js';
import { DELTA, dones, hexOf, runDkg, sessionId, signAndVerify } from './dkg-helpers.js';

const members = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

test('honest DKG with Ed25519 identity signatures: same key, same public package, shares that sign', (t) => {
  const r = runDkg({ n: 5, t: 3, seed: 1, sigs: ed25519Signatures(1) });
  const out = dones(r, members(5));
  const key = hexOf(out[0]!.groupKey);
  for (const o of out) {
    t.is(hexOf(o.groupKey), key);
    t.deepEqual(o.qualified, [1, 2, 3, 4, 5]);
    t.deepEqual(o.disqualified, []);
    t.deepEqual(o.public, out[0]!.public);
    t.notThrows(() => ed25519_FROST.validateSecret(o.share!, o.public));
    t.deepEqual(o.public.verifyingShares[o.share!.identifier], ed25519.Point.BASE.multiply(scalarFromBytes(o.share!.signingShare)).toBytes());
  }
  t.is(key, hexOf(out[0]!.public.commitments[0]!));
  // Any t shares combine to the key; noble signs with any t of them and OpenSSL verifies.
  const secrets = out.map((o) => o.share!);
  const combined = ed25519_FROST.combineSecret([secrets[0]!, secrets[2]!, secrets[4]!], { min: 3, max: 5 });
  t.is(hexOf(ed25519_FROST.verify(ed25519_FROST.sign(new Uint8Array([1]), combined), new Uint8Array([1]), out[0]!.groupKey) ? out[0]!.groupKey : new Uint8Array()), key);
  t.true(signAndVerify(out[0]!.public, [secrets[1]!, secrets[3]!, secrets[4]!], new TextEncoder().encode('committee says hi')));
  // Everyone promised the same packages: all decided early, within 2Δ, not at the schedule's end ((2 + 3t)Δ).
  t.true(r.endTime < 2 * DELTA, `ended at ${r.endTime}`);
  // Honest runs drop only relayed copies of promises already held and messages after an early decision.
  t.deepEqual(Object.keys(r.dropped).filter((k) => k !== 'duplicate' && k !== 'finished'), []);
});

test('the same seed gives the same run', (t) => {
  const a = dones(runDkg({ n: 4, t: 2, seed: 7 }), members(4));
  const b = dones(runDkg({ n: 4, t: 2, seed: 7 }), members(4));
  t.deepEqual(a[0]!.groupKey, b[0]!.groupKey);
  t.notDeepEqual(a[0]!.groupKey, dones(runDkg({ n: 4, t: 2, seed: 8 }), members(4))[0]!.groupKey);
});

test('a dealer sending bad shares is complained about, answers publicly and stays; the victims use the answered shares', (t) => {
  const r = runDkg({ n: 5, t: 3, seed: 2, behaviours: new Map([[2, [{ kind: 'bad-shares', victims: [1, 3] }]]]) });
  const out = dones(r, [1, 3, 4, 5]);
  for (const o of out) {
    t.deepEqual(o.qualified, [1, 2, 3, 4, 5]);
    t.is(hexOf(o.groupKey), hexOf(out[0]!.groupKey));
    t.notThrows(() => ed25519_FROST.validateSecret(o.share!, o.public));
  }
});

test('a dealer that does not answer, or answers with a bad share, is disqualified by everyone', (t) => {
  for (const [seed, kind] of [
    [3, 'no-answers'],
    [4, 'bad-answers'],
  ] as const) {
    const r = runDkg({ n: 5, t: 3, seed, behaviours: new Map([[4, [{ kind: 'bad-shares', victims: [2] }, { kind }]]]) });
    const out = dones(r, [1, 2, 3, 5]);
    for (const o of out) {
      t.deepEqual(o.qualified, [1, 2, 3, 5]);
      t.deepEqual(o.disqualified, [{ party: 4, reason: kind === 'no-answers' ? 'unanswered-complaint' : 'bad-answer' }]);
      t.notThrows(() => ed25519_FROST.validateSecret(o.share!, o.public));
      t.false(ed25519_FROST.Identifier.fromNumber(4) in o.public.verifyingShares);
    }
    t.true(signAndVerify(out[0]!.public, [out[0]!.share!, out[1]!.share!, out[3]!.share!], new Uint8Array([seed])));
  }
});

test('an equivocating dealer is disqualified with both signed packages as proof, or everyone aborts naming it', (t) => {
  const sigs = hmacSignatures(5);
  const r = runDkg({ n: 5, t: 3, seed: 5, sigs, behaviours: new Map([[3, [{ kind: 'equivocate', split: [1, 2] }]]]) });
  const out = dones(r, [1, 2, 4, 5]);
  for (const o of out) {
    t.deepEqual(o.qualified, [1, 2, 4, 5]);
    t.deepEqual(o.disqualified, [{ party: 3, reason: 'equivocation' }]);
    t.is(o.equivocations.length, 1);
    const [a, b] = o.equivocations[0]!.packages.map((p) => decodeSigned(p, { maxBytes: 1 << 16, maxItems: 64 }));
    for (const m of [a, b]) {
      if (m === undefined || typeof m === 'string') return t.fail(String(m));
      t.is(m.body.kind, 'r1');
      t.is(m.body.from, 3);
      t.true(sigs.verifier.verify(3, m.signed, m.signature));
    }
    t.notDeepEqual(o.equivocations[0]!.packages[0], o.equivocations[0]!.packages[1]);
  }
  const strict = runDkg({ n: 5, t: 3, seed: 5, onEquivocation: 'abort', behaviours: new Map([[3, [{ kind: 'equivocate', split: [4] }]]]) });
  for (const p of [1, 2, 4, 5]) {
    const o = strict.outcomes.get(p);
    t.is(o?.kind, 'abort');
    t.deepEqual(o?.kind === 'abort' ? o.culprits : [], [3]);
  }
});

test('silent members are disqualified; when fewer than t remain, everyone aborts naming them', (t) => {
  const ok = dones(runDkg({ n: 5, t: 3, seed: 6, behaviours: new Map([[5, [{ kind: 'silent' }]]]) }), [1, 2, 3, 4]);
  for (const o of ok) t.deepEqual(o.disqualified, [{ party: 5, reason: 'silent' }]);
  const r = runDkg({ n: 4, t: 3, seed: 6, behaviours: new Map([[1, [{ kind: 'silent' }]], [2, [{ kind: 'silent' }]]]) });
  for (const p of [3, 4]) {
    const o = r.outcomes.get(p);
    t.is(o?.kind, 'abort');
    if (o?.kind === 'abort') {
      t.deepEqual(o.culprits, [1, 2]);
      t.regex(o.reason, /only 2 dealers qualified, 3 needed/);
    }
  }
});

test('hostile bytes are dropped with a counted reason, never thrown', (t) => {
  const sigs = hmacSignatures(9);
  const sid = sessionId(9);
  const mk = (self: number): DkgMember =>
    new DkgMember({ sessionId: sid, self, n: 3, threshold: 2, start: 0, delta: DELTA, signer: sigs.signer(self), verifier: sigs.verifier, rng: seededBytes(self, 'x') });
  const a = mk(1);
  const b = mk(2);
  const fromB = b.tick(0).filter((x): x is Extract<DkgAction, { kind: 'broadcast' }> => x.kind === 'broadcast');
  a.tick(0);
  const r1 = fromB[0]!.message;
  t.deepEqual(a.receive(2, r1, 10), []);
  a.receive(2, r1, 11); // duplicate
  a.receive(3, r1, 12); // relayed by someone else: wrong sender
  a.receive(9, r1, 12); // not a member
  a.receive(2, new Uint8Array(70_000), 13); // oversized
  a.receive(2, new Uint8Array([0xa1, 0x61]), 13); // malformed
  a.receive(2, foreignPackage(2, sigs.signer(2), 2, 1), 14); // another session's package
  a.receive(2, foreignPackage(2, sigs.signer(3), 2, 1), 14); // another session (checked before the key)
  const forged = r1.slice();
  forged[forged.length - 1]! ^= 1; // the signature is the last field of the canonical map
  a.receive(2, forged, 14);
  const c = mk(3);
  const lateR1 = c.tick(0).find((x) => x.kind === 'broadcast')!;
  a.receive(3, lateR1.kind === 'broadcast' ? lateR1.message : new Uint8Array(), DELTA + 1); // replayed after its round
  const d = a.stats.dropped;
  t.like(d, { duplicate: 1, 'wrong-sender': 1, 'unknown-party': 1, oversized: 1, malformed: 1, 'bad-signature': 1, 'wrong-session': 2, late: 1 });
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 2000 }), (bytes, from, now) => {
      a.receive(from, bytes, now);
      return true;
    }),
    { seed: 9, numRuns: 300 },
  );
  // Mutations of a real package: flipped bytes, truncations, extensions.
  fc.assert(
    fc.property(fc.integer({ min: 0, max: r1.length - 1 }), fc.integer({ min: 1, max: 255 }), fc.integer({ min: -8, max: 8 }), (at, xor, grow) => {
      const m = r1.slice();
      m[at]! ^= xor;
      const cut = grow < 0 ? m.subarray(0, m.length + grow) : new Uint8Array([...m, ...new Uint8Array(grow)]);
      a.receive(2, cut, 20);
      return true;
    }),
    { seed: 10, numRuns: 300 },
  );
  t.is(a.state, 'running');
  t.is(t.throws(() => a.tick(Number.NaN), { instanceOf: ThresholdError })?.code, 'BAD_ARGUMENT');
  t.is(t.throws(() => a.receive(2, r1, Number.POSITIVE_INFINITY), { instanceOf: ThresholdError })?.code, 'BAD_ARGUMENT');
});

test('configs are validated with typed errors', (t) => {
  const sigs = hmacSignatures(1);
  const base = { sessionId: sessionId(1), self: 1, n: 4, threshold: 2, start: 0, delta: DELTA, signer: sigs.signer(1), verifier: sigs.verifier };
  for (const bad of [
    { ...base, n: 1 },
    { ...base, threshold: 1 },
    { ...base, threshold: 5 },
    { ...base, self: 0 },
    { ...base, self: 5 },
    { ...base, sessionId: new Uint8Array(4) },
    { ...base, delta: 0 },
    { ...base, faults: -1 },
    { ...base, maxMessageBytes: 10 },
  ]) {
    const err = t.throws(() => new DkgMember(bad), { instanceOf: ThresholdError });
    t.is(err?.code, 'BAD_ARGUMENT');
  }
});

test('commitments with a small-order part pass every Feldman check but are caught on the combined package', (t) => {
  // Party 3 keeps its own evidence to itself, else its untouched package would prove it equivocated.
  const r = runDkg({ n: 5, t: 3, seed: 12, behaviours: new Map([[3, [{ kind: 'torsion' }, { kind: 'selective-items', to: 3 }]]]) });
  const out = dones(r, [1, 2, 4, 5]);
  for (const o of out) {
    t.deepEqual(o.disqualified, [{ party: 3, reason: 'bad-commitment' }]);
    t.deepEqual(o.qualified, [1, 2, 4, 5]);
    t.notThrows(() => ed25519_FROST.validateSecret(o.share!, o.public));
  }
  t.is(r.dropped['invalid'] ?? 0, 0, 'the package itself looked fine to everyone');
});

test('property: for random n, t and seeds, any t of the n DKG shares reconstruct the group key and every share verifies', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 5 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 0, max: 1e6 }), (k, extra, seed, pick) => {
      const n = k + extra;
      const out = dones(runDkg({ n, t: k, seed }), members(n));
      for (const o of out) ed25519_FROST.validateSecret(o.share!, o.public);
      const chosen = [...out].sort((a, b) => ((a.share!.signingShare[0]! ^ pick) & 0xff) - ((b.share!.signingShare[0]! ^ pick) & 0xff)).slice(0, k);
      const key = ed25519_FROST.combineSecret(chosen.map((o) => o.share!), { min: k, max: n });
      return hexOf(ed25519.Point.BASE.multiply(scalarFromBytes(key)).toBytes()) === hexOf(out[0]!.groupKey);
    }),
    { seed: 14, numRuns: 5 },
  );
  t.pass();
});
