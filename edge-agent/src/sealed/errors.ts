/**
 * Every failure of the sealed room is a SealedError with a stable code. Codes
 * travel to a requesting peer as a reply's error (the messenger sends `code`,
 * never the message), so messages name what failed but never hold a secret.
 */
export type SealedErrorCode =
  /** A caller passed something of the wrong type, length or range. */
  | 'BAD_ARGUMENT'
  /** Bytes that should hold a state, wrapped key or stored entry do not decode or do not fit its schema. */
  | 'MALFORMED'
  /** The member is not among the readers of that attribute in that state. */
  | 'NOT_AUTHORIZED'
  /** A blob whose SHA-256 differs from the commitment it was asked or stored for. */
  | 'BAD_COMMITMENT'
  /** An AEAD refused to open: the ciphertext, its context or the key is not the one sealed. */
  | 'TAMPERED'
  /** An unwrapped key does not match the key check the signed state holds. */
  | 'BAD_KEY'
  /** A state's signature does not verify under its author's key, or the author may not write. */
  | 'BAD_SIGNATURE'
  /** A state does not follow its predecessor (record, number or previous hash). */
  | 'BAD_CHAIN'
  /** The state has no such attribute. */
  | 'UNKNOWN_ATTRIBUTE'
  /** A blob, wrapped key, state or entry is not held here (and no peer had it). */
  | 'NOT_FOUND'
  /** A stored entry names a storage-key epoch whose key is gone. */
  | 'UNKNOWN_EPOCH'
  /** A storage file is unreadable, too large, or has the wrong permissions. */
  | 'STORAGE'
  /** The store or sync shell was closed. */
  | 'CLOSED';

export class SealedError extends Error {
  override readonly name = 'SealedError';
  constructor(
    readonly code: SealedErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
