/**
 * commands/: operator commands to an agent. The signed format, the verifier that decides
 * whether a command runs (signature, address, time, arguments, replay), the persistent
 * replay guard, and the result published on …/cmd/result. Handlers live in the agent.
 */
export { CommandError, type CommandErrorCode } from './errors.js';
export {
  ED25519_KEY_LENGTH,
  KEY_ALGORITHMS,
  OPERATOR_SIGNATURE_LENGTH,
  SECP256K1_KEY_LENGTH,
  operatorPublicKey,
  parseOperatorKey,
  verifyOperatorSignature,
  type KeyAlgorithm,
  type OperatorKey,
} from './keys.js';
export {
  COMMAND_ARGS,
  COMMAND_NAMES,
  MAX_COMMITTEE_ORDER_KEY,
  MAX_COMMITTEE_ORDER_VALUE_BYTES,
  MAX_COMMITTEE_SIGN_BYTES,
  MAX_MAINTENANCE_REASON,
  MAX_RESTART_DELAY_MS,
  isCommandName,
  type CommandArgs,
  type CommandName,
} from './registry.js';
export {
  ALL_TARGETS,
  COMMAND_DOMAIN,
  COMMAND_VERSION,
  MAX_BODY_BYTES,
  MAX_PAYLOAD_BYTES,
  NONCE_LENGTH,
  commandToJson,
  encodeBody,
  encodeMessage,
  signingBytes,
  type CommandBody,
} from './format.js';
export { MAX_SIGN_TTL_MS, signBody, signCommand, type SignCommandOptions, type UnsignedBody } from './sign.js';
export { REJECT_REASONS, isRejectReason, type RejectReason } from './reasons.js';
export { DEFAULT_MAX_LIFETIME_MS, DEFAULT_MAX_SKEW_MS, MAX_LIFETIME_LIMIT_MS, MAX_SKEW_LIMIT_MS } from './policy.js';
export {
  CORRUPT_SUFFIX,
  DEFAULT_REPLAY_CAPACITY,
  ReplayGuard,
  type Admission,
  type ReplayGuardOptions,
  type ReplayRecovery,
} from './replay.js';
export { MAX_REPLAY_CAPACITY } from './replay-file.js';
export { CommandVerifier, type Command, type CommandVerifierOptions, type Rejection, type Verdict } from './verify.js';
export { failureResult, rejectionResult, successResult, type CommandResult } from './result.js';
