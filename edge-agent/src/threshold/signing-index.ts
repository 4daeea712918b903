/**
 * The FROST signing layer's public face (to be merged into threshold/index.ts).
 * FROST(Ed25519, SHA-512), RFC 9591, on @noble/curves' ed25519_FROST; the
 * signatures it makes are ordinary Ed25519 signatures.
 */
export { ThresholdError, type ThresholdErrorCode, type ThresholdErrorDetails } from './errors.js';
export {
  MAX_MEMBERS,
  MIN_THRESHOLD,
  POINT_BYTES,
  SCALAR_BYTES,
  SIGNATURE_BYTES,
  aggregate,
  checkMemberShare,
  commit,
  dealerKeys,
  decodeCommitment,
  decodeCommitmentList,
  decodeGroupPublic,
  decodeMemberShare,
  decodeSignatureShare,
  encodeCommitment,
  encodeGroupPublic,
  encodeMemberShare,
  encodeSignatureShare,
  groupPublicFromFrost,
  identifierFromPeerId,
  identifierOf,
  isValidCommitment,
  makeGroupPublic,
  makeMemberShare,
  memberOf,
  signShare,
  tryAggregate,
  verifyShare,
  wipeNonces,
  type AggregateOutcome,
  type DealerOptions,
  type GroupPublic,
  type GroupPublicParts,
  type GroupPublicWire,
  type MemberShare,
  type MemberShareWire,
  type RandomBytes,
  type SignatureShare,
  type SignatureShareWire,
  type SigningCommitment,
  type SigningCommitmentWire,
  type SigningNonces,
} from './frost.js';
export { POINT_CACHE_SIZE } from './frost.js';
export { MemoryNonceStore, NonceStore, commitmentId, type NonceBookOptions, type NonceSource, type NonceStoreOpen } from './nonces.js';
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  SignerCore,
  SigningCoordinator,
  type CoordinatorAction,
  type CoordinatorOptions,
  type Exclusion,
  type ExclusionReason,
  type SignRequest,
  type SignerOptions,
  type SigningResult,
} from './signing.js';
export { ED25519_SPKI_PREFIX, ed25519KeyObject, ed25519PublicKeyDer, ed25519PublicKeyPem, verifyEd25519, verifyGroupSignature } from './verify.js';
export { CommitmentPool, DEFAULT_POOL_DEPTH, MAX_POOL_DEPTH, type CommitmentPoolOptions } from './signing-pool.js';
export { commitmentAnnouncer, commitmentFetcher, type CommitmentFetcherOptions } from './signing-service.js';
export { MAX_PREPARE_COMMITMENTS, thresholdPrepare } from './service-messages.js';
