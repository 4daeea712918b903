/**
 * Every failure of the transport core is a TransportError with a stable code,
 * so the (later) TCP shell can decide what to log and whether to close without
 * parsing messages.
 */
export type TransportErrorCode =
  /** A caller passed something of the wrong type or shape. */
  | 'BAD_ARGUMENT'
  /** A key is malformed: wrong length, out of range, or not a curve point. */
  | 'BAD_KEY'
  /** A handshake act carried a version byte other than 0. */
  | 'BAD_VERSION'
  /** A handshake act had the wrong length. */
  | 'BAD_LENGTH'
  /** An AEAD tag did not verify: tampering, wrong key, or desynchronised nonces. */
  | 'BAD_MAC'
  /** A method was called in the wrong state (e.g. act two before act one). */
  | 'OUT_OF_ORDER'
  /** A message exceeds the 65535-byte BOLT 8 limit. */
  | 'TOO_LARGE'
  /** The object was destroyed and its keys wiped. */
  | 'DEAD';

export class TransportError extends Error {
  readonly code: TransportErrorCode;

  constructor(code: TransportErrorCode, message: string) {
    super(message);
    this.name = 'TransportError';
    this.code = code;
  }
}
