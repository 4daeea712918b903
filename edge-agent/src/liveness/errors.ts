/**
 * Every failure of the liveness room is a LivenessError with a stable code.
 * A responder's refusals travel to the challenger as the reply's error code
 * (the messenger sends `code`, never the message).
 */
export type LivenessErrorCode =
  /** A caller passed something of the wrong type, length or range. */
  | 'BAD_ARGUMENT'
  /** The tracker already follows maxPeers peers and was asked to add one more. */
  | 'TOO_MANY_PEERS'
  /** The responder was closed (its key wiped) or the challenger stopped. */
  | 'CLOSED'
  /** A challenger sent challenges faster than the responder answers them. */
  | 'RATE_LIMITED';

export class LivenessError extends Error {
  override readonly name = 'LivenessError';
  constructor(
    readonly code: LivenessErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
