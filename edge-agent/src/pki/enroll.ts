/**
 * Enrollment checks, without I/O. A board asks for a certificate with
 *   { peerId, requestId, csr (DER), proof: zkp key-possession ProofResult (zkp proof codec) }
 * where the proof answers the challenge derived from the CSR itself:
 *   challenge = int(SHA-512("edge-agent/pki/enroll/v1\0" ‖ csr DER)) mod r
 * (SHA-512 as zkp/challenge.ts: 512 bits make the reduction mod r unbiased.) The proof thus
 * shows that the requester holds the secret behind the board's published zk commitment AND that
 * it made this very CSR: a proof cannot be lifted onto another CSR (another key).
 *
 * The Groth16 check is asynchronous (snarkjs), so it cannot run inside the replicated state
 * machine's synchronous execute(). Each committee member runs checkEnrollment itself: the
 * proposer before it submits the `enroll` op to PBFT, and every member again before it
 * contributes a signature share (checkSigningRequest), so at least t honest members verified it.
 * The check sits behind ProofChecker so tests and tools can run without the circuits build; the
 * zkp room's Verifier satisfies the interface as is.
 */
import { sha512 } from '@noble/hashes/sha2.js';
import { FIELD_ORDER, decodeProofResult, keyPossessionInput, type CircuitInput, type Groth16Proof, type ProofResult } from '../zkp/index.js';
import { decodeCanonical, encodeCanonical } from '../wire/index.js';
import { MAX_REQUEST_ID_BYTES, encodeCaOp, type CaOp } from './ca-ops.js';
import { MAX_CSR_BYTES, parseCsr, type ParsedCsr } from './csr.js';
import { equalBytes } from './der.js';
import { PkiError, argument } from './errors.js';

export const ENROLL_CHALLENGE_DOMAIN = 'edge-agent/pki/enroll/v1\0';
/** Ample for the proof codec's 249 bytes; anything bigger is refused before decoding. */
const MAX_PROOF_BYTES = 1024;

/** What verifies a key-possession proof; zkp's Verifier (key_possession vkey) is one. */
export interface ProofChecker {
  verify(publicSignals: readonly bigint[], proof: Groth16Proof): Promise<boolean>;
}

export interface EnrollmentRequest {
  readonly peerId: Uint8Array;
  readonly requestId: Uint8Array;
  readonly csr: Uint8Array;
  /** encodeProofResult of the key-possession proof: signals [response, commitment, challenge]. */
  readonly proof: Uint8Array;
}

/** The field element the proof's public `challenge` must be for this CSR. */
export function enrollmentChallenge(csrDer: Uint8Array): bigint {
  if (!(csrDer instanceof Uint8Array) || csrDer.length === 0 || csrDer.length > MAX_CSR_BYTES) argument(`csrDer must be 1 to ${MAX_CSR_BYTES} bytes`);
  const h = sha512(Buffer.concat([Buffer.from(ENROLL_CHALLENGE_DOMAIN, 'utf8'), csrDer]));
  return BigInt(`0x${Buffer.from(h).toString('hex')}`) % FIELD_ORDER;
}

/** The board's side: the circuit input proving possession of `secret`, bound to this CSR. */
export function enrollmentProofInput(secret: bigint, csrDer: Uint8Array): CircuitInput {
  return keyPossessionInput(secret, enrollmentChallenge(csrDer));
}

function checkRequestShape(r: EnrollmentRequest): void {
  if (typeof r !== 'object' || r === null) argument('an enrollment request must be an object');
  if (!(r.peerId instanceof Uint8Array) || r.peerId.length !== 32) argument('peerId must be 32 bytes');
  if (!(r.requestId instanceof Uint8Array) || r.requestId.length === 0 || r.requestId.length > MAX_REQUEST_ID_BYTES) argument('requestId must be 1 to 64 bytes');
  if (!(r.csr instanceof Uint8Array) || r.csr.length === 0 || r.csr.length > MAX_CSR_BYTES) argument(`csr must be 1 to ${MAX_CSR_BYTES} bytes`);
  if (!(r.proof instanceof Uint8Array) || r.proof.length === 0 || r.proof.length > MAX_PROOF_BYTES) argument('proof must be 1 to 1024 bytes');
}

export function encodeEnrollmentRequest(r: EnrollmentRequest): Uint8Array {
  checkRequestShape(r);
  return encodeCanonical({ peerId: r.peerId, requestId: r.requestId, csr: r.csr, proof: r.proof });
}

/** Strict: canonical CBOR, exactly these four keys, bounded; MALFORMED otherwise. */
export function decodeEnrollmentRequest(bytes: Uint8Array): EnrollmentRequest {
  let v: unknown;
  try {
    v = decodeCanonical(bytes, { maxBytes: MAX_CSR_BYTES + MAX_PROOF_BYTES + 256, maxDepth: 1, maxItems: 4, maxStringBytes: MAX_CSR_BYTES });
  } catch (err) {
    throw new PkiError('MALFORMED', 'the enrollment request does not decode', { cause: err });
  }
  const o = v as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || Array.isArray(o) || o instanceof Uint8Array || Object.keys(o).length !== 4) throw new PkiError('MALFORMED', 'an enrollment request is a map of four keys');
  const r = { peerId: o['peerId'], requestId: o['requestId'], csr: o['csr'], proof: o['proof'] } as EnrollmentRequest;
  try {
    checkRequestShape(r);
  } catch (err) {
    throw new PkiError('MALFORMED', `the enrollment request is out of shape (${(err as Error).message})`, { cause: err });
  }
  return r;
}

export interface EnrollmentCheck {
  readonly checker: ProofChecker;
  /** The board's published zk commitment (from the fleet inventory), or undefined if unknown. */
  readonly commitmentOf: (peerId: Uint8Array) => bigint | undefined;
}

export interface CheckedEnrollment {
  readonly request: EnrollmentRequest;
  readonly csr: ParsedCsr;
  readonly challenge: bigint;
}

/**
 * Everything a member checks before it proposes or signs: the CSR (structure, algorithm,
 * self-signature), the board's commitment known, the proof's signals (commitment, CSR-bound
 * challenge) and the proof. Throws PkiError: MALFORMED / UNSUPPORTED_ALGORITHM / BAD_SIGNATURE
 * for the CSR, UNKNOWN_BOARD, BAD_PROOF.
 */
export async function checkEnrollment(request: EnrollmentRequest, check: EnrollmentCheck): Promise<CheckedEnrollment> {
  checkRequestShape(request);
  if (typeof check !== 'object' || check === null || typeof check.checker?.verify !== 'function' || typeof check.commitmentOf !== 'function') {
    argument('check needs a checker and a commitmentOf function');
  }
  const csr = parseCsr(request.csr);
  const commitment = check.commitmentOf(request.peerId);
  if (commitment === undefined) throw new PkiError('UNKNOWN_BOARD', 'no zk commitment is known for this peer id');
  let result: ProofResult;
  try {
    result = decodeProofResult(request.proof);
  } catch (err) {
    throw new PkiError('BAD_PROOF', 'the proof does not decode', { cause: err });
  }
  const challenge = enrollmentChallenge(request.csr);
  const [, c, ch] = result.publicSignals;
  if (result.publicSignals.length !== 3) throw new PkiError('BAD_PROOF', 'a key-possession proof has three public signals');
  if (c !== commitment) throw new PkiError('BAD_PROOF', 'the proof is for another commitment than this board\'s');
  if (ch !== challenge) throw new PkiError('BAD_PROOF', 'the proof answers another challenge than this CSR\'s');
  let ok: boolean;
  try {
    ok = await check.checker.verify(result.publicSignals, result.proof);
  } catch (err) {
    throw new PkiError('BAD_PROOF', `the proof is not a candidate (${(err as Error).message})`, { cause: err });
  }
  if (!ok) throw new PkiError('BAD_PROOF', 'the key-possession proof does not verify');
  return { request, csr, challenge };
}

/** The `enroll` op a proposer submits for a checked request, stamped with its clock. */
export function enrollOp(checked: CheckedEnrollment, time: number): Uint8Array {
  const op: CaOp = { op: 'enroll', requestId: checked.request.requestId, peerId: checked.request.peerId, csr: checked.request.csr, time };
  return encodeCaOp(op);
}

/**
 * A member's check of the proposer's time before it accepts an op into PBFT: within maxSkewMs of
 * its own clock. (The state machine itself only keeps time monotonic; it has no clock.)
 */
export function checkProposedTime(time: number, localNow: number, maxSkewMs: number): void {
  for (const [v, w] of [[time, 'time'], [localNow, 'localNow'], [maxSkewMs, 'maxSkewMs']] as const) {
    if (!Number.isSafeInteger(v) || v < 0) argument(`${w} must be a non-negative integer of milliseconds`);
  }
  if (Math.abs(time - localNow) > maxSkewMs) throw new PkiError('EXPIRED', `the proposed time is ${time - localNow} ms from this member's clock (limit ${maxSkewMs})`);
}

/**
 * A member's check before it contributes its signature share: the TBS it is asked to sign is the
 * one its own replica assigned to the serial, and the enrollment behind it verifies.
 */
export async function checkSigningRequest(o: {
  readonly tbs: Uint8Array;
  readonly assignedTbs: Uint8Array | undefined;
  readonly request: EnrollmentRequest;
  readonly check: EnrollmentCheck;
}): Promise<CheckedEnrollment> {
  if (typeof o !== 'object' || o === null || !(o.tbs instanceof Uint8Array)) argument('checkSigningRequest needs tbs bytes');
  if (o.assignedTbs === undefined || !equalBytes(o.tbs, o.assignedTbs)) throw new PkiError('MISMATCH', 'the TBS to sign is not the one this replica assigned');
  return checkEnrollment(o.request, o.check);
}
