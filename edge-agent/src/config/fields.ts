/**
 * String fields whose rules a regular expression cannot state well. Each is a
 * Schema so config sections use them like any other validator, and each says
 * what was wrong in the same "path: expected X, got Y" form.
 */
import { posix } from 'node:path';
import { describe, SchemaError, type Schema } from '../schema/index.js';

/**
 * A string checked by `problem`, which returns null when the string is fine or a
 * phrase that narrows `expected` (e.g. 'with a port from 1 to 65535'; '' adds nothing).
 */
export function checkedText(expected: string, problem: (s: string) => string | null): Schema<string> {
  return {
    expected,
    parse(value: unknown, path = ''): string {
      if (typeof value !== 'string') throw new SchemaError(path, expected, describe(value));
      const why = problem(value);
      if (why !== null) throw new SchemaError(path, why === '' ? expected : `${expected} ${why}`, describe(value));
      return value;
    },
  };
}

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * An RFC 1123 host name. A last label made only of digits is refused: it is
 * always a mistyped IPv4 address ("10.0.0.256"), never a real name.
 */
export function isHostName(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  const labels = s.split('.');
  return labels.every((label) => LABEL.test(label)) && !/^[0-9]+$/.test(labels[labels.length - 1]!);
}

export const hostName = checkedText('a host name (letters, digits, dashes and dots)', (s) =>
  isHostName(s) ? null : '',
);

/** Absolute, no NUL, no "." or ".." segments: the agent never resolves paths relative to anything. */
export const absolutePath = checkedText('an absolute path', (s) => {
  if (!posix.isAbsolute(s)) return 'starting with "/"';
  if (s.length > 4096 || s.includes('\0')) return 'of at most 4096 characters without NUL';
  if (s.split('/').some((part) => part === '.' || part === '..')) return 'without "." or ".." segments';
  return null;
});
