/**
 * Public face of liveness/: members answer random challenges with a signature
 * within a deadline; misses are counted per peer, and K in a row make a peer
 * offline. The tracker is a core without I/O; the responder and challenger
 * are the shell over transport's Messenger. See docs/liveness.md.
 */
export { LivenessError, type LivenessErrorCode } from './errors.js';
export {
  DEFAULT_DEADLINE_MS,
  DEFAULT_MAX_PEERS,
  DEFAULT_MISSES_OFFLINE,
  LivenessTracker,
  NONCE_LENGTH,
  type Challenge,
  type LivenessStatus,
  type Outcome,
  type PeerStats,
  type Resolution,
  type StatusChange,
  type TrackerOptions,
} from './core.js';
export { LIVENESS_DOMAIN, answerBytes, signAnswer, verifyAnswer } from './proof.js';
export { AnswerLimiter, type AnswerLimit } from './limit.js';
export { livenessChallenge, withLivenessMessages, type LivenessMessage } from './messages.js';
export { registerLivenessResponder, type LivenessResponder, type ResponderOptions } from './responder.js';
export { LivenessChallenger, type ChallengerOptions } from './challenger.js';
