/**
 * sealed/ (floor 2): records with public fields and private attributes, each
 * attribute under its own AES-256-GCM key, committed to by SHA-256 in a
 * signed, hash-chained state, its key wrapped (ECDH on secp256k1, HKDF,
 * AES-256-GCM) for exactly the members whose role reads it. The core
 * (record.ts, open.ts, state.ts) has no I/O; the vault keeps records at rest
 * under per-entry storage keys with lazy epoch rotation; the sync shell asks
 * peers for missing blobs, keys and states. See docs/sealed.md.
 */
export { SealedError, type SealedErrorCode } from './errors.js';
export {
  MAX_ATTRIBUTES,
  MAX_ATTRIBUTE_BYTES,
  MAX_MEMBERS,
  MAX_PUBLIC_BYTES,
  MAX_PUBLIC_FIELDS,
  MAX_ROLES,
  MAX_STATE_BYTES,
  MAX_WRITERS,
  RECORD_ID_BYTES,
} from './limits.js';
export { checkCommitment, openAttribute, sealAttribute, type SealedAttribute } from './attribute.js';
export { decodeWrappedKey, encodeWrappedKey, unwrapKey, wrapKey, type WrappedKey } from './wrap.js';
export {
  STATE_VERSION,
  decodeState,
  encodeState,
  stateHash,
  verifyChain,
  verifyStateSignature,
  verifySuccessor,
  type AttributeEntry,
  type PublicValue,
  type Role,
  type SealedState,
  type StateBody,
} from './state.js';
export { memberId, readableBy, readersOf } from './policy.js';
export { createRecord, materialNeeded, updateRecord, type Change, type NewRecord, type PreviousMaterial, type SealOutput, type SealedBlob } from './record.js';
export { entryOf, openSealed, requireReader, type Reader } from './open.js';
export { RecordStorage } from './storage.js';
export { SealedVault } from './vault.js';
export { sealedGetBlob, sealedGetKey, sealedGetState, withSealedMessages, type SealedMessage } from './messages.js';
export { SealedSync, type SealedSyncOptions, type SyncStats } from './sync.js';
