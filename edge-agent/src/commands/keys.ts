/**
 * Operator keys and the two signature schemes they may use:
 * - secp256k1 (33-byte compressed point): what `edge-agent keygen` makes; 64-byte compact
 *   low-S ECDSA over SHA-256(message), through identity/.
 * - Ed25519 (32-byte point, RFC 8032): the committee's FROST group key signs plain Ed25519
 *   (RFC 9591), so the same verifier accepts its commands once the committee exists.
 * The length of the key decides the scheme, so one key can never be checked under the other.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { isValidPublicKey, publicKeyOf, sign as ecdsaSign, toHex, verify as ecdsaVerify } from '../identity/index.js';
import { CommandError } from './errors.js';

export const KEY_ALGORITHMS = ['secp256k1', 'ed25519'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

export const SECP256K1_KEY_LENGTH = 33;
export const ED25519_KEY_LENGTH = 32;
export const SECRET_KEY_LENGTH = 32;
export const OPERATOR_SIGNATURE_LENGTH = 64;

export interface OperatorKey {
  readonly algorithm: KeyAlgorithm;
  readonly publicKey: Uint8Array;
  /** Lowercase hex of the public key: how config files and results name the key. */
  readonly id: string;
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/**
 * Strict RFC 8032 point decoding (y < p, no "negative zero"), and no point of small order:
 * with a small-order key, one signature can verify for many messages.
 */
function isValidEd25519Key(bytes: Uint8Array): boolean {
  try {
    return !ed25519.Point.fromBytes(bytes, false).isSmallOrder();
  } catch {
    return false;
  }
}

/** The operator key held in `bytes`, or null if they are neither a valid secp256k1 nor Ed25519 key. */
export function operatorKeyOf(bytes: Uint8Array): OperatorKey | null {
  if (!(bytes instanceof Uint8Array)) return null;
  let algorithm: KeyAlgorithm;
  if (bytes.length === SECP256K1_KEY_LENGTH && isValidPublicKey(bytes)) algorithm = 'secp256k1';
  else if (bytes.length === ED25519_KEY_LENGTH && isValidEd25519Key(bytes)) algorithm = 'ed25519';
  else return null;
  const publicKey = Uint8Array.from(bytes);
  return Object.freeze({ algorithm, publicKey, id: toHex(publicKey) });
}

/**
 * Parses an operator key as it appears in the fleet config: 66 hex characters for a
 * compressed secp256k1 key, 64 for an Ed25519 key. Throws CommandError('BAD_KEY').
 */
export function parseOperatorKey(hex: string): OperatorKey {
  if (typeof hex !== 'string') throw new CommandError('BAD_KEY', 'an operator key must be a hex string');
  if (!HEX.test(hex) || (hex.length !== 2 * SECP256K1_KEY_LENGTH && hex.length !== 2 * ED25519_KEY_LENGTH)) {
    throw new CommandError(
      'BAD_KEY',
      `an operator key must be ${2 * SECP256K1_KEY_LENGTH} hex characters (secp256k1) or ${2 * ED25519_KEY_LENGTH} (Ed25519), got ${hex.length} characters${HEX.test(hex) ? '' : ' that are not all hex'}`,
    );
  }
  const key = operatorKeyOf(Uint8Array.from(Buffer.from(hex, 'hex')));
  if (key === null) {
    const what = hex.length === 2 * SECP256K1_KEY_LENGTH ? 'a compressed secp256k1 point' : 'a valid Ed25519 point (canonical, not of small order)';
    throw new CommandError('BAD_KEY', `operator key ${hex.slice(0, 16)}... is not ${what}`);
  }
  return key;
}

/** True only for a valid signature of `message` under `key`; malformed signatures are simply invalid. */
export function verifyOperatorSignature(key: OperatorKey, message: Uint8Array, signature: Uint8Array): boolean {
  if (!(message instanceof Uint8Array)) throw new CommandError('BAD_ARGUMENT', 'verifyOperatorSignature: message must be a Uint8Array');
  if (!(signature instanceof Uint8Array) || signature.length !== OPERATOR_SIGNATURE_LENGTH) return false;
  switch (key.algorithm) {
    case 'secp256k1':
      return ecdsaVerify(key.publicKey, message, signature);
    case 'ed25519':
      try {
        // zip215: false is RFC 8032's strict decoding, and rejects small-order keys again.
        return ed25519.verify(signature, message, key.publicKey, { zip215: false });
      } catch {
        return false;
      }
    default:
      throw new CommandError('BAD_KEY', `unknown key algorithm ${String((key as { algorithm: unknown }).algorithm)}`);
  }
}

export function requireAlgorithm(value: unknown): KeyAlgorithm {
  if (!KEY_ALGORITHMS.includes(value as KeyAlgorithm)) {
    throw new CommandError('BAD_ARGUMENT', `algorithm must be one of ${KEY_ALGORITHMS.join(', ')}, got ${String(value)}`);
  }
  return value as KeyAlgorithm;
}

function requireSecretKey(secretKey: unknown): Uint8Array {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== SECRET_KEY_LENGTH) {
    throw new CommandError('BAD_KEY', `a secret key must be ${SECRET_KEY_LENGTH} bytes`);
  }
  return secretKey;
}

/** The public key of an operator's secret key. */
export function operatorPublicKey(algorithm: KeyAlgorithm, secretKey: Uint8Array): Uint8Array {
  requireSecretKey(secretKey);
  if (algorithm === 'ed25519') return ed25519.getPublicKey(secretKey);
  try {
    return publicKeyOf(secretKey);
  } catch (err) {
    throw new CommandError('BAD_KEY', 'the secret key is not a valid secp256k1 scalar', { cause: err });
  }
}

/** Signs `message` with an operator's secret key (ECDSA for secp256k1, RFC 8032 for Ed25519). */
export function operatorSign(algorithm: KeyAlgorithm, secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  requireSecretKey(secretKey);
  if (algorithm === 'ed25519') return ed25519.sign(message, secretKey);
  try {
    return ecdsaSign(secretKey, message);
  } catch (err) {
    throw new CommandError('BAD_KEY', 'the secret key is not a valid secp256k1 scalar', { cause: err });
  }
}
