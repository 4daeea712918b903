/**
 * The bytes of a command.
 *
 * body    = canonical CBOR { v: 1, fleet, target, name, args, nonce, issuedAt, expiresAt, signer }
 * message = canonical CBOR { body: <body bytes>, sig: <signature bytes> }
 *         | JSON {"body":"<hex>","sig":"<hex>"} (for tools such as Node-RED; a first byte '{' means JSON)
 * The signature covers COMMAND_DOMAIN || body. Both decoders are bounded, and the body must be
 * canonical, so a command has exactly one byte form and the signed bytes are the bytes checked.
 */
import { decodeCanonical, encodeCanonical, WireError } from '../wire/index.js';
import { SchemaError, bytes, int, object, oneOf, optional, refine, text, type Schema } from '../schema/index.js';
import { CommandError } from './errors.js';

export const COMMAND_VERSION = 1;
/** Signatures cover this prefix and the body, so no other signed bytes can pass for a command. */
export const COMMAND_DOMAIN = 'edge-agent/command/v1\0';
const DOMAIN_BYTES = new TextEncoder().encode(COMMAND_DOMAIN);

/** Largest payload accepted, in either form. */
export const MAX_PAYLOAD_BYTES = 4096;
/** Largest body; small enough that its JSON form (hex, twice the size) still fits MAX_PAYLOAD_BYTES. */
export const MAX_BODY_BYTES = 1536;
export const NONCE_LENGTH = 16;
/** Every agent of the fleet. */
export const ALL_TARGETS = '*';

const FLEET = /^[a-z0-9][a-z0-9-]{0,62}$/; // as config/ spells a fleet name
const TARGET = /^(?:[0-9a-f]{64}|\*)$/;
const NAME = /^[a-z][a-z0-9-]{0,63}$/;
const JSON_OPEN = 0x7b; // '{'; as CBOR it would start a text string, never a command

export interface CommandBody {
  readonly v: 1;
  readonly fleet: string;
  /** A peer id in lowercase hex, or "*" for every agent of the fleet. */
  readonly target: string;
  readonly name: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly nonce: Uint8Array;
  /** Milliseconds since the epoch. */
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** The signer's public key: 33 bytes (secp256k1) or 32 (Ed25519). */
  readonly signer: Uint8Array;
}

export interface CommandMessage {
  readonly body: Uint8Array;
  /** Absent or empty: the command is unsigned. */
  readonly sig: Uint8Array | undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A map whose entries the command's own schema checks later (registry.ts). */
const argsMap: Schema<Record<string, unknown>> = {
  expected: 'a map of arguments',
  parse(value: unknown, path = ''): Record<string, unknown> {
    if (!isPlainObject(value)) throw new SchemaError(path, 'a map of arguments', typeof value);
    return value;
  },
};

const time = int({ min: 0 });

const bodySchema = refine(
  object({
    v: oneOf([COMMAND_VERSION]),
    fleet: text({ pattern: FLEET, hint: 'a fleet name' }),
    target: text({ pattern: TARGET, hint: 'a peer id (64 lowercase hex characters) or "*"' }),
    name: text({ pattern: NAME, hint: 'a command name (lowercase letters, digits and dashes)' }),
    args: argsMap,
    nonce: bytes({ len: NONCE_LENGTH }),
    issuedAt: time,
    expiresAt: time,
    signer: bytes({ min: 32, max: 33 }),
  }),
  'a command that expires after it is issued',
  (b) => b.expiresAt > b.issuedAt,
);

const messageSchema = object({ body: bytes({ min: 1, max: MAX_BODY_BYTES }), sig: optional(bytes({ max: MAX_PAYLOAD_BYTES })) });

const MESSAGE_LIMITS = { maxBytes: MAX_PAYLOAD_BYTES, maxDepth: 1, maxItems: 4, maxStringBytes: MAX_PAYLOAD_BYTES };
const BODY_LIMITS = { maxBytes: MAX_BODY_BYTES, maxDepth: 4, maxItems: 32, maxStringBytes: MAX_BODY_BYTES };

/** Bytes that are not a command; the message says why. Internal: verify turns it into MALFORMED. */
export class FormatFault extends Error {
  override readonly name = 'FormatFault';
}

/** Schema errors already name their path (message.sig, body.args); wire errors say where in which bytes. */
function fault(what: string, err: unknown): FormatFault {
  if (err instanceof SchemaError) return new FormatFault(err.message);
  if (err instanceof WireError) return new FormatFault(`${what}: ${err.message}`);
  throw err;
}

export function signingBytes(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(DOMAIN_BYTES.length + body.length);
  out.set(DOMAIN_BYTES, 0);
  out.set(body, DOMAIN_BYTES.length);
  return out;
}

/** The canonical encoding of a body; throws CommandError('BAD_ARGUMENT') for one that would not verify. */
export function encodeBody(body: CommandBody): Uint8Array {
  let checked;
  try {
    checked = bodySchema.parse(body, 'body');
  } catch (err) {
    if (err instanceof SchemaError) throw new CommandError('BAD_ARGUMENT', `command ${err.message}`);
    throw err;
  }
  let encoded: Uint8Array;
  try {
    encoded = encodeCanonical(checked);
  } catch (err) {
    if (err instanceof WireError) throw new CommandError('BAD_ARGUMENT', `command body: ${err.message}`);
    throw err;
  }
  if (encoded.length > MAX_BODY_BYTES) {
    throw new CommandError('BAD_ARGUMENT', `command body is ${encoded.length} bytes, more than the ${MAX_BODY_BYTES} an agent accepts`);
  }
  return encoded;
}

/** Decodes and checks a body; throws FormatFault. */
export function decodeBody(encoded: Uint8Array): CommandBody {
  try {
    return bodySchema.parse(decodeCanonical(encoded, BODY_LIMITS), 'body') as CommandBody;
  } catch (err) {
    throw fault('body', err);
  }
}

export function encodeMessage(body: Uint8Array, sig: Uint8Array): Uint8Array {
  return encodeCanonical({ body, sig });
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function hexField(value: unknown, field: string): Uint8Array | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !HEX.test(value)) throw new FormatFault(`${field}: expected a hex string`);
  return Uint8Array.from(Buffer.from(value, 'hex'));
}

function decodeJson(payload: Uint8Array): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(payload));
  } catch (err) {
    throw new FormatFault(`not valid JSON (${err instanceof Error ? err.message : 'undecodable'})`);
  }
  if (!isPlainObject(parsed)) throw new FormatFault('JSON form: expected an object with body and sig');
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(parsed)) {
    if (key !== 'body' && key !== 'sig') throw new FormatFault(`JSON form: unknown property ${JSON.stringify(key.slice(0, 32))}`);
    out[key] = hexField(parsed[key], key);
  }
  return out;
}

/** Splits a payload (CBOR or JSON form) into body and signature; throws FormatFault. */
export function decodeMessage(payload: Uint8Array): CommandMessage {
  if (payload.length > MAX_PAYLOAD_BYTES) throw new FormatFault(`payload is ${payload.length} bytes, more than ${MAX_PAYLOAD_BYTES}`);
  let value: unknown;
  if (payload[0] === JSON_OPEN) value = decodeJson(payload);
  else {
    try {
      value = decodeCanonical(payload, MESSAGE_LIMITS);
    } catch (err) {
      throw fault('message', err);
    }
  }
  try {
    const { body, sig } = messageSchema.parse(value, 'message');
    return { body, sig };
  } catch (err) {
    throw fault('message', err);
  }
}

/** The JSON form of a CBOR-form command (what signCommand returns), for tools that speak JSON. */
export function commandToJson(message: Uint8Array): string {
  if (!(message instanceof Uint8Array)) throw new CommandError('BAD_ARGUMENT', 'commandToJson: expected the bytes of a command');
  let decoded: CommandMessage;
  try {
    decoded = decodeMessage(message);
  } catch (err) {
    if (err instanceof FormatFault) throw new CommandError('BAD_ARGUMENT', `commandToJson: ${err.message}`);
    throw err;
  }
  const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
  return JSON.stringify(decoded.sig === undefined ? { body: hex(decoded.body) } : { body: hex(decoded.body), sig: hex(decoded.sig) });
}
