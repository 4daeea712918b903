/** The time rules an agent applies to commands, shared by the verifier and the replay guard. */
import { CommandError } from './errors.js';

/** Longest a command may live (expiresAt - issuedAt) unless the agent is told otherwise. */
export const DEFAULT_MAX_LIFETIME_MS = 10 * 60_000;
/** How far in the future issuedAt may be, for operators whose clock runs ahead of the agent's. */
export const DEFAULT_MAX_SKEW_MS = 30_000;
/** Bounds on the two settings: a day, and ten minutes. */
export const MAX_LIFETIME_LIMIT_MS = 24 * 60 * 60_000;
export const MAX_SKEW_LIMIT_MS = 10 * 60_000;

export function intOption(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new CommandError('BAD_ARGUMENT', `${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

export function lifetimeOption(value: unknown): number {
  return intOption('maxLifetimeMs', value, DEFAULT_MAX_LIFETIME_MS, 1, MAX_LIFETIME_LIMIT_MS);
}

export function skewOption(value: unknown): number {
  return intOption('maxSkewMs', value, DEFAULT_MAX_SKEW_MS, 0, MAX_SKEW_LIMIT_MS);
}
