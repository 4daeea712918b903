import { sha256 } from '@noble/hashes/sha2.js';
import { SchemaError, bytes, describe, int, number, object, text, type Schema } from '../schema/index.js';
import { decodeCanonical, encodeCanonical } from '../wire/index.js';

/** One line of the audit trail. */
export interface AuditEntry {
  /** 0 for the first entry, then one more each time. */
  readonly seq: number;
  /** Milliseconds since the Unix epoch, from the trail's clock (not necessarily monotonic). */
  readonly ts: number;
  readonly kind: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** The previous entry's hash; 32 zero bytes for seq 0. */
  readonly prev: Uint8Array;
  /** SHA-256 over DOMAIN and the canonical CBOR of { seq, ts, kind, data, prev }. */
  readonly hash: Uint8Array;
}

export const HASH_BYTES = 32;
export const ZERO_HASH: Uint8Array = new Uint8Array(HASH_BYTES);
/** Largest encoded entry: an audit line is a short fact, not a payload. */
export const MAX_ENTRY_BYTES = 64 * 1024;
/** Kinds read like "agent.start" or "key.rotate": lower case, digits, dots, dashes, underscores. */
export const KIND_PATTERN = /^[a-z][a-z0-9]*(?:[._-][a-z0-9]+)*$/;

/** Keeps these hashes from ever colliding with another protocol's hash of the same bytes. */
const DOMAIN = new TextEncoder().encode('edge-agent/audit-entry/v1\0');

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const dataSchema: Schema<Record<string, unknown>> = {
  expected: 'an object',
  parse(v, path = '') {
    if (!isPlainObject(v)) throw new SchemaError(path, 'an object', describe(v));
    return v;
  },
};

const entrySchema = object({
  seq: int({ min: 0 }),
  ts: number(),
  kind: text({ min: 1, max: 64, pattern: KIND_PATTERN }),
  data: dataSchema,
  prev: bytes({ len: HASH_BYTES }),
  hash: bytes({ len: HASH_BYTES }),
});

export function isValidKind(kind: unknown): kind is string {
  return typeof kind === 'string' && kind.length <= 64 && KIND_PATTERN.test(kind);
}

export function isEntryData(data: unknown): data is Record<string, unknown> {
  return isPlainObject(data);
}

/** The hash an entry with these fields must carry. Throws WireError if data is not canonically encodable. */
export function entryHash(fields: Omit<AuditEntry, 'hash'>): Uint8Array {
  const { seq, ts, kind, data, prev } = fields;
  const body = encodeCanonical({ seq, ts, kind, data, prev });
  const input = new Uint8Array(DOMAIN.length + body.length);
  input.set(DOMAIN);
  input.set(body, DOMAIN.length);
  return sha256(input);
}

export function encodeEntry(entry: AuditEntry): Uint8Array {
  const { seq, ts, kind, data, prev, hash } = entry;
  return encodeCanonical({ seq, ts, kind, data, prev, hash });
}

/**
 * Parses one stored entry: canonical CBOR (one encoding per entry, so no byte can
 * change unnoticed) of exactly the entry's fields. It does not check the hash.
 * Throws WireError or SchemaError.
 */
export function decodeEntry(record: Uint8Array): AuditEntry {
  const value = decodeCanonical(record, { maxBytes: MAX_ENTRY_BYTES, maxStringBytes: MAX_ENTRY_BYTES });
  return entrySchema.parse(value);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
