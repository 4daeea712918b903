/** Input checks shared by the room's public functions; each throws LivenessError('BAD_ARGUMENT'). */
import { isClock, systemClock, type Clock } from '../clock/index.js';
import { LivenessError } from './errors.js';

/** An integer option in [min, max], or its fallback when absent. */
export function integerOption(value: unknown, fallback: number, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new LivenessError('BAD_ARGUMENT', `${what} must be an integer from ${min} to ${max}, got ${String(v)}.`);
  }
  return v;
}

/** A positive finite number option, or its fallback when absent. */
export function positiveOption(value: unknown, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0)) {
    throw new LivenessError('BAD_ARGUMENT', `${what} must be a positive finite number, got ${String(v)}.`);
  }
  return v;
}

export function requireBytes(value: unknown, length: number, what: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length) {
    const got = value instanceof Uint8Array ? `${value.length} bytes` : typeof value;
    throw new LivenessError('BAD_ARGUMENT', `${what} must be ${length} bytes, got ${got}.`);
  }
  return value;
}

const PEER_HEX = /^[0-9a-f]{64}$/;

/** A peer as the tracker keys it: the lowercase hex of its 32-byte peer id. */
export function requirePeer(value: unknown): string {
  if (typeof value !== 'string' || !PEER_HEX.test(value)) {
    throw new LivenessError('BAD_ARGUMENT', 'A peer is the 64-character lowercase hex of its 32-byte peer id.');
  }
  return value;
}

export function requireTime(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new LivenessError('BAD_ARGUMENT', `now must be a finite number of milliseconds, got ${String(value)}.`);
  }
  return value;
}

export function requireFunction<F>(value: unknown, what: string): F {
  if (typeof value !== 'function') throw new LivenessError('BAD_ARGUMENT', `${what} must be a function.`);
  return value as F;
}

/** The given clock after checking its shape, or systemClock. */
export function clockOf(value: unknown): Clock {
  if (value === undefined) return systemClock;
  if (!isClock(value)) {
    throw new LivenessError('BAD_ARGUMENT', 'The clock must have now() and setTimer().');
  }
  return value;
}
