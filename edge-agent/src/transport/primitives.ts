/**
 * The three BOLT 8 primitives (SHA-256, HKDF, ECDH) plus ChaCha20-Poly1305 with
 * the Noise nonce layout, and the key checks shared by the handshake and the
 * framing. Internal: not re-exported from index.ts.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { openSmall, sealSmall } from './chacha-poly.js';
import { TransportError } from './errors.js';

export const KEY_SIZE = 32;
export const PUBLIC_KEY_SIZE = 33;
export const TAG_SIZE = 16;
export const NONCE_SIZE = 12;

const AEAD = 'chacha20-poly1305';
export const EMPTY = new Uint8Array(0);

/**
 * Up to this many bytes of plaintext plus associated data, the TypeScript
 * ChaCha20-Poly1305 is faster than setting up a node:crypto cipher (measured
 * crossover about 200 bytes): length prefixes, pings, handshake acts.
 */
const SMALL_AEAD = 128;

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
  if (plaintext.length + ad.length <= SMALL_AEAD) {
    const out = Buffer.allocUnsafe(plaintext.length + TAG_SIZE);
    sealSmall(key, nonce, ad, plaintext, out, 0);
    return [out.subarray(0, plaintext.length), out.subarray(plaintext.length)];
  }
  const cipher = createCipheriv(AEAD, key, nonce, { authTagLength: TAG_SIZE });
  if (ad.length > 0) cipher.setAAD(ad, { plaintextLength: plaintext.length });
  const ciphertext = cipher.update(plaintext);
  cipher.final();
  return [ciphertext, cipher.getAuthTag()];
}

/**
 * Encrypts the concatenation of `parts` without joining them first: one
 * ciphertext per non-empty part, then the tag. ChaCha20 is a stream cipher, so
 * the pieces equal the ciphertext of the joined plaintext, cut the same way.
 */
export function sealVector(key: Uint8Array, nonce: Uint8Array, parts: readonly Uint8Array[]): Buffer[] {
  let length = 0;
  for (const part of parts) length += part.length;
  if (length <= SMALL_AEAD) {
    const [ciphertext, tag] = sealDetached(key, nonce, EMPTY, Buffer.concat(parts, length));
    return length === 0 ? [tag] : [ciphertext, tag];
  }
  const cipher = createCipheriv(AEAD, key, nonce, { authTagLength: TAG_SIZE });
  const out: Buffer[] = [];
  for (const part of parts) {
    if (part.length > 0) out.push(cipher.update(part));
  }
  cipher.final();
  out.push(cipher.getAuthTag());
  return out;
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
  if (plaintext.length + ad.length <= SMALL_AEAD) {
    sealSmall(key, nonce, ad, plaintext, out, offset);
    return;
  }
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
  if (ciphertext.length + ad.length <= SMALL_AEAD) return openSmall(key, nonce, ad, ciphertext, tag);
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

/** One ciphertext decrypted piece by piece as it arrives; verify() checks the tag at the end. */
export interface OpeningStream {
  /** Plaintext of this piece: unauthenticated until verify() returned true. */
  update(ciphertext: Uint8Array): Buffer;
  verify(tag: Uint8Array): boolean;
}

export function openStream(key: Uint8Array, nonce: Uint8Array): OpeningStream {
  const decipher = createDecipheriv(AEAD, key, nonce, { authTagLength: TAG_SIZE });
  return {
    update: (ciphertext) => decipher.update(ciphertext),
    verify(tag) {
      decipher.setAuthTag(tag);
      try {
        decipher.final();
        return true;
      } catch {
        return false;
      }
    },
  };
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
