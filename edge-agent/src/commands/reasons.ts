/**
 * Why a command was refused. These strings are published on …/cmd/result and are stable:
 * tools branch on them. Listed in the order verify() checks them.
 */
export const REJECT_REASONS = [
  /** Not decodable, not the schema, not canonical, or too large. */
  'MALFORMED',
  /** No signature, or an empty one. */
  'UNSIGNED',
  /** The signer is not an operator key of this fleet. */
  'UNKNOWN_SIGNER',
  /** The signature does not verify (wrong key, changed bytes, wrong length). */
  'BAD_SIGNATURE',
  /** Another fleet, or a target that is neither this agent nor "*". */
  'MISADDRESSED',
  /** expiresAt - issuedAt is longer than the agent allows. */
  'TOO_LONG_LIVED',
  /** issuedAt is further in the future than the allowed clock skew. */
  'NOT_YET_VALID',
  /** expiresAt has passed. */
  'EXPIRED',
  /** A name this agent does not know. */
  'UNKNOWN_COMMAND',
  /** Arguments that do not fit the command. */
  'BAD_ARGUMENTS',
  /** The nonce was accepted before (or may have been: see the replay file's recovery watermark). */
  'REPLAYED',
  /** The replay cache holds as many unexpired nonces as it may; forgetting one would allow its replay. */
  'REPLAY_CACHE_FULL',
  /** The nonce could not be made durable, so the command is not run (it could be replayed after a restart). */
  'REPLAY_STORE_FAILED',
] as const;

export type RejectReason = (typeof REJECT_REASONS)[number];

export function isRejectReason(value: unknown): value is RejectReason {
  return REJECT_REASONS.includes(value as RejectReason);
}
