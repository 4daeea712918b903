/**
 * Enrollment = CSR + key-possession proof bound to the CSR. The checks run against a stub
 * ProofChecker (no circuits needed), and once end to end with the real Groth16 prover and
 * verifier (the circuits build, made by test/zkp/build.ts when missing; skipped with
 * EDGE_AGENT_CIRCUITS=off).
 */
import test from 'ava';
import { bn254 } from '@noble/curves/bn254.js';
import {
  PkiError,
  checkEnrollment,
  checkProposedTime,
  checkSigningRequest,
  createCsr,
  decodeEnrollmentRequest,
  encodeEnrollmentRequest,
  enrollOp,
  enrollmentChallenge,
  enrollmentProofInput,
  parseCaOp,
  type EnrollmentRequest,
  type ProofChecker,
} from '../../src/pki/index.js';
import {
  FIELD_ORDER,
  Verifier,
  circuitArtifacts,
  commitmentOf,
  createProver,
  encodeProofResult,
  responseOf,
  type Groth16Proof,
} from '../../src/zkp/index.js';
import { ensureCircuits, BUILD_TIMEOUT_MS } from '../zkp/build.js';
import { ed25519Key, p256Key, peerIdOf } from './fixtures.js';

const peerId = peerIdOf('enroll');
const secret = 123456789n;
const commitment = commitmentOf(secret);
const commitmentOfPeer = (p: Uint8Array) => (Buffer.compare(p, peerId) === 0 ? commitment : undefined);
const csr = createCsr({ privateKey: p256Key('enroll'), subject: { commonName: 'enroll' }, peerId }).der;

const g1 = (k: bigint) => bn254.G1.Point.BASE.multiply(k).toAffine();
const g2 = (k: bigint) => {
  const { x, y } = bn254.G2.Point.BASE.multiply(k).toAffine();
  return { x: [x.c0, x.c1] as const, y: [y.c0, y.c1] as const };
};
/** A well-formed (not valid) proof: the stub checker decides. */
const fakeProof: Groth16Proof = { a: g1(2n), b: g2(3n), c: g1(5n) };

/** Accepts exactly the signals an honest board would produce; counts calls. */
class StubChecker implements ProofChecker {
  calls = 0;
  async verify(signals: readonly bigint[]): Promise<boolean> {
    this.calls++;
    return signals[0] === responseOf(secret, signals[2]!);
  }
}

const requestWith = (signals: bigint[], c = csr): EnrollmentRequest => ({
  peerId,
  requestId: new TextEncoder().encode('req-1'),
  csr: c,
  proof: encodeProofResult({ proof: fakeProof, publicSignals: signals }),
});

const honestSignals = (c = csr) => {
  const ch = enrollmentChallenge(c);
  return [responseOf(secret, ch), commitment, ch];
};

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return undefined;
  } catch (err) {
    return err instanceof PkiError ? err.code : `not a PkiError: ${String(err)}`;
  }
};

test('the challenge is a field element bound to the exact CSR bytes', (t) => {
  const ch = enrollmentChallenge(csr);
  t.true(ch >= 0n && ch < FIELD_ORDER);
  const other = createCsr({ privateKey: ed25519Key('enroll-2'), subject: { commonName: 'enroll' }, peerId }).der;
  t.not(enrollmentChallenge(other), ch);
  t.deepEqual(enrollmentProofInput(secret, csr), { secret, commitment, challenge: ch });
  t.is(t.throws(() => enrollmentChallenge(new Uint8Array(0)), { instanceOf: PkiError })!.code, 'ARGUMENT');
});

test('an honest request passes (stub checker) and becomes an enroll op', async (t) => {
  const checker = new StubChecker();
  const req = decodeEnrollmentRequest(encodeEnrollmentRequest(requestWith(honestSignals())));
  const checked = await checkEnrollment(req, { checker, commitmentOf: commitmentOfPeer });
  t.is(checker.calls, 1);
  t.is(checked.csr.subjectKey.kind, 'p256');
  const op = parseCaOp(enrollOp(checked, 1_000_000));
  t.like(op, { op: 'enroll', time: 1_000_000 });
  const tbs = Uint8Array.of(1, 2, 3);
  await t.notThrowsAsync(checkSigningRequest({ tbs, assignedTbs: Uint8Array.of(1, 2, 3), request: req, check: { checker, commitmentOf: commitmentOfPeer } }));
  t.is(await codeOf(checkSigningRequest({ tbs, assignedTbs: Uint8Array.of(1, 2, 4), request: req, check: { checker, commitmentOf: commitmentOfPeer } })), 'MISMATCH');
});

test('refusals: another CSR\'s challenge, another commitment, unknown board, a false proof, a bad CSR', async (t) => {
  const checker = new StubChecker();
  const check = { checker, commitmentOf: commitmentOfPeer };
  const other = createCsr({ privateKey: ed25519Key('enroll-3'), subject: { commonName: 'x' }, peerId }).der;
  // A proof made for another CSR, replayed with this one.
  t.is(await codeOf(checkEnrollment(requestWith(honestSignals(other)), check)), 'BAD_PROOF');
  const [r, , ch] = honestSignals();
  t.is(await codeOf(checkEnrollment(requestWith([r!, commitmentOf(7n), ch!]), check)), 'BAD_PROOF');
  t.is(await codeOf(checkEnrollment(requestWith([r! + 1n, commitment, ch!]), check)), 'BAD_PROOF');
  t.is(await codeOf(checkEnrollment({ ...requestWith(honestSignals()), peerId: peerIdOf('stranger') }, check)), 'UNKNOWN_BOARD');
  t.is(await codeOf(checkEnrollment({ ...requestWith(honestSignals()), proof: Uint8Array.of(1, 2) }, check)), 'BAD_PROOF');
  const broken = new Uint8Array(csr);
  broken[broken.length - 2]! ^= 0x10;
  const code = await codeOf(checkEnrollment(requestWith(honestSignals(broken), broken), check));
  t.true(code === 'BAD_SIGNATURE' || code === 'MALFORMED', code);
  t.is(await codeOf(checkEnrollment(requestWith(honestSignals(), Uint8Array.of(0x30, 0x00)), check)), 'MALFORMED');
  t.is(t.throws(() => decodeEnrollmentRequest(Uint8Array.of(0xa1, 0x61, 0x61, 0x01)), { instanceOf: PkiError })!.code, 'MALFORMED');
  t.is(t.throws(() => checkProposedTime(10_000, 0, 5_000), { instanceOf: PkiError })!.code, 'EXPIRED');
  t.notThrows(() => checkProposedTime(10_000, 6_000, 5_000));
});

const zkTest = (process.env['EDGE_AGENT_CIRCUITS'] ?? '').toLowerCase() === 'off' ? test.skip : test;

zkTest('end to end with the real key-possession circuit: the proof for this CSR passes, a replay onto another CSR fails', async (t) => {
  t.timeout(BUILD_TIMEOUT_MS);
  await ensureCircuits();
  const kp = circuitArtifacts('keyPossession');
  const prover = await createProver(kp);
  const verifier = await Verifier.fromFile(kp.vkey);
  try {
    const result = await prover.prove(enrollmentProofInput(secret, csr));
    const req: EnrollmentRequest = { peerId, requestId: Uint8Array.of(9), csr, proof: encodeProofResult(result) };
    const checked = await checkEnrollment(req, { checker: verifier, commitmentOf: commitmentOfPeer });
    t.is(checked.challenge, enrollmentChallenge(csr));
    const other = createCsr({ privateKey: ed25519Key('enroll-4'), subject: { commonName: 'x' }, peerId }).der;
    t.is(await codeOf(checkEnrollment({ ...req, csr: other }, { checker: verifier, commitmentOf: commitmentOfPeer })), 'BAD_PROOF');
    // The right signals for the other CSR but this proof: the pairing check itself refuses.
    const ch2 = enrollmentChallenge(other);
    const lying = encodeProofResult({ proof: result.proof, publicSignals: [responseOf(secret, ch2), commitment, ch2] });
    t.is(await codeOf(checkEnrollment({ ...req, csr: other, proof: lying }, { checker: verifier, commitmentOf: commitmentOfPeer })), 'BAD_PROOF');
  } finally {
    await Promise.all([prover.close(), verifier.close()]);
  }
});
