/**
 * Typed failures of the overlay room's peer store. Callers branch on `code`;
 * the message is one sentence for a human.
 */
export type PeerStoreErrorCode =
  /** A caller passed something of the wrong type, length or range. */
  | 'BAD_ARGUMENT'
  /** Every slot holds a pinned peer (current neighbour or committee member): nothing may be evicted. */
  | 'FULL'
  /** A snapshot is truncated, fails its checksum, or contradicts itself. */
  | 'BAD_SNAPSHOT'
  /** A snapshot file is larger than any store of this size could have written. */
  | 'SNAPSHOT_TOO_LARGE';

export class PeerStoreError extends Error {
  override readonly name = 'PeerStoreError';
  constructor(
    readonly code: PeerStoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}
