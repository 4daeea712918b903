/**
 * Payloads: canonical CBOR by default (small, and what our own tools read),
 * JSON by config for Node-RED, Grafana and friends. In JSON, byte strings
 * become lowercase hex. Decoding sniffs the format: a JSON payload is an
 * object, so it starts with '{'; a CBOR map never starts with 0x7b ('{' is a
 * CBOR text string head, which no payload of ours is).
 */
import { decodeBounded, encodeCanonical } from '../wire/index.js';
import { TelemetryError } from './errors.js';

export const PAYLOAD_FORMATS = ['cbor', 'json'] as const;
export type PayloadFormat = (typeof PAYLOAD_FORMATS)[number];

/** Largest payload we decode from the broker. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

function jsonReplacer(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex') : value;
}

export function encodePayload(value: unknown, format: PayloadFormat): Uint8Array {
  if (format === 'cbor') return encodeCanonical(value);
  if (format === 'json') return Buffer.from(JSON.stringify(value, jsonReplacer));
  throw new TelemetryError('BAD_ARGUMENT', `Unknown payload format ${JSON.stringify(format)}.`);
}

export function decodePayload(bytes: Uint8Array): unknown {
  if (!(bytes instanceof Uint8Array)) throw new TelemetryError('BAD_PAYLOAD', 'A payload must be bytes.');
  if (bytes.length > MAX_PAYLOAD_BYTES) throw new TelemetryError('BAD_PAYLOAD', `A payload may hold at most ${MAX_PAYLOAD_BYTES} bytes, got ${bytes.length}.`);
  try {
    if (bytes[0] === 0x7b) return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as unknown;
    return decodeBounded(bytes, { maxBytes: MAX_PAYLOAD_BYTES, maxStringBytes: MAX_PAYLOAD_BYTES });
  } catch (err) {
    throw new TelemetryError('BAD_PAYLOAD', `The payload is neither valid JSON nor valid CBOR: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
