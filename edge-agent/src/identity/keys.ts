/**
 * secp256k1 identity keys: 32-byte secret keys, 33-byte compressed public keys,
 * peer id = SHA-256(compressed public key), and 64-byte compact ECDSA signatures
 * over SHA-256(message). Domain separation is the caller's job: prefix the message.
 */
import { createHash, randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { IdentityError } from './errors.js';

export const SECRET_KEY_LENGTH = 32;
export const PUBLIC_KEY_LENGTH = 33;
export const PEER_ID_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;
const KEYGEN_SEED_LENGTH = 48; // what noble's randomSecretKey(seed) demands for secp256k1

// Spelled out rather than relying on noble's defaults: noble hashes the message
// with SHA-256 (prehash), signs deterministically (RFC 6979) and, on verify,
// rejects high-S signatures so that a signature has exactly one valid encoding.
const ECDSA = { prehash: true, lowS: true, format: 'compact' } as const;

export interface KeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** True for a 33-byte compressed encoding of a point on the curve (not the identity). */
export function isValidPublicKey(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === PUBLIC_KEY_LENGTH && secp256k1.utils.isValidPublicKey(value, true);
}

function requireSecretKey(value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== SECRET_KEY_LENGTH || !secp256k1.utils.isValidSecretKey(value)) {
    throw new IdentityError('BAD_SECRET_KEY', `secret key must be ${SECRET_KEY_LENGTH} bytes holding a scalar in [1, n-1]`);
  }
  return value;
}

export function requirePublicKey(value: unknown): Uint8Array {
  if (!isValidPublicKey(value)) {
    throw new IdentityError('BAD_PUBLIC_KEY', `public key must be a ${PUBLIC_KEY_LENGTH}-byte compressed secp256k1 point`);
  }
  return value;
}

/** A fresh random key pair; the caller owns (and should eventually wipe) the secret key. */
export function generateKeyPair(): KeyPair {
  // noble reduces a 48-byte seed mod n (FIPS 186-5 A.2.1), so the scalar is
  // uniform; we draw the seed ourselves to be able to wipe it.
  const seed = randomBytes(KEYGEN_SEED_LENGTH);
  try {
    const secretKey = secp256k1.utils.randomSecretKey(seed);
    return { secretKey, publicKey: secp256k1.getPublicKey(secretKey, true) };
  } finally {
    seed.fill(0);
  }
}

export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  return secp256k1.getPublicKey(requireSecretKey(secretKey), true);
}

export function peerIdOf(publicKey: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(requirePublicKey(publicKey)).digest());
}

/** 64-byte compact low-S ECDSA signature over SHA-256(message). */
export function sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  requireSecretKey(secretKey);
  if (!(message instanceof Uint8Array)) throw new IdentityError('BAD_ARGUMENT', 'sign: message must be a Uint8Array');
  return secp256k1.sign(message, secretKey, ECDSA);
}

/**
 * True only for a valid low-S signature of `message` by `publicKey`. A malformed
 * key or signature (they come off the wire) is simply invalid: false, never a throw.
 */
export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!(message instanceof Uint8Array)) throw new IdentityError('BAD_ARGUMENT', 'verify: message must be a Uint8Array');
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) return false;
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) return false;
  try {
    return secp256k1.verify(signature, message, publicKey, ECDSA);
  } catch {
    return false;
  }
}
