export { ConsensusError, type ConsensusErrorCode } from './errors.js';
export {
  DROP_REASONS,
  type ClientVerifier,
  type ConsensusSigner,
  type ConsensusVerifier,
  type DropReason,
  type ExecutedRequest,
  type PersistRecord,
  type ReplicaAction,
  type ReplicaEvent,
} from './types.js';
export {
  CHANNEL_KINDS,
  batchDigest,
  bytesEqual,
  hex,
  sha256,
  decodeFrame,
  decodeKind,
  sign,
  DEFAULT_MESSAGE_LIMITS,
  type Body,
  type Frame,
  type Kind,
  type MessageLimits,
  type ReplicaBody,
  type RequestBody,
  type PrePrepareBody,
  type PrepareBody,
  type CommitBody,
  type ReplyBody,
  type CheckpointBody,
  type ViewChangeBody,
  type NewViewBody,
  type FetchBody,
  type StateBody,
  type StatusBody,
  type PreparedProof,
} from './messages.js';
export { quorums, primaryOf, planNewView, type Quorums, type NewViewPlan, type NewViewEntry, type ViewChangeInfo, type PreparedCert } from './certs.js';
export { type ReplicaConfig } from './config.js';
export { Replica, type ReplicaStats } from './replica.js';
export { Client, type ClientConfig, type ClientAction } from './client.js';
export { KvStateMachine, encodeKvOp, decodeKvResult, type StateMachine, type KvOp, type KvResult } from './state-machine.js';
export { VerifyCache } from './verify-cache.js';
export { ConsensusKey, certifiedVerifier, CERTIFIED_SIGNATURE_BYTES, type KeyRole, type IdentityRoster } from './signing-keys.js';
export { consensusFrame, replyRoute, withConsensusMessages, Outbox, MAX_FRAME_BYTES, MAX_FRAMES_PER_MESSAGE, type SendFrames } from './service-messages.js';
export { encodePersistRecord, decodePersistRecord } from './persist-codec.js';
export { ReplicaService, type ReplicaServiceOptions, type ReplicaServiceStats, type ReplicaTuning, type KeyRoster } from './replica-service.js';
export { ClientService, type ClientServiceOptions, type Committed } from './client-service.js';
export { runSim, randomScenario, type SimOptions, type SimResult, type SimRestart } from './sim.js';
export { BEHAVIOUR_KINDS, type Behaviour } from './sim-adversary.js';
export { simRandom, hmacSignatures, type SimRandom, type SimSignatures } from './sim-random.js';
