/**
 * Every failure of the transport is a TransportError with a stable code, so
 * the shell can decide what to log and whether to close without parsing
 * messages.
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
  | 'DEAD'
  // The codes below come from the TCP shell, the manager and the messenger. Each
  // one that ends a connection is also its close reason (see CloseReason).
  /** Handshake bytes arrived in the wrong state, or an act was cut short. */
  | 'UNEXPECTED_ACT'
  /** The responder could not prove it holds the public key we dialled. */
  | 'WRONG_KEY'
  /** TCP connect plus handshake did not finish in time. */
  | 'HANDSHAKE_TIMEOUT'
  /** Nothing was received for the idle timeout. */
  | 'IDLE_TIMEOUT'
  /** The peer sent more messages or bytes per second than its budget allows. */
  | 'RATE_LIMIT'
  /** The peer broke the message layer: unknown kind, bad fragment, bad envelope. */
  | 'PROTOCOL'
  /** The peer closed the connection between frames. */
  | 'CLOSED_BY_PEER'
  /** The peer closed the connection inside a frame or a fragmented message. */
  | 'TRUNCATED'
  /** The socket failed (reset, broken pipe). */
  | 'SOCKET_ERROR'
  /** TCP connect failed (refused, unreachable, unresolvable host). */
  | 'CONNECT_FAILED'
  /** A second channel to the same peer lost the tie-break. */
  | 'DUPLICATE'
  /** The handshake or connection cap was reached. */
  | 'CAPACITY'
  /** The remote static key is our own. */
  | 'SELF'
  /** We closed the connection ourselves (application or shutdown). */
  | 'LOCAL'
  /** The channel or manager is closed, so the operation cannot proceed. */
  | 'CLOSED'
  /** There is no open channel to the peer. */
  | 'NO_CHANNEL'
  /** A request got no response in time. */
  | 'TIMEOUT'
  /** The peer's request handler failed or the peer has none for the type. */
  | 'REMOTE_ERROR';

export class TransportError extends Error {
  readonly code: TransportErrorCode;

  constructor(code: TransportErrorCode, message: string) {
    super(message);
    this.name = 'TransportError';
    this.code = code;
  }
}
