/**
 * Typed failures of the identity room. Callers branch on `code`; the message is
 * one sentence for a human and names the file or value at fault.
 */
export type IdentityErrorCode =
  /** A caller passed something of the wrong type, length or range. */
  | 'BAD_ARGUMENT'
  /** A secret key is not 32 bytes or not a valid secp256k1 scalar. */
  | 'BAD_SECRET_KEY'
  /** A public key is not a 33-byte compressed secp256k1 point. */
  | 'BAD_PUBLIC_KEY'
  /** A proof-of-work search was stopped through its AbortSignal. */
  | 'ABORTED'
  /** createIdentity found an identity already in place. */
  | 'EXISTS'
  /** No identity file, or no identity key in the keystore. */
  | 'NOT_FOUND'
  /** identity.json is unreadable, malformed, or inconsistent with itself. */
  | 'CORRUPT'
  /** The stored secret key does not belong to the stored public key. */
  | 'KEY_MISMATCH'
  /** The stored proof of work does not meet its stated difficulty. */
  | 'BAD_POW'
  /** The identity was destroyed and its secret key wiped. */
  | 'DESTROYED';

export class IdentityError extends Error {
  override readonly name = 'IdentityError';
  constructor(
    readonly code: IdentityErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Typed failures of the keystore at rest. Every message names the file concerned. */
export type KeystoreErrorCode =
  /** A caller passed a bad name, secret, passphrase, directory or option. */
  | 'BAD_ARGUMENT'
  /** The keystore already holds the maximum number of secrets. */
  | 'FULL'
  /** The keystore was closed and its secrets wiped. */
  | 'CLOSED'
  /** There is no keystore and `create` was not set. */
  | 'NOT_FOUND'
  /** The keystore file is larger than any keystore this code writes. */
  | 'TOO_LARGE'
  /** The file ends before the length its header declares: cut off or short. */
  | 'TRUNCATED'
  /** The file does not start with the keystore magic. */
  | 'NOT_A_KEYSTORE'
  /** The file has a format version this code does not read. */
  | 'UNSUPPORTED_VERSION'
  /** The key checks out but the contents fail authentication (or the header is out of range). */
  | 'TAMPERED'
  /** The key-check value does not match: wrong passphrase or device secret, or a damaged header. */
  | 'WRONG_KEY'
  /** Authenticated contents that do not decode as a keystore (written by something else). */
  | 'CORRUPT'
  /** A keystore exists but the device secret it was sealed with is gone. */
  | 'DEVICE_SECRET_MISSING'
  /** The device secret is not a regular file of exactly 32 bytes. */
  | 'DEVICE_SECRET_INVALID'
  /** The device secret is readable or writable by group or others. */
  | 'INSECURE_PERMISSIONS';

export class KeystoreError extends Error {
  override readonly name = 'KeystoreError';
  constructor(
    readonly code: KeystoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
