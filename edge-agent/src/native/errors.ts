export type NativeErrorCode =
  /** A caller passed something of the wrong type, shape or range. */
  | 'BAD_ARGUMENT'
  /** The socket or clock was closed (or never opened). */
  | 'CLOSED'
  /** The operating system refused: `errno` names why (EPERM, ENODEV, EOPNOTSUPP, ...). */
  | 'OS_ERROR'
  /** The native addon is not loaded, so the operation has no backend. */
  | 'UNAVAILABLE';

export class NativeError extends Error {
  override readonly name = 'NativeError';
  constructor(
    readonly code: NativeErrorCode,
    message: string,
    /** The errno name the addon reported (e.g. 'EPERM'), or null. */
    readonly errno: string | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The addon throws TypeError/RangeError for bad arguments and Errors whose
 * `code` is an errno name for OS failures; this gives them the room's type.
 */
export function fromAddonError(err: unknown): NativeError {
  if (err instanceof NativeError) return err;
  if (err instanceof TypeError || err instanceof RangeError) {
    return new NativeError('BAD_ARGUMENT', err.message, null, { cause: err });
  }
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'EBADF') return new NativeError('CLOSED', message, 'EBADF', { cause: err });
  return new NativeError('OS_ERROR', message, typeof code === 'string' ? code : null, { cause: err });
}
