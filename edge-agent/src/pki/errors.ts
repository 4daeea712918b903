/**
 * Every failure the pki room throws is a PkiError with a stable code, so callers (the CA state
 * machine, the enrollment shell, a CLI) can tell a bad request from a bug without parsing text.
 */
export type PkiErrorCode =
  /** A caller passed something of the wrong type, length or range. */
  | 'ARGUMENT'
  /** Bytes that should be DER / PEM (a CSR, a certificate, an extension) do not parse. */
  | 'MALFORMED'
  /** A key or signature algorithm this PKI does not accept (only Ed25519 and P-256 ECDSA-SHA256). */
  | 'UNSUPPORTED_ALGORITHM'
  /** A signature (the CSR's self-signature, the signer's output) does not verify. */
  | 'BAD_SIGNATURE'
  /** The inventory predicate does not know this board with this key. */
  | 'UNKNOWN_BOARD'
  /** An enrollment request id that was already seen. */
  | 'DUPLICATE_REQUEST'
  /** The serial (or the board) is revoked. */
  | 'REVOKED'
  /** A time outside the accepted window (a stale request, an expired certificate). */
  | 'EXPIRED'
  /** The zero-knowledge proof of key possession is missing, malformed or false. */
  | 'BAD_PROOF'
  /** Two things that must be equal are not (a TBS to sign and the one the replica assigned). */
  | 'MISMATCH'
  /** The Signer failed or returned something that is not an Ed25519 signature. */
  | 'SIGNER';

export class PkiError extends Error {
  override readonly name = 'PkiError';
  constructor(
    readonly code: PkiErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Throws PkiError('ARGUMENT'): the one-liner every exported function's checks use. */
export function argument(message: string): never {
  throw new PkiError('ARGUMENT', message);
}
