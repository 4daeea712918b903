/**
 * Every failure the consensus room throws is a ConsensusError with a stable code. Peer input
 * is never thrown on: a bad message is dropped and counted (see DropReason in types.ts).
 */
export type ConsensusErrorCode =
  /** A caller passed something of the wrong type, length or range (a config, an operation). */
  | 'BAD_ARGUMENT'
  /** The call does not fit the object's state (a second request while one is outstanding). */
  | 'BAD_STATE'
  /** A value could not be encoded or decoded (a state machine snapshot, an operation). */
  | 'MALFORMED';

export class ConsensusError extends Error {
  override readonly name = 'ConsensusError';
  constructor(
    readonly code: ConsensusErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function fail(message: string): never {
  throw new ConsensusError('BAD_ARGUMENT', message);
}
