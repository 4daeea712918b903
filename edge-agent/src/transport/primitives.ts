/**
 * The three BOLT 8 primitives (SHA-256, HKDF, ECDH) plus ChaCha20-Poly1305 with
 * the Noise nonce layout, and the key checks shared by the handshake and the
 * framing. Internal: not re-exported from index.ts.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { TransportError } from './errors.js';

export const KEY_SIZE = 32;
export const PUBLIC_KEY_SIZE = 33;
export const TAG_SIZE = 16;
export const NONCE_SIZE = 12;

const AEAD = 'chacha20-poly1305';
export const EMPTY = new Uint8Array(0);

export function sha256(a: Uint8Array, b?: Uint8Array): Buffer {
  const hash = createHash('sha256').update(a);
  if (b !== undefined) hash.update(b);
  return hash.digest();
}

/**
 * HKDF-SHA256(salt = ck, ikm, info = "") expanded to 64 bytes and split in two.
 * Both halves view one fresh buffer, so the caller owns (and wipes) them.
 */
export function hkdf(chainingKey: Uint8Array, ikm: Uint8Array): [Buffer, Buffer] {
  const out = Buffer.from(hkdfSync('sha256', ikm, chainingKey, EMPTY, 2 * KEY_SIZE));
  return [out.subarray(0, KEY_SIZE), out.subarray(KEY_SIZE)];
}

/** BOLT 8 ECDH: SHA-256 of the compressed shared point. Inputs must be pre-validated. */
export function ecdh(secretKey: Uint8Array, publicKey: Uint8Array): Buffer {
  const point = secp256k1.getSharedSecret(secretKey, publicKey, true);
  try {
    return sha256(point);
  } finally {
    point.fill(0);
  }
}

export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  return secp256k1.getPublicKey(secretKey, true);
}

export function randomSecretKey(): Uint8Array {
  return secp256k1.utils.randomSecretKey();
}

/**
 * Noise nonce: 32 zero bits then the counter as little-endian 64 bits. Counters
 * here never reach 2^32 (rotation resets them at 1000), so only bytes 4..7 are
 * ever non-zero and bytes 0..3 and 8..11 stay as allocated (zero).
 */
export function writeNonce(nonce: Buffer, counter: number): void {
  nonce.writeUInt32LE(counter, 4);
}

/**
 * Encrypts `plaintext`; returns the ciphertext and tag as node:crypto produced
 * them (node cannot encrypt into a caller buffer, so this is the copy-free form).
 */
export function sealDetached(
  key: Uint8Array,
  nonce: Uint8Array,
  ad: Uint8Array,
  plaintext: Uint8Array,
): [Buffer, Buffer] {
  const cipher = createCipheriv(AEAD, key, nonce, { authTagLength: TAG_SIZE });
  if (ad.length > 0) cipher.setAAD(ad, { plaintextLength: plaintext.length });
  const ciphertext = cipher.update(plaintext);
  cipher.final();
  return [ciphertext, cipher.getAuthTag()];
}

/** Encrypts `plaintext` into `out` at `offset` as ciphertext || tag. */
export function seal(
  key: Uint8Array,
  nonce: Uint8Array,
  ad: Uint8Array,
  plaintext: Uint8Array,
  out: Uint8Array,
  offset: number,
): void {
  const [ciphertext, tag] = sealDetached(key, nonce, ad, plaintext);
  out.set(ciphertext, offset);
  out.set(tag, offset + plaintext.length);
}

/**
 * Decrypts and verifies; returns null when the tag does not verify. The
 * unverified plaintext is wiped before returning null so it never escapes.
 */
export function open(
  key: Uint8Array,
  nonce: Uint8Array,
  ad: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
): Buffer | null {
  const decipher = createDecipheriv(AEAD, key, nonce, { authTagLength: TAG_SIZE });
  if (ad.length > 0) decipher.setAAD(ad, { plaintextLength: ciphertext.length });
  decipher.setAuthTag(tag);
  const plaintext = decipher.update(ciphertext);
  try {
    decipher.final();
  } catch {
    plaintext.fill(0);
    return null;
  }
  return plaintext;
}

export function requireBytes(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TransportError('BAD_ARGUMENT', `${what} must be a Uint8Array.`);
  }
  return value;
}

/** Validates a 32-byte secp256k1 secret key and returns a private copy to wipe later. */
export function requireSecretKey(value: unknown, what: string): Buffer {
  const bytes = requireBytes(value, what);
  if (!secp256k1.utils.isValidSecretKey(bytes)) {
    throw new TransportError('BAD_KEY', `${what} must be a 32-byte secp256k1 secret key in range.`);
  }
  return Buffer.from(bytes);
}

/** Validates a 33-byte compressed secp256k1 point and returns a private copy. */
export function requirePublicKey(value: unknown, what: string): Uint8Array {
  const bytes = requireBytes(value, what);
  if (bytes.length !== PUBLIC_KEY_SIZE || !secp256k1.utils.isValidPublicKey(bytes, true)) {
    throw new TransportError('BAD_KEY', `${what} must be a 33-byte compressed secp256k1 point.`);
  }
  return Uint8Array.from(bytes);
}

/** Validates a 32-byte symmetric key and returns a private copy to wipe later. */
export function requireSymmetricKey(value: unknown, what: string): Buffer {
  const bytes = requireBytes(value, what);
  if (bytes.length !== KEY_SIZE) {
    throw new TransportError('BAD_KEY', `${what} must be exactly ${KEY_SIZE} bytes.`);
  }
  return Buffer.from(bytes);
}
