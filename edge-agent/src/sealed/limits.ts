/** Bounds on everything a state may hold: a state comes off the wire, so nothing in it is unbounded. */
import { SealedError } from './errors.js';

export const RECORD_ID_BYTES = 32;
export const MEMBER_ID_HEX = 64;
export const MAX_NAME_LENGTH = 64;
export const MAX_ATTRIBUTES = 64;
export const MAX_ROLES = 32;
export const MAX_MEMBERS = 256;
export const MAX_WRITERS = 32;
export const MAX_PUBLIC_FIELDS = 64;
export const MAX_PUBLIC_BYTES = 4096;
/** Largest private attribute plaintext (a config file, a token, a certificate chain). */
export const MAX_ATTRIBUTE_BYTES = 1024 * 1024;
/** Largest encoded state accepted from outside. */
export const MAX_STATE_BYTES = 256 * 1024;
/** Highest state number: far beyond any record's life, and a safe integer. */
export const MAX_STATE_NUMBER = 2 ** 40;

/** Attribute, role and public field names: short, printable, no path characters beyond '.', '-', '_' and '/'. */
export const NAME_PATTERN = /^(?!__proto__$)[A-Za-z0-9_.\-/]{1,64}$/;
export const MEMBER_PATTERN = /^[0-9a-f]{64}$/;

export function requireName(value: unknown, what: string): string {
  if (typeof value !== 'string' || !NAME_PATTERN.test(value)) {
    throw new SealedError('BAD_ARGUMENT', `${what} must be 1 to ${MAX_NAME_LENGTH} characters of A-Z a-z 0-9 _ . - /`);
  }
  return value;
}

export function requireMember(value: unknown, what: string): string {
  if (typeof value !== 'string' || !MEMBER_PATTERN.test(value)) throw new SealedError('BAD_ARGUMENT', `${what} must be a member id: 64 lowercase hex digits`);
  return value;
}

export function requireBytes(value: unknown, length: number, what: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length) throw new SealedError('BAD_ARGUMENT', `${what} must be ${length} bytes`);
  return value;
}

export function requireStateNumber(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > MAX_STATE_NUMBER) {
    throw new SealedError('BAD_ARGUMENT', `${what} must be an integer from 0 to 2^40`);
  }
  return value;
}

export function requirePlaintext(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length > MAX_ATTRIBUTE_BYTES) {
    throw new SealedError('BAD_ARGUMENT', `${what} must be a Uint8Array of at most ${MAX_ATTRIBUTE_BYTES} bytes`);
  }
  return value;
}
