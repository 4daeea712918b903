/**
 * Consensus signing keys: Ed25519 keys certified by the node's identity key.
 *
 * Identity keys are secp256k1 (BOLT 8 needs them), and secp256k1 signatures cost ~0.8 ms to
 * make and ~0.7 ms to check on this class of machine, against ~0.08 and ~0.2 ms for Ed25519
 * through OpenSSL. PBFT signs and checks a handful of messages per batch per replica, and a
 * client signs every request, so the shells sign with an Ed25519 key derived for the group:
 *   seed = HKDF-SHA256(ikm = identity secret, salt = group id, info = DOMAIN ‖ role ‖ number)
 * and certified once by the identity key:
 *   certificate = identity signature over CERT_DOMAIN ‖ len(group) ‖ group ‖ role ‖ number ‖ key
 * Derivation makes the key the same after a restart (nothing to store), and the certificate
 * travels inside every signature, key ‖ certificate ‖ Ed25519 signature (160 bytes), so a
 * signed frame proves itself to anyone who knows the signer's identity key: prepared
 * certificates and view-changes stay transferable, and no key-distribution round is needed.
 * A verifier checks each distinct certificate once (cached) and then only the Ed25519 part.
 */
import { createPrivateKey, createPublicKey, hkdfSync, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { sign as identitySign, toHex, verify as identityVerify } from '../identity/index.js';
import { ConsensusError } from './errors.js';

export type KeyRole = 'replica' | 'client';

const DOMAIN = 'edge-agent/consensus/ed25519/v1';
const CERT_DOMAIN = new TextEncoder().encode('edge-agent/consensus/key-certificate/v1\0');
const ROLE_BYTE: Readonly<Record<KeyRole, number>> = { replica: 1, client: 2 };
/** PKCS#8 and SPKI prefixes for a raw Ed25519 key (RFC 8410). */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export const KEY_BYTES = 32;
export const CERTIFICATE_BYTES = 64;
export const ED25519_SIGNATURE_BYTES = 64;
/** key ‖ certificate ‖ signature. */
export const CERTIFIED_SIGNATURE_BYTES = KEY_BYTES + CERTIFICATE_BYTES + ED25519_SIGNATURE_BYTES;

function checkGroup(groupId: Uint8Array): void {
  if (!(groupId instanceof Uint8Array) || groupId.length < 16 || groupId.length > 64) throw new ConsensusError('BAD_ARGUMENT', 'the group id must be 16 to 64 bytes');
}

function checkSlot(role: KeyRole, number: number): void {
  if (!Object.hasOwn(ROLE_BYTE, role)) throw new ConsensusError('BAD_ARGUMENT', `role must be 'replica' or 'client', got ${String(role)}`);
  if (!Number.isSafeInteger(number) || number < 0 || number > 0xffffffff) throw new ConsensusError('BAD_ARGUMENT', `the ${role} number must be a u32, got ${String(number)}`);
}

function u32(x: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, x);
  return b;
}

/** What the identity key signs: this Ed25519 key speaks for (group, role, number). */
function certificateMessage(groupId: Uint8Array, role: KeyRole, number: number, key: Uint8Array): Uint8Array {
  return Buffer.concat([CERT_DOMAIN, Uint8Array.of(groupId.length), groupId, Uint8Array.of(ROLE_BYTE[role]), u32(number), key]);
}

/** A group's signing key for one replica or client; `destroy()` drops the private key. */
export class ConsensusKey {
  readonly publicKey: Uint8Array;
  readonly certificate: Uint8Array;
  #private: KeyObject | undefined;
  readonly #prefix: Uint8Array;

  private constructor(privateKey: KeyObject, publicKey: Uint8Array, certificate: Uint8Array) {
    this.#private = privateKey;
    this.publicKey = publicKey;
    this.certificate = certificate;
    this.#prefix = Buffer.concat([publicKey, certificate]);
  }

  /** The key of (group, role, number) for the identity whose 32-byte secret is given (the secret is only read). */
  static derive(identitySecret: Uint8Array, groupId: Uint8Array, role: KeyRole, number: number): ConsensusKey {
    if (!(identitySecret instanceof Uint8Array) || identitySecret.length !== 32) throw new ConsensusError('BAD_ARGUMENT', 'the identity secret must be 32 bytes');
    checkGroup(groupId);
    checkSlot(role, number);
    const info = Buffer.concat([Buffer.from(DOMAIN), Uint8Array.of(ROLE_BYTE[role]), u32(number)]);
    const seed = Buffer.from(hkdfSync('sha256', identitySecret, groupId, info, 32));
    const der = Buffer.concat([PKCS8_PREFIX, seed]);
    try {
      const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
      const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
      const publicKey = new Uint8Array(spki.subarray(SPKI_PREFIX.length));
      const certificate = identitySign(identitySecret, certificateMessage(groupId, role, number, publicKey));
      return new ConsensusKey(privateKey, publicKey, certificate);
    } finally {
      seed.fill(0);
      der.fill(0);
    }
  }

  /** key ‖ certificate ‖ Ed25519 signature over `bytes`. */
  sign(bytes: Uint8Array): Uint8Array {
    if (this.#private === undefined) throw new ConsensusError('BAD_STATE', 'the consensus key was destroyed');
    const out = new Uint8Array(CERTIFIED_SIGNATURE_BYTES);
    out.set(this.#prefix);
    out.set(edSign(null, bytes, this.#private), KEY_BYTES + CERTIFICATE_BYTES);
    return out;
  }

  /** Drops the private key object (OpenSSL frees it once unreferenced); later signs throw BAD_STATE. */
  destroy(): void {
    this.#private = undefined;
  }
}

/** Number → identity public key (33-byte secp256k1). */
export type IdentityRoster = ReadonlyMap<number, Uint8Array>;

/**
 * Checks certified signatures by (role, number) against the roster's identity keys. Never
 * throws (false for anything wrong). Each certificate is checked once per number and kept
 * (a number has one key per group; a few are kept in case it is re-keyed).
 */
export function certifiedVerifier(groupId: Uint8Array, role: KeyRole, roster: IdentityRoster): (number: number, bytes: Uint8Array, signature: Uint8Array) => boolean {
  checkGroup(groupId);
  checkSlot(role, 0);
  if (!(roster instanceof Map)) throw new ConsensusError('BAD_ARGUMENT', 'the roster must be a Map of number -> identity public key');
  const group = Uint8Array.from(groupId);
  const known = new Map<number, Map<string, KeyObject>>();
  const KEPT = 4;
  const keyOf = (number: number, key: Uint8Array, certificate: Uint8Array): KeyObject | undefined => {
    const id = toHex(key) + toHex(certificate);
    const mine = known.get(number);
    const hit = mine?.get(id);
    if (hit !== undefined) return hit;
    const identity = roster.get(number);
    if (identity === undefined || !identityVerify(identity, certificateMessage(group, role, number, key), certificate)) return undefined;
    let object: KeyObject;
    try {
      object = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, key]), format: 'der', type: 'spki' });
    } catch {
      return undefined;
    }
    const kept = mine ?? new Map<string, KeyObject>();
    if (kept.size >= KEPT) kept.delete(kept.keys().next().value as string);
    kept.set(id, object);
    known.set(number, kept);
    return object;
  };
  return (number, bytes, signature) => {
    if (!Number.isSafeInteger(number) || !(bytes instanceof Uint8Array) || !(signature instanceof Uint8Array) || signature.length !== CERTIFIED_SIGNATURE_BYTES) return false;
    const key = keyOf(number, signature.subarray(0, KEY_BYTES), signature.subarray(KEY_BYTES, KEY_BYTES + CERTIFICATE_BYTES));
    if (key === undefined) return false;
    try {
      return edVerify(null, bytes, key, signature.subarray(KEY_BYTES + CERTIFICATE_BYTES));
    } catch {
      return false;
    }
  };
}
