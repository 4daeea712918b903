/**
 * Every failure of the threshold room is a ThresholdError with a stable code.
 * `culprits` names the members (or peers) at fault when the failure is someone's
 * doing: a bad share, a bad VSS share, a signer that cheated; it is empty otherwise.
 */
export type ThresholdErrorCode =
  /** A caller passed something of the wrong type, length or range. */
  | 'BAD_ARGUMENT'
  /** A secret share does not match the public commitments (VSS check failed). */
  | 'BAD_SHARE'
  /** A signature (or signature share) does not verify. */
  | 'BAD_SIGNATURE'
  /** A signing nonce was asked for twice, or after it was burned (by use, eviction or a restart). */
  | 'NONCE_REUSE'
  /** Fewer than the threshold of usable (present, honest) members remain. */
  | 'NOT_ENOUGH_SIGNERS'
  /** A protocol run was given up (retries exhausted, refused by policy, store failed). */
  | 'ABORTED'
  /** Bytes or a structure from outside do not decode to what they claim to be. */
  | 'MALFORMED'
  /** Someone did not answer in time. */
  | 'TIMEOUT';

export interface ThresholdErrorDetails {
  /** Who is to blame, when someone is. */
  readonly culprits?: readonly string[];
}

export class ThresholdError extends Error {
  override readonly name = 'ThresholdError';
  readonly code: ThresholdErrorCode;
  readonly culprits: readonly string[];

  constructor(code: ThresholdErrorCode, message: string, details?: ThresholdErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.culprits = Object.freeze([...(details?.culprits ?? [])]);
  }

  /** The details as given, for callers that pass errors on. */
  get details(): { culprits: string[] } {
    return { culprits: [...this.culprits] };
  }
}
