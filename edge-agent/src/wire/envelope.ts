import * as s from '../schema/index.js';
import { encodeCanonical, encodeCanonicalAfter } from './canonical.js';
import { decodeCanonical } from './decode.js';
import { WireError } from './errors.js';
import type { DecodeLimits } from './limits.js';
import { MessageRegistry, type EnvelopeOf, type MessageType } from './registry.js';
import { envelopeSchema } from './header.js';
import { ENVELOPE_VERSION, type Envelope } from './shape.js';

/**
 * Prefix of every signed byte string. The trailing NUL keeps the set of domains prefix-free,
 * so a signature over an envelope can never verify as one over another kind of data.
 */
const SIGNING_DOMAIN = new TextEncoder().encode('edge-agent/envelope/v1\0');

/** Any body at all; the message type's own schema judges it on the receiving side. */
const anyBody: s.Schema<unknown> = {
  expected: 'a message body',
  parse(value: unknown, path = ''): unknown {
    if (value === undefined) throw new s.SchemaError(path, 'a message body', 'nothing');
    return value;
  },
};
const outgoing = envelopeSchema(anyBody);

function schemaFailure(err: unknown, what: string): never {
  if (err instanceof s.SchemaError) throw new WireError('SCHEMA', `${what}: ${err.message}`, { cause: err });
  throw err;
}

function checkOutgoing(env: Envelope): Envelope {
  try {
    return outgoing.parse(env, '') as Envelope;
  } catch (err) {
    return schemaFailure(err, 'envelope');
  }
}

/** The canonical bytes of `env`, after checking its header fields (the body must be canonically encodable). */
export function encodeEnvelope(env: Envelope): Uint8Array {
  return encodeCanonical(checkOutgoing(env));
}

/** What a signature covers: the domain prefix, then the canonical envelope without `sig`. */
export function signingBytes(env: Envelope): Uint8Array {
  return encodeCanonicalAfter(SIGNING_DOMAIN, { ...checkOutgoing(env), sig: undefined });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/**
 * Decodes canonical envelope bytes and checks them against the registered type:
 * WireError('VERSION') for another version, 'UNKNOWN_TYPE' for an unregistered type,
 * 'SCHEMA' (naming the path) for a bad header or body, or any decoding code.
 * It does not check the signature: that is the identity room's job.
 */
export function decodeEnvelope<M extends MessageType>(
  bytes: Uint8Array,
  registry: MessageRegistry<M>,
  limits?: Partial<DecodeLimits>,
): EnvelopeOf<M> {
  if (!(registry instanceof MessageRegistry)) throw new WireError('ARGUMENT', 'decodeEnvelope needs a MessageRegistry');
  const raw = decodeCanonical(bytes, limits);
  if (!isRecord(raw)) throw new WireError('SCHEMA', `envelope: expected a map, got ${s.describe(raw)}`);
  // The version decides how to read everything else, so it is judged first.
  const { v, type } = raw;
  if (v !== ENVELOPE_VERSION) {
    if (typeof v === 'number' && Number.isSafeInteger(v)) throw new WireError('VERSION', `envelope version ${v} is not supported (only ${ENVELOPE_VERSION})`);
    throw new WireError('SCHEMA', `envelope: v: expected the version number ${ENVELOPE_VERSION}, got ${s.describe(v)}`);
  }
  if (typeof type !== 'string') throw new WireError('SCHEMA', `envelope: type: expected a message type name, got ${s.describe(type)}`);
  const message = registry.get(type);
  if (message === undefined) throw new WireError('UNKNOWN_TYPE', `no message type ${JSON.stringify(type.slice(0, 64))} is registered`);
  try {
    return message.envelope.parse(raw, '') as EnvelopeOf<M>;
  } catch (err) {
    return schemaFailure(err, `${type} envelope`);
  }
}
