/**
 * The few primitives the room builds on, all from node:crypto (OpenSSL):
 * AES-256-GCM with a random 96-bit nonce per message, SHA-256, HKDF-SHA256
 * and ephemeral-static ECDH on secp256k1. Sealed bytes are nonce || ciphertext || tag.
 */
import { createCipheriv, createDecipheriv, createECDH, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { SealedError } from './errors.js';

export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const HASH_BYTES = 32;
/** Sealed bytes carry this much beyond their plaintext. */
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return new Uint8Array(h.digest());
}

/** A fresh random key (or salt) of `n` bytes; the caller wipes it. */
export function freshBytes(n: number): Uint8Array {
  return new Uint8Array(randomBytes(n));
}

/** Overwrites secrets once they are no longer needed (keys, shared secrets, plaintext copies). */
export function wipe(...buffers: (Uint8Array | undefined)[]): void {
  for (const b of buffers) b?.fill(0);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** AES-256-GCM under `key` with a fresh random nonce: nonce || ciphertext || tag. */
export function seal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const out = new Uint8Array(NONCE_BYTES + plaintext.length + TAG_BYTES);
  out.set(nonce, 0);
  const body = cipher.update(plaintext);
  out.set(body, NONCE_BYTES);
  const tail = cipher.final(); // empty for GCM, kept for form
  out.set(tail, NONCE_BYTES + body.length);
  out.set(cipher.getAuthTag(), NONCE_BYTES + plaintext.length);
  return out;
}

/** Opens what seal() made; any change to the bytes, the key or the aad throws TAMPERED. */
export function open(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array, what: string): Uint8Array {
  if (sealed.length < SEAL_OVERHEAD) throw new SealedError('TAMPERED', `${what}: ${sealed.length} bytes is shorter than nonce and tag`);
  const nonce = sealed.subarray(0, NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const body = decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES));
  try {
    decipher.final();
  } catch {
    body.fill(0); // unauthenticated plaintext is never handed out
    throw new SealedError('TAMPERED', `${what}: authentication failed (tampered bytes, wrong key or wrong context)`);
  }
  const out = new Uint8Array(body);
  body.fill(0);
  return out;
}

/** HKDF-SHA256 to a 32-byte key. */
export function hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', ikm, salt, info, KEY_BYTES));
}

/** A fresh ephemeral key pair and its ECDH secret (x coordinate) with `publicKey`. */
export function ephemeralAgreement(publicKey: Uint8Array): { ephemeral: Uint8Array; shared: Uint8Array } {
  const ecdh = createECDH('secp256k1');
  ecdh.generateKeys();
  const ephemeral = new Uint8Array(ecdh.getPublicKey(undefined, 'compressed'));
  return { ephemeral, shared: agree(ecdh, publicKey) };
}

/** The ECDH secret of our static `secretKey` with a peer's (ephemeral) public key. */
export function staticAgreement(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  const ecdh = createECDH('secp256k1');
  ecdh.setPrivateKey(secretKey);
  return agree(ecdh, publicKey);
}

function agree(ecdh: ReturnType<typeof createECDH>, publicKey: Uint8Array): Uint8Array {
  let secret: Buffer;
  try {
    secret = ecdh.computeSecret(publicKey);
  } catch (err) {
    throw new SealedError('MALFORMED', 'ECDH refused the public key (not a point on secp256k1)', { cause: err });
  }
  const out = new Uint8Array(secret);
  secret.fill(0);
  return out;
}
