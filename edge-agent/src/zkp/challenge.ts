/**
 * The challenge a proof answers, bound to one secure channel:
 *   challenge = int(SHA-512("edge-agent/zkp/challenge/v1\0" ‖ kind ‖ 0 ‖ len(h) ‖ h ‖ nonce)) mod r
 * where h is the channel's handshake hash (BOLT 8's final h, the same at both ends and unique
 * to the session) and nonce the verifier's 32 fresh random bytes. Both ends compute it: the
 * verifier sends only the nonce, and the prover derives the challenge from ITS OWN channel's
 * hash. A man in the middle who relays a verifier's nonce to an honest board over another
 * channel gets a proof for another challenge, which the verifier refuses (WRONG_CHALLENGE).
 * SHA-512 gives 512 bits, so the reduction mod r is unbiased to 2^-258.
 */
import { sha512 } from '@noble/hashes/sha2.js';
import { ZkpError } from './errors.js';
import { FIELD_ORDER } from './field.js';

export const CHALLENGE_DOMAIN = 'edge-agent/zkp/challenge/v1\0';
/** The verifier's nonce: 32 random bytes. */
export const NONCE_BYTES = 32;
/** Handshake hashes are 32 bytes (SHA-256); longer ones are refused rather than truncated. */
const MAX_HANDSHAKE_HASH = 64;

/** The two statements a board can be asked to prove. */
export type ProofKind = 'membership' | 'keyPossession';
export const PROOF_KINDS: readonly ProofKind[] = ['membership', 'keyPossession'];

export function assertProofKind(kind: unknown): ProofKind {
  if (kind !== 'membership' && kind !== 'keyPossession') throw new ZkpError('ARGUMENT', `unknown proof kind ${String(kind)}`);
  return kind;
}

function assertBytes(b: unknown, min: number, max: number, what: string): Uint8Array {
  if (!(b instanceof Uint8Array) || b.length < min || b.length > max) {
    throw new ZkpError('ARGUMENT', `${what} must be ${min === max ? `${min}` : `${min} to ${max}`} bytes`);
  }
  return b;
}

/** The field element a proof for this channel and nonce must carry as its public `challenge`. */
export function challengeFor(kind: ProofKind, handshakeHash: Uint8Array, nonce: Uint8Array): bigint {
  assertProofKind(kind);
  const h = assertBytes(handshakeHash, 1, MAX_HANDSHAKE_HASH, 'the handshake hash');
  const n = assertBytes(nonce, NONCE_BYTES, NONCE_BYTES, 'the nonce');
  const enc = new TextEncoder();
  const domain = enc.encode(CHALLENGE_DOMAIN);
  const k = enc.encode(kind);
  const msg = new Uint8Array(domain.length + k.length + 2 + h.length + n.length);
  let at = 0;
  for (const part of [domain, k, Uint8Array.of(0, h.length), h, n]) {
    msg.set(part, at);
    at += part.length;
  }
  let v = 0n;
  for (const byte of sha512(msg)) v = (v << 8n) | BigInt(byte);
  return v % FIELD_ORDER;
}
