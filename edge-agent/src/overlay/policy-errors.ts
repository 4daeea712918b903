/**
 * Typed failures of the neighbour-policy and partition-watch cores. They are
 * only thrown for a caller's own bad arguments or for a graph that breaks the
 * PeerGraph contract (a neighbour slot that is not a small non-negative integer).
 */
export type PolicyErrorCode =
  /** A caller passed something of the wrong type, length or range. */
  | 'BAD_ARGUMENT'
  /** The graph returned a slot outside the declared range or not an integer. */
  | 'BAD_GRAPH';

export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  constructor(
    readonly code: PolicyErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
