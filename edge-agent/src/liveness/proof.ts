/**
 * What a responder signs to answer a challenge:
 *   "edge-agent/liveness/v1\0" || challenger peer id (32) || responder peer id (32) || nonce (32)
 * The domain prefix keeps the signature from meaning anything anywhere else;
 * naming both ends means an answer relayed from another peer, or made for
 * another challenger, does not verify under the channel's authenticated key.
 */
import { IdentityError, PEER_ID_LENGTH, SIGNATURE_LENGTH, sign, verify } from '../identity/index.js';
import { NONCE_LENGTH } from './core.js';
import { LivenessError } from './errors.js';
import { requireBytes } from './validate.js';

export const LIVENESS_DOMAIN = 'edge-agent/liveness/v1\0';
const DOMAIN = new TextEncoder().encode(LIVENESS_DOMAIN);

/** The exact bytes signed for one answer. */
export function answerBytes(challengerId: Uint8Array, responderId: Uint8Array, nonce: Uint8Array): Uint8Array {
  requireBytes(challengerId, PEER_ID_LENGTH, 'The challenger peer id');
  requireBytes(responderId, PEER_ID_LENGTH, 'The responder peer id');
  requireBytes(nonce, NONCE_LENGTH, 'The nonce');
  const out = new Uint8Array(DOMAIN.length + 2 * PEER_ID_LENGTH + NONCE_LENGTH);
  out.set(DOMAIN, 0);
  out.set(challengerId, DOMAIN.length);
  out.set(responderId, DOMAIN.length + PEER_ID_LENGTH);
  out.set(nonce, DOMAIN.length + 2 * PEER_ID_LENGTH);
  return out;
}

/** The responder's 64-byte signature over answerBytes(). */
export function signAnswer(secretKey: Uint8Array, challengerId: Uint8Array, responderId: Uint8Array, nonce: Uint8Array): Uint8Array {
  const message = answerBytes(challengerId, responderId, nonce);
  try {
    return sign(secretKey, message);
  } catch (err) {
    if (err instanceof IdentityError) throw new LivenessError('BAD_ARGUMENT', `signAnswer: ${err.message}`, { cause: err });
    throw err;
  }
}

/**
 * True only for a valid signature by `publicKey` over this challenger,
 * responder and nonce. The key and signature come from the network: a
 * malformed one is false, never a throw. The ids and nonce are the caller's own.
 */
export function verifyAnswer(publicKey: Uint8Array, challengerId: Uint8Array, responderId: Uint8Array, nonce: Uint8Array, signature: Uint8Array): boolean {
  const message = answerBytes(challengerId, responderId, nonce);
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) return false;
  return verify(publicKey, message, signature);
}
