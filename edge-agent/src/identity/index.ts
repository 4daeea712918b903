/**
 * identity/: who this board is. secp256k1 keys and signatures, the proof of
 * work that makes identities costly to mint, the encrypted keystore at rest,
 * and the identity files that tie them together.
 */
export { IdentityError, KeystoreError, type IdentityErrorCode, type KeystoreErrorCode } from './errors.js';
export {
  PEER_ID_LENGTH,
  PUBLIC_KEY_LENGTH,
  SECRET_KEY_LENGTH,
  SIGNATURE_LENGTH,
  generateKeyPair,
  isValidPublicKey,
  peerIdOf,
  publicKeyOf,
  sign,
  verify,
  type KeyPair,
} from './keys.js';
export { shortId, toHex } from './format.js';
export {
  DEFAULT_POW_DIFFICULTY,
  MAX_POW_DIFFICULTY,
  PI4_POW_SLOWDOWN,
  POW_NONCE_LENGTH,
  difficultyForSeconds,
  expectedPowSeconds,
  leadingZeroBits,
  measureHashRate,
  solvePow,
  verifyPow,
  type SolvePowOptions,
} from './pow.js';
export { DEFAULT_SCRYPT, type ScryptParams } from './keystore-format.js';
export { DEVICE_SECRET_FILE, KEYSTORE_FILE, Keystore, MAX_SECRETS, MAX_SECRET_BYTES, type KeystoreOptions } from './keystore.js';
export type { LocalIdentity, ProofOfWork } from './local-identity.js';
export {
  IDENTITY_FILE,
  IDENTITY_KEY_NAME,
  createIdentity,
  loadIdentity,
  type CreateIdentityOptions,
  type LoadIdentityOptions,
} from './identity-files.js';
