/**
 * The verifier's challenge book without circuits: proofs here come from a stand-in checker whose
 * "pairing check" is a = G1·H(signals), so a proof is bound to its public signals as a real one
 * is, and every refusal path (replay, stale, wrong challenge / root / commitment, malformed, bad
 * proof) runs in milliseconds. The same paths over real channels with real proofs: auth.test.ts.
 */
import test from 'ava';
import fc from 'fast-check';
import { bn254 } from '@noble/curves/bn254.js';
import { sha256 } from '@noble/hashes/sha2.js';
import {
  ChallengeBook,
  FIELD_ORDER,
  MerkleTree,
  RootHistory,
  ZkpError,
  challengeFor,
  commitmentOf,
  decodeProofResult,
  encodeProofResult,
  poseidon1,
  responseOf,
  zkCommitmentFromIdentity,
  zkSecretFromIdentity,
  type Groth16Proof,
  type ProofCheck,
  type ProofKind,
} from '../../src/zkp/index.js';
import { seededRandom } from '../helpers/random.js';

const rnd = seededRandom(0x2c4a11);
const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));

const hashSignals = (signals: readonly bigint[]): bigint => {
  const h = sha256(new TextEncoder().encode(signals.join(',')));
  let v = 0n;
  for (const b of h) v = (v << 8n) | BigInt(b);
  return (v % (FIELD_ORDER - 1n)) + 1n;
};
const g2 = bn254.G2.Point.BASE.toAffine();
/** A stand-in proof: valid for exactly these signals under the stand-in checker. */
function fakeProof(signals: readonly bigint[]): Groth16Proof {
  const a = bn254.G1.Point.BASE.multiply(hashSignals(signals)).toAffine();
  return { a, b: { x: [g2.x.c0, g2.x.c1], y: [g2.y.c0, g2.y.c1] }, c: bn254.G1.Point.BASE.toAffine() };
}
const checker: ProofCheck = {
  verify: async (signals, proof) => {
    const want = bn254.G1.Point.BASE.multiply(hashSignals(signals)).toAffine();
    return proof.a.x === want.x && proof.a.y === want.y;
  },
};

const secret = 0x5ec12e7n;
const others = [0x1111n, 0x2222n, 0x3333n];
const tree = MerkleTree.fromLeaves(6, [secret, ...others].map(commitmentOf));
const hhA = bytes(32);
const hhB = bytes(32);

/** What an honest prover on the channel with hash hh answers to this nonce. */
function honest(kind: ProofKind, hh: Uint8Array, nonce: Uint8Array, root = tree.root, s = secret): Uint8Array {
  const challenge = challengeFor(kind, hh, nonce);
  const signals = [responseOf(s, challenge), kind === 'membership' ? root : commitmentOf(s), challenge];
  return encodeProofResult({ proof: fakeProof(signals), publicSignals: signals });
}

function book(opts: { ttlMs?: number; maxOutstanding?: number } = {}): ChallengeBook {
  const b = new ChallengeBook({ verifiers: { membership: checker, keyPossession: checker }, ...opts });
  b.roots.set(tree.root, 0);
  return b;
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'accepted';
  } catch (err) {
    if (!(err instanceof ZkpError)) throw err;
    return err.code;
  }
}

test('an honest membership answer is accepted once; the nullifier is Poseidon(secret, challenge)', async (t) => {
  const b = book();
  const nonce = bytes(32);
  const issued = b.issue('membership', { handshakeHash: hhA, nonce, now: 1000 });
  t.is(issued.root, tree.root);
  t.is(issued.expiresAt, 1000 + 30_000);
  t.is(issued.challenge, challengeFor('membership', hhA, nonce));
  const answer = { nonce, proof: honest('membership', hhA, nonce) };
  const ok = await b.check(answer, { handshakeHash: hhA, now: 2000 });
  t.is(ok.nullifier, responseOf(secret, issued.challenge));
  t.is(ok.root, tree.root);
  t.is(await code(b.check(answer, { handshakeHash: hhA, now: 2001 })), 'REPLAY', 'the same answer again');
});

test('challenges are bound to the channel: another channel\'s nonce or proof is WRONG_CHALLENGE', async (t) => {
  const b = book();
  const nA = bytes(32);
  const nB = bytes(32);
  b.issue('membership', { handshakeHash: hhA, nonce: nA, now: 0 });
  b.issue('membership', { handshakeHash: hhB, nonce: nB, now: 0 });
  // A's nonce answered on B: refused, and A's challenge is not spent by it.
  t.is(await code(b.check({ nonce: nA, proof: honest('membership', hhA, nA) }, { handshakeHash: hhB, now: 1 })), 'WRONG_CHALLENGE');
  // B's nonce, but a proof made on channel A (a relayed nonce): the challenge signal differs.
  t.is(await code(b.check({ nonce: nB, proof: honest('membership', hhA, nB) }, { handshakeHash: hhB, now: 1 })), 'WRONG_CHALLENGE');
  t.is(await code(b.check({ nonce: nB, proof: honest('membership', hhB, nB) }, { handshakeHash: hhB, now: 1 })), 'REPLAY', 'B was spent by the wrong proof');
  t.is(await code(b.check({ nonce: nA, proof: honest('membership', hhA, nA) }, { handshakeHash: hhA, now: 1 })), 'accepted');
  t.is(await code(b.check({ nonce: bytes(32), proof: honest('membership', hhA, nA) }, { handshakeHash: hhA, now: 1 })), 'WRONG_CHALLENGE', 'a nonce never issued');
});

test('challenges expire (STALE) and are single-use', async (t) => {
  const b = book({ ttlMs: 5000 });
  const n = bytes(32);
  b.issue('membership', { handshakeHash: hhA, nonce: n, now: 0 });
  const answer = { nonce: n, proof: honest('membership', hhA, n) };
  t.is(await code(b.check(answer, { handshakeHash: hhA, now: 5001 })), 'STALE');
  t.is(await code(b.check(answer, { handshakeHash: hhA, now: 5002 })), 'REPLAY');
  const m = bytes(32);
  b.issue('membership', { handshakeHash: hhA, nonce: m, now: 10_000 });
  t.is(await code(b.check({ nonce: m, proof: honest('membership', hhA, m) }, { handshakeHash: hhA, now: 15_000 })), 'accepted', 'on the last millisecond');
});

test('membership: a root not accepted now is WRONG_ROOT; a replaced root stays acceptable for the grace period', async (t) => {
  const b = new ChallengeBook({ verifiers: { membership: checker }, roots: new RootHistory({ graceMs: 60_000, maxRoots: 2 }) });
  const older = MerkleTree.fromLeaves(6, [secret].map(commitmentOf)).root;
  b.roots.set(older, 0);
  b.roots.set(tree.root, 100_000);
  const ask = async (root: bigint, now: number): Promise<string> => {
    const n = bytes(32);
    b.issue('membership', { handshakeHash: hhA, nonce: n, now });
    return code(b.check({ nonce: n, proof: honest('membership', hhA, n, root) }, { handshakeHash: hhA, now }));
  };
  t.is(await ask(tree.root, 100_001), 'accepted');
  t.is(await ask(older, 160_000), 'accepted', 'replaced 60 s ago');
  t.is(await ask(older, 160_001), 'WRONG_ROOT', 'past the grace period');
  t.is(await ask(MerkleTree.fromLeaves(6, others.map(commitmentOf)).root, 100_002), 'WRONG_ROOT', 'a tree the verifier never held');
  b.roots.set(1n, 200_000);
  b.roots.set(2n, 200_000);
  t.false(b.roots.accepts(tree.root, 200_000), 'only maxRoots roots are kept');
  t.deepEqual(b.roots.accepted(200_000), [2n, 1n]);
});

test('key possession: the expected commitment only (WRONG_COMMITMENT)', async (t) => {
  const b = book();
  const n = bytes(32);
  t.throws(() => b.issue('keyPossession', { handshakeHash: hhA, nonce: n, now: 0 }), { code: 'ARGUMENT' }, 'a commitment is needed');
  b.issue('keyPossession', { handshakeHash: hhA, nonce: n, now: 0, commitment: commitmentOf(others[0]!) });
  t.is(await code(b.check({ nonce: n, proof: honest('keyPossession', hhA, n) }, { handshakeHash: hhA, now: 1 })), 'WRONG_COMMITMENT');
  const m = bytes(32);
  const issued = b.issue('keyPossession', { handshakeHash: hhA, nonce: m, now: 0, commitment: commitmentOf(secret) });
  const ok = await b.check({ nonce: m, proof: honest('keyPossession', hhA, m) }, { handshakeHash: hhA, now: 1 });
  t.is(ok.commitment, commitmentOf(secret));
  t.is(ok.nullifier, responseOf(secret, issued.challenge));
});

test('malformed and tampered answers: MALFORMED, BAD_PROOF', async (t) => {
  const b = book();
  const ask = async (make: (good: Uint8Array, nonce: Uint8Array) => Uint8Array): Promise<string> => {
    const n = bytes(32);
    b.issue('membership', { handshakeHash: hhA, nonce: n, now: 0 });
    return code(b.check({ nonce: n, proof: make(honest('membership', hhA, n), n) }, { handshakeHash: hhA, now: 1 }));
  };
  t.is(await ask(() => bytes(200)), 'MALFORMED', 'noise');
  t.is(await ask((good) => good.subarray(0, good.length - 1)), 'MALFORMED', 'truncated');
  t.is(await ask(() => new Uint8Array(0)), 'MALFORMED', 'empty');
  t.is(
    await ask((good) => {
      const r = decodeProofResult(good);
      return encodeProofResult({ proof: r.proof, publicSignals: [...r.publicSignals, 0n] });
    }),
    'MALFORMED',
    'four signals',
  );
  t.is(
    await ask((good) => {
      // The point a negated: still on the curve, so it decodes, but the check fails.
      const r = decodeProofResult(good);
      const P = bn254.fields.Fp.ORDER;
      return encodeProofResult({ proof: { ...r.proof, a: { x: r.proof.a.x, y: P - r.proof.a.y } }, publicSignals: r.publicSignals });
    }),
    'BAD_PROOF',
  );
  t.is(
    await ask((good) => {
      // A proof for other signals (another nullifier) passed off under these.
      const r = decodeProofResult(good);
      return encodeProofResult({ proof: fakeProof([1n, tree.root, r.publicSignals[2]!]), publicSignals: r.publicSignals });
    }),
    'BAD_PROOF',
  );
  t.is(await code(b.check({ nonce: new Uint8Array(31), proof: new Uint8Array(10) }, { handshakeHash: hhA, now: 1 })), 'MALFORMED', 'a short nonce');
});

test('an accepted nullifier is refused under another challenge (REPLAY)', async (t) => {
  const b = book();
  const n1 = bytes(32);
  b.issue('membership', { handshakeHash: hhA, nonce: n1, now: 0 });
  const first = await b.check({ nonce: n1, proof: honest('membership', hhA, n1) }, { handshakeHash: hhA, now: 1 });
  const n2 = bytes(32);
  const issued = b.issue('membership', { handshakeHash: hhA, nonce: n2, now: 2 });
  const signals = [first.nullifier, tree.root, issued.challenge];
  t.is(await code(b.check({ nonce: n2, proof: encodeProofResult({ proof: fakeProof(signals), publicSignals: signals }) }, { handshakeHash: hhA, now: 3 })), 'REPLAY');
});

test('outstanding challenges are bounded (BUSY); withdrawn and expired ones free their place', async (t) => {
  const b = book({ maxOutstanding: 2, ttlMs: 1000 });
  const n1 = bytes(32);
  b.issue('membership', { handshakeHash: hhA, nonce: n1, now: 0 });
  b.issue('membership', { handshakeHash: hhA, nonce: bytes(32), now: 0 });
  t.throws(() => b.issue('membership', { handshakeHash: hhA, nonce: bytes(32), now: 0 }), { code: 'BUSY' });
  b.withdraw(n1);
  t.is(b.outstanding(0), 1);
  t.is(await code(b.check({ nonce: n1, proof: honest('membership', hhA, n1) }, { handshakeHash: hhA, now: 1 })), 'REPLAY', 'a withdrawn challenge cannot be answered');
  b.issue('membership', { handshakeHash: hhA, nonce: bytes(32), now: 0 });
  t.throws(() => b.issue('membership', { handshakeHash: hhA, nonce: n1, now: 1 }), { code: 'ARGUMENT' }, 'a nonce is never reused');
  t.notThrows(() => b.issue('membership', { handshakeHash: hhA, nonce: bytes(32), now: 1001 }), 'expired ones no longer count');
  // Forgotten after 2 × ttl: a late replay finds no challenge.
  b.prune(2001);
  t.is(await code(b.check({ nonce: n1, proof: honest('membership', hhA, n1) }, { handshakeHash: hhA, now: 2001 })), 'WRONG_CHALLENGE');
});

test('fuzz: answers of random bytes, nonces and channels are never accepted, and every refusal is typed', async (t) => {
  const b = book({ maxOutstanding: 1 << 16 });
  const n = bytes(32);
  const issued = b.issue('membership', { handshakeHash: hhA, nonce: n, now: 0 });
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), fc.boolean(), fc.boolean(), async (proof, ourNonce, ourChannel) => {
      const c = await code(b.check({ nonce: ourNonce ? n : bytes(32), proof }, { handshakeHash: ourChannel ? hhA : hhB, now: 1 }));
      return ['MALFORMED', 'WRONG_CHALLENGE', 'REPLAY'].includes(c);
    }),
    { seed: 4242, numRuns: 300 },
  );
  t.truthy(issued);
});

test('challengeFor: deterministic, in the field, and different for another channel, nonce or kind', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (hh, nonce) => {
      const c = challengeFor('membership', hh, nonce);
      const other = Uint8Array.from(hh);
      other[0]! ^= 1;
      return (
        c >= 0n &&
        c < FIELD_ORDER &&
        c === challengeFor('membership', Uint8Array.from(hh), Uint8Array.from(nonce)) &&
        c !== challengeFor('membership', other, nonce) &&
        c !== challengeFor('membership', nonce, hh) &&
        c !== challengeFor('keyPossession', hh, nonce)
      );
    }),
    { seed: 7, numRuns: 200 },
  );
  t.throws(() => challengeFor('membership', hhA, new Uint8Array(16)), { code: 'ARGUMENT' });
  t.throws(() => challengeFor('membership', new Uint8Array(0), bytes(32)), { code: 'ARGUMENT' });
  t.throws(() => challengeFor('other' as ProofKind, hhA, bytes(32)), { code: 'ARGUMENT' });
});

test('the board zk secret: derived from the identity key, in the field, one-way and distinct per key', (t) => {
  const k1 = bytes(32);
  const k2 = Uint8Array.from(k1);
  k2[31]! ^= 1;
  const s1 = zkSecretFromIdentity(k1);
  t.is(s1, zkSecretFromIdentity(Uint8Array.from(k1)));
  t.true(s1 > 0n && s1 < FIELD_ORDER);
  t.not(s1, zkSecretFromIdentity(k2));
  t.is(zkCommitmentFromIdentity(k1), poseidon1(s1));
  t.throws(() => zkSecretFromIdentity(new Uint8Array(31)), { code: 'ARGUMENT' });
});
