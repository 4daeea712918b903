/**
 * Short texts that end up in audit entries: names and reasons. The trail encodes
 * canonical CBOR, which refuses lone surrogates, and caps an entry at 64 KiB, so
 * caller-supplied text is checked and anything we quote (error messages, unknown
 * targets) is cut short and made well-formed.
 */
import { OrchestratorError } from './errors.js';

/** Longest reason for a transition, and longest quoted failure reason. */
export const MAX_REASON_LENGTH = 200;
/** Longest operation or step name. */
export const MAX_NAME_LENGTH = 100;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function isWellFormed(s: string): boolean {
  LONE_SURROGATE.lastIndex = 0;
  return !LONE_SURROGATE.test(s);
}

/** `value` if it is a non-empty, well-formed string of at most `max` UTF-16 units; else BAD_ARGUMENT. */
export function shortText(value: unknown, max: number, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max || !isWellFormed(value)) {
    throw new OrchestratorError('BAD_ARGUMENT', `${what} must be a non-empty string of at most ${max} characters, got ${quote(value)}`);
  }
  return value;
}

/** Any value as a well-formed string of at most `max` units, for quoting in messages and entries. */
export function clip(value: string, max = MAX_REASON_LENGTH): string {
  let s = value;
  if (s.length > max) {
    s = s.slice(0, max - 1);
    // Do not leave half of a surrogate pair at the cut.
    if (/[\uD800-\uDBFF]$/.test(s)) s = s.slice(0, -1);
    s += '…';
  }
  return s.replace(LONE_SURROGATE, '\uFFFD');
}

/** A short printable rendering of anything a caller passed. */
export function quote(value: unknown): string {
  if (typeof value === 'string') return clip(JSON.stringify(value), 64);
  if (value === null || typeof value !== 'object') return clip(String(value), 64);
  return Array.isArray(value) ? 'an array' : 'an object';
}

/** What a thrown value says, for an outcome: a message, never the Error object itself. */
export function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return clip(message.length > 0 ? message : err instanceof Error ? err.name : 'failed');
}
