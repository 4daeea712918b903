/**
 * A board's zero-knowledge secret, derived from its identity secret key so that nothing new has
 * to be provisioned or stored: HKDF-SHA256 (RFC 5869) salted with the board's own peer id (a
 * per-board value, never one fixed salt for the fleet) and a domain-separated info, 64 bytes of
 * output reduced mod r (the 2^-250 bias of a 512-bit reduction is negligible).
 * The derivation is one-way: the zk secret (and its commitment Poseidon(secret), which the board
 * publishes) reveals nothing about the identity key, and the identity key's signatures reveal
 * nothing about the zk secret.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { peerIdOf, publicKeyOf } from '../identity/index.js';
import { ZkpError } from './errors.js';
import { FIELD_ORDER } from './field.js';
import { commitmentOf } from './inputs.js';

export const ZK_SECRET_INFO = 'edge-agent/zkp/board-secret/v1: membership and key possession';
const INFO = new TextEncoder().encode(ZK_SECRET_INFO);

function bigFromBytes(b: Uint8Array): bigint {
  let v = 0n;
  for (const byte of b) v = (v << 8n) | BigInt(byte);
  return v;
}

/** The board's zk secret: a nonzero BN254 scalar, the same for the same identity key. */
export function zkSecretFromIdentity(identitySecretKey: Uint8Array): bigint {
  if (!(identitySecretKey instanceof Uint8Array) || identitySecretKey.length !== 32) {
    throw new ZkpError('ARGUMENT', 'the identity secret key must be 32 bytes');
  }
  let salt: Uint8Array;
  try {
    salt = peerIdOf(publicKeyOf(identitySecretKey));
  } catch (err) {
    throw new ZkpError('ARGUMENT', 'the identity secret key is not a valid secp256k1 secret', { cause: err });
  }
  const okm = hkdf(sha256, identitySecretKey, salt, INFO, 64);
  const secret = bigFromBytes(okm) % FIELD_ORDER;
  okm.fill(0);
  // Probability 2^-253; a zero secret would make the commitment a public constant.
  if (secret === 0n) throw new ZkpError('ARGUMENT', 'the identity key derives a zero zk secret');
  return secret;
}

/** The commitment the board publishes: Poseidon(zkSecretFromIdentity(key)). */
export function zkCommitmentFromIdentity(identitySecretKey: Uint8Array): bigint {
  return commitmentOf(zkSecretFromIdentity(identitySecretKey));
}
