/**
 * secp256k1 identity keys: 32-byte secret keys, 33-byte compressed public keys,
 * peer id = SHA-256(compressed public key), and 64-byte compact ECDSA signatures
 * over SHA-256(message). Domain separation is the caller's job: prefix the message.
 *
 * Signing stays on noble (deterministic RFC 6979, low-S; callers rely on the
 * determinism). Verification runs through OpenSSL (node:crypto), several times
 * faster than noble's, with the range and low-S checks done here so that it
 * accepts exactly the signatures noble's verify accepts.
 */
import { type KeyObject, createHash, createPublicKey, randomBytes, verify as opensslVerify } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { IdentityError } from './errors.js';

export const SECRET_KEY_LENGTH = 32;
export const PUBLIC_KEY_LENGTH = 33;
export const PEER_ID_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;
const KEYGEN_SEED_LENGTH = 48; // what noble's randomSecretKey(seed) demands for secp256k1

// Spelled out rather than relying on noble's defaults: noble hashes the message
// with SHA-256 (prehash), signs deterministically (RFC 6979) and emits low-S only,
// so that a signature has exactly one valid encoding (verify refuses high S).
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

// secp256k1 group order n and floor(n/2), big-endian, for the range and low-S checks.
const ORDER = Buffer.from('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141', 'hex');
const HALF_ORDER = Buffer.from('7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0', 'hex');
const ZERO_SCALAR = Buffer.alloc(32);

/** r in [1, n-1] and s in [1, floor(n/2)]: exactly the compact signatures noble's low-S verify admits. */
function inRangeLowS(signature: Uint8Array): boolean {
  const r = signature.subarray(0, 32);
  const s = signature.subarray(32, 64);
  return (
    Buffer.compare(r, ZERO_SCALAR) > 0 &&
    Buffer.compare(r, ORDER) < 0 &&
    Buffer.compare(s, ZERO_SCALAR) > 0 &&
    Buffer.compare(s, HALF_ORDER) <= 0
  );
}

// SubjectPublicKeyInfo DER for id-ecPublicKey on secp256k1 with a 33-byte compressed point; the point follows.
const SPKI_PREFIX = Buffer.from('3036301006072a8648ce3d020106052b8104000a032200', 'hex');

// Parsed keys, most recently used last. createPublicKey costs about half a verification,
// and a board verifies the same few peers over and over. Bounded, so a flood of distinct
// keys only evicts; invalid keys are never stored (they cost a failed parse each time).
const KEY_CACHE_LIMIT = 256;
const keyCache = new Map<string, KeyObject>();

function keyObjectOf(publicKey: Uint8Array): KeyObject | undefined {
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('hex');
  const cached = keyCache.get(id);
  if (cached !== undefined) {
    keyCache.delete(id); // refresh its place: evict the least recently used, not a hot peer
    keyCache.set(id, cached);
    return cached;
  }
  // Only 02/03 prefixes are compressed points; OpenSSL also refuses the rest, this just skips the throw.
  if (publicKey[0] !== 2 && publicKey[0] !== 3) return undefined;
  let key: KeyObject;
  try {
    // OpenSSL refuses x >= p and x with no point on the curve, as noble does.
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
  if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.delete(keyCache.keys().next().value as string);
  keyCache.set(id, key);
  return key;
}

/**
 * True only for a valid low-S signature of `message` by `publicKey`. A malformed
 * key or signature (they come off the wire) is simply invalid: false, never a throw.
 */
export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!(message instanceof Uint8Array)) throw new IdentityError('BAD_ARGUMENT', 'verify: message must be a Uint8Array');
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) return false;
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) return false;
  if (!inRangeLowS(signature)) return false; // before OpenSSL, which would accept the high-S twin
  const key = keyObjectOf(publicKey);
  if (key === undefined) return false;
  try {
    return opensslVerify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}
