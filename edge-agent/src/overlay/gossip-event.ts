/**
 * The signed overlay event: "peer P has connected to / disconnected from
 * neighbour N, P having dialled (out) or accepted (in) the link, at time T".
 *
 * Wire form (canonical CBOR): { body: bytes, sig: bytes(64), ttl: uint }.
 * `body` is itself the canonical CBOR of the event fields plus the signer's
 * public key and proof-of-work nonce, carried as a byte string so that the
 * signed bytes travel unchanged and the event hash (SHA-256 of `body`) needs
 * no re-encoding. `ttl`, the hops left, sits outside the signature because
 * every hop changes it; it is therefore unauthenticated (see docs/overlay-gossip.md).
 *
 * Decoding is split in stages so the gossip core can drop a duplicate after a
 * hash (parseFrame, eventHash) before paying for the signature (verifyEventBody).
 */
import { hash as nodeHash } from 'node:crypto';
import { POW_NONCE_LENGTH, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, sign, verify as identityVerify, verifyPow } from '../identity/index.js';
import { SchemaError, bytes, int, object, oneOf } from '../schema/index.js';
import { WireError, decodeCanonical, encodeCanonical, type DecodeLimits } from '../wire/index.js';
import { GossipError } from './gossip-errors.js';

export const EVENT_VERSION = 1;
/** Signed bytes are this prefix followed by the body, so no other signed message can pass for an event. */
export const EVENT_DOMAIN = new TextEncoder().encode('edge-agent/overlay/event/v1\0');
export const PEER_ID_BYTES = 32;
/** Hop counts above this are refused as malformed; cores clamp further to their own maxTtl. */
export const MAX_WIRE_TTL = 255;
/** A frame is about 300 bytes; anything much larger is refused before decoding. */
export const MAX_FRAME_BYTES = 512;

export type EventKind = 'connect' | 'disconnect';
export type Direction = 'in' | 'out';

/** The signed content of an event. */
export interface GossipEvent {
  readonly v: 1;
  readonly event: EventKind;
  /** The signer: SHA-256 of publicKey. */
  readonly peerId: Uint8Array;
  readonly neighbour: Uint8Array;
  /** 'out': peerId dialled neighbour; 'in': neighbour dialled peerId. */
  readonly direction: Direction;
  /** Milliseconds since the Unix epoch on the signer's clock. */
  readonly timestamp: number;
  readonly publicKey: Uint8Array;
  /** The signer's proof-of-work nonce (identity/ verifyPow). */
  readonly pow: Uint8Array;
}

/** A frame split into its parts; nothing is verified yet. */
export interface EventFrame {
  readonly body: Uint8Array;
  readonly sig: Uint8Array;
  readonly ttl: number;
}

/** What signing needs: the secret key, and the public key and PoW nonce the body carries. */
export interface EventSigner {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly pow: Uint8Array;
}

export type Verifier = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean;

const FRAME_LIMITS: Partial<DecodeLimits> = { maxBytes: MAX_FRAME_BYTES, maxDepth: 2, maxItems: 16, maxStringBytes: MAX_FRAME_BYTES };
const BODY_LIMITS: Partial<DecodeLimits> = { maxBytes: MAX_FRAME_BYTES, maxDepth: 2, maxItems: 16, maxStringBytes: 64 };

const frameSchema = object({
  body: bytes({ min: 1, max: MAX_FRAME_BYTES }),
  sig: bytes({ len: SIGNATURE_LENGTH }),
  ttl: int({ min: 0, max: MAX_WIRE_TTL }),
});

const bodySchema = object({
  v: oneOf([EVENT_VERSION] as const),
  event: oneOf(['connect', 'disconnect'] as const),
  peerId: bytes({ len: PEER_ID_BYTES }),
  neighbour: bytes({ len: PEER_ID_BYTES }),
  direction: oneOf(['in', 'out'] as const),
  timestamp: int({ min: 0 }),
  publicKey: bytes({ len: PUBLIC_KEY_LENGTH }),
  pow: bytes({ len: POW_NONCE_LENGTH }),
});

function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(nodeHash('sha256', data, 'buffer'));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function malformed(what: string, err: unknown): GossipError {
  const detail = err instanceof SchemaError || err instanceof WireError ? err.message : String(err);
  return new GossipError('MALFORMED', `${what}: ${detail}`, { cause: err });
}

/** The event's identity in the seen cache: SHA-256 of the signed body bytes (ttl excluded). */
export function eventHash(body: Uint8Array): Uint8Array {
  if (!(body instanceof Uint8Array)) throw new GossipError('BAD_ARGUMENT', 'eventHash: body must be a Uint8Array');
  return sha256(body);
}

/** The bytes the signature covers. */
export function signingMessage(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(EVENT_DOMAIN.length + body.length);
  out.set(EVENT_DOMAIN, 0);
  out.set(body, EVENT_DOMAIN.length);
  return out;
}

function requireTtl(ttl: unknown): number {
  if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 0 || ttl > MAX_WIRE_TTL) {
    throw new GossipError('BAD_ARGUMENT', `ttl must be an integer from 0 to ${MAX_WIRE_TTL}, got ${String(ttl)}`);
  }
  return ttl;
}

/** Encodes a frame; `body` and `sig` are taken as they are (use signEvent to make them). */
export function encodeFrame(frame: EventFrame): Uint8Array {
  if (typeof frame !== 'object' || frame === null) throw new GossipError('BAD_ARGUMENT', 'encodeFrame: frame must be an object');
  if (!(frame.body instanceof Uint8Array) || frame.body.length === 0 || frame.body.length > MAX_FRAME_BYTES) {
    throw new GossipError('BAD_ARGUMENT', `encodeFrame: body must be 1 to ${MAX_FRAME_BYTES} bytes`);
  }
  if (!(frame.sig instanceof Uint8Array) || frame.sig.length !== SIGNATURE_LENGTH) {
    throw new GossipError('BAD_ARGUMENT', `encodeFrame: sig must be ${SIGNATURE_LENGTH} bytes`);
  }
  return encodeCanonical({ body: frame.body, sig: frame.sig, ttl: requireTtl(frame.ttl) });
}

/** Splits a frame; throws GossipError('MALFORMED') for anything but a canonical, in-bounds frame. */
export function parseFrame(data: Uint8Array): EventFrame {
  if (!(data instanceof Uint8Array)) throw new GossipError('BAD_ARGUMENT', 'parseFrame: data must be a Uint8Array');
  if (data.length > MAX_FRAME_BYTES) throw new GossipError('MALFORMED', `event frame of ${data.length} bytes exceeds ${MAX_FRAME_BYTES}`);
  try {
    return frameSchema.parse(decodeCanonical(data, FRAME_LIMITS), 'frame');
  } catch (err) {
    throw malformed('event frame', err);
  }
}

/**
 * Parses the body and checks what costs no cryptography beyond one hash:
 * MALFORMED for bad CBOR or fields, INCONSISTENT when peerId is not SHA-256 of
 * publicKey or the neighbour is the peer itself.
 */
export function parseBody(body: Uint8Array): GossipEvent {
  if (!(body instanceof Uint8Array)) throw new GossipError('BAD_ARGUMENT', 'parseBody: body must be a Uint8Array');
  let event: GossipEvent;
  try {
    event = bodySchema.parse(decodeCanonical(body, BODY_LIMITS), 'body');
  } catch (err) {
    throw malformed('event body', err);
  }
  if (!equalBytes(sha256(event.publicKey), event.peerId)) {
    throw new GossipError('INCONSISTENT', 'event peerId is not SHA-256 of its public key');
  }
  if (equalBytes(event.peerId, event.neighbour)) throw new GossipError('INCONSISTENT', 'event names its own peer as neighbour');
  return event;
}

/** Throws BAD_POW, then BAD_SIGNATURE; PoW first because it costs one hash against ~1 ms for ECDSA. */
export function verifyEventBody(event: GossipEvent, body: Uint8Array, sig: Uint8Array, difficulty: number, verifier: Verifier = identityVerify): void {
  if (!verifyPow(event.publicKey, event.pow, difficulty)) {
    throw new GossipError('BAD_POW', `event signer's proof of work is below difficulty ${difficulty}`);
  }
  if (!verifier(event.publicKey, signingMessage(body), sig)) throw new GossipError('BAD_SIGNATURE', 'event signature does not verify');
}

export interface EventFields {
  readonly event: EventKind;
  readonly neighbour: Uint8Array;
  readonly direction: Direction;
  readonly timestamp: number;
}

export interface SignedEvent {
  readonly event: GossipEvent;
  readonly body: Uint8Array;
  readonly sig: Uint8Array;
  readonly hash: Uint8Array;
}

/** Builds, checks and signs an event as `signer`. */
export function signEvent(fields: EventFields, signer: EventSigner): SignedEvent {
  if (typeof fields !== 'object' || fields === null) throw new GossipError('BAD_ARGUMENT', 'signEvent: fields must be an object');
  if (typeof signer !== 'object' || signer === null || !(signer.publicKey instanceof Uint8Array)) {
    throw new GossipError('BAD_ARGUMENT', 'signEvent: signer must hold secretKey, publicKey and pow');
  }
  const candidate = {
    v: EVENT_VERSION,
    event: fields.event,
    peerId: sha256(signer.publicKey),
    neighbour: fields.neighbour,
    direction: fields.direction,
    timestamp: fields.timestamp,
    publicKey: signer.publicKey,
    pow: signer.pow,
  };
  let event: GossipEvent;
  try {
    event = bodySchema.parse(candidate, 'event');
  } catch (err) {
    throw new GossipError('BAD_ARGUMENT', `signEvent: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (equalBytes(event.peerId, event.neighbour)) throw new GossipError('BAD_ARGUMENT', 'signEvent: a peer cannot be its own neighbour');
  const body = encodeCanonical(event);
  const sig = sign(signer.secretKey, signingMessage(body));
  return { event, body, sig, hash: sha256(body) };
}

export interface DecodedEvent {
  readonly event: GossipEvent;
  readonly ttl: number;
  readonly hash: Uint8Array;
}

/** Every check in one call, for callers outside the gossip core (the core runs the stages itself). */
export function decodeEvent(data: Uint8Array, opts: { difficulty: number; verify?: Verifier }): DecodedEvent {
  const frame = parseFrame(data);
  const event = parseBody(frame.body);
  verifyEventBody(event, frame.body, frame.sig, opts.difficulty, opts.verify);
  return { event, ttl: frame.ttl, hash: sha256(frame.body) };
}

/** A signed event as a frame with `ttl` hops left. */
export function encodeEvent(signed: Pick<SignedEvent, 'body' | 'sig'>, ttl: number): Uint8Array {
  return encodeFrame({ body: signed.body, sig: signed.sig, ttl });
}
