/**
 * Why a connection ended. Every close, handshake failure or refusal carries
 * exactly one reason; the manager counts them and logs each one.
 */
import { TransportError, type TransportErrorCode } from './errors.js';

const CLOSE_REASONS = [
  'BAD_MAC',
  'BAD_VERSION',
  'BAD_KEY',
  'UNEXPECTED_ACT',
  'WRONG_KEY',
  'HANDSHAKE_TIMEOUT',
  'IDLE_TIMEOUT',
  'TOO_LARGE',
  'RATE_LIMIT',
  'PROTOCOL',
  'CLOSED_BY_PEER',
  'TRUNCATED',
  'SOCKET_ERROR',
  'CONNECT_FAILED',
  'DUPLICATE',
  'CAPACITY',
  'SELF',
  'LOCAL',
] as const satisfies readonly TransportErrorCode[];

/** The error codes that end a connection (the others are refusals of a call, like CLOSED). */
export type CloseReason = (typeof CLOSE_REASONS)[number];

const REASONS: ReadonlySet<string> = new Set<string>(CLOSE_REASONS);

/** Ends that happen in a healthy fleet; the others point at a broken or hostile peer. */
const ROUTINE: ReadonlySet<CloseReason> = new Set<CloseReason>(['CLOSED_BY_PEER', 'DUPLICATE', 'LOCAL', 'CONNECT_FAILED']);

export function isCloseReason(value: unknown): value is CloseReason {
  return typeof value === 'string' && REASONS.has(value);
}

export function isRoutine(reason: CloseReason): boolean {
  return ROUTINE.has(reason);
}

/**
 * The reason a failure ends a connection with. Core codes that can only mean a
 * malformed handshake act (wrong length, wrong order) map to UNEXPECTED_ACT;
 * socket errors to SOCKET_ERROR; anything else the peer caused to PROTOCOL.
 */
export function reasonOf(err: unknown): CloseReason {
  if (err instanceof TransportError) {
    if (isCloseReason(err.code)) return err.code;
    if (err.code === 'BAD_LENGTH' || err.code === 'OUT_OF_ORDER') return 'UNEXPECTED_ACT';
    return 'PROTOCOL';
  }
  if (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string') return 'SOCKET_ERROR';
  return 'PROTOCOL';
}
