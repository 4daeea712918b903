/**
 * Typed failures of the gossip cores. Remote input never throws out of
 * GossipCore.receive (it becomes a typed rejection); these are thrown by the
 * codec functions and for a caller's own bad arguments.
 */
export type GossipErrorCode =
  /** A caller passed something of the wrong type, length or range. */
  | 'BAD_ARGUMENT'
  /** The bytes are not a well-formed canonical event frame or body. */
  | 'MALFORMED'
  /** The body contradicts itself: peerId is not SHA-256 of the key, or a peer names itself as neighbour. */
  | 'INCONSISTENT'
  /** The signer's proof of work is below the required difficulty. */
  | 'BAD_POW'
  /** The signature does not verify against the body and the signer's key. */
  | 'BAD_SIGNATURE';

export class GossipError extends Error {
  override readonly name = 'GossipError';
  constructor(
    readonly code: GossipErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
