/**
 * Every failure of the time room is a TimeError with a stable code. Decoding
 * bytes from the network throws only MALFORMED or UNSUPPORTED (the shell drops
 * such datagrams and the port counts them); BAD_ARGUMENT is a caller's bug.
 */
export type TimeErrorCode =
  /** A caller passed something of the wrong type, length or range. */
  | 'BAD_ARGUMENT'
  /** Bytes that are not a well-formed PTPv2 message (too short, wrong version, length field). */
  | 'MALFORMED'
  /** A well-formed message of a type this implementation does not handle (Pdelay, Signaling, Management, reserved). */
  | 'UNSUPPORTED'
  /** The core was asked to do something its state does not allow. */
  | 'BAD_STATE';

export class TimeError extends Error {
  override readonly name = 'TimeError';
  constructor(
    readonly code: TimeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Shared argument checks: every exported function validates its input with these. */
export function requireInt(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TimeError('BAD_ARGUMENT', `${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

export function requireFinite(value: unknown, name: string, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new TimeError('BAD_ARGUMENT', `${name} must be a finite number in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

export function requireBigInt(value: unknown, name: string, min?: bigint, max?: bigint): bigint {
  if (typeof value !== 'bigint' || (min !== undefined && value < min) || (max !== undefined && value > max)) {
    throw new TimeError('BAD_ARGUMENT', `${name} must be a bigint${min !== undefined ? ` >= ${min}` : ''}${max !== undefined ? ` <= ${max}` : ''}, got ${String(value)}`);
  }
  return value;
}

export function requireBytes(value: unknown, name: string, length?: number): Uint8Array {
  if (!(value instanceof Uint8Array) || (length !== undefined && value.length !== length)) {
    throw new TimeError('BAD_ARGUMENT', `${name} must be a Uint8Array${length !== undefined ? ` of ${length} bytes` : ''}`);
  }
  return value;
}
