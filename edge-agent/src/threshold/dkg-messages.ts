import { sha256 } from '@noble/hashes/sha2.js';
import { decodeCanonical, decodeSignedFrame, encodeCanonical, encodeSignedFrame } from '../wire/index.js';
import { toHex as hex } from '../identity/index.js';

export { hex };
import type { DkgSigner, DropReason } from './dkg-types.js';

/**
 * The dealing protocol's messages. Each is a canonical CBOR body signed by its sender:
 *   signed  = {b: body bytes, s: signature over DOMAIN || body bytes}
 *   relayed = {i: signed bytes, r: [relayer parties], s: [relayer signatures]}
 * Bodies carry the session id, the round and the sender, so a package from another
 * session or round never verifies where it does not belong. Relayer signatures cover
 * RELAY_DOMAIN || sid || sha256(signed bytes): a chain of distinct relayers is how
 * a late disputed item proves it is not later than its chain length allows.
 */

const DOMAIN = new TextEncoder().encode('edge-agent/threshold/dealing/v1\0');
const RELAY_DOMAIN = new TextEncoder().encode('edge-agent/threshold/relay/v1\0');

export const ROUND = { r1: 1, share: 2, echo: 3, evidence: 4, complaint: 5, answer: 6, ok: 7 } as const;
export type Kind = keyof typeof ROUND;

export interface R1Body {
  readonly kind: 'r1';
  readonly commitments: readonly Uint8Array[];
  /** Schnorr proof of knowledge of a_0 (DKG only): R || z. */
  readonly pok?: Uint8Array;
}
export interface ShareBody {
  readonly kind: 'share';
  readonly to: number;
  readonly share: Uint8Array;
}
export interface EchoBody {
  readonly kind: 'echo';
  /** One per dealer in session order: sha256 of the signed round-1 bytes received, or empty. */
  readonly digests: readonly Uint8Array[];
}
export interface EvidenceBody {
  readonly kind: 'evidence';
  /** A dealer's signed round-1 bytes, posted when echoes disagree. */
  readonly pkg: Uint8Array;
}
export interface ComplaintBody {
  readonly kind: 'complaint';
  readonly against: number;
}
export interface AnswerBody {
  readonly kind: 'answer';
  readonly to: number;
  readonly share: Uint8Array;
}
/**
 * The early finish: "I hold exactly these round-1 packages (sha256 of each dealer's signed bytes, in
 * session order) and a valid share from every dealer, and I will never complain". A binding promise, relayed
 * like evidence; when every participant has promised the same digests, nobody can be disqualified.
 */
export interface OkBody {
  readonly kind: 'ok';
  readonly digests: readonly Uint8Array[];
}
export type Payload = R1Body | ShareBody | EchoBody | EvidenceBody | ComplaintBody | AnswerBody | OkBody;
export type Body = Payload & { readonly sid: Uint8Array; readonly round: number; readonly from: number };

export interface SignedMessage {
  /** The signed wire bytes (what gets relayed and hashed). */
  readonly bytes: Uint8Array;
  readonly digest: Uint8Array;
  readonly body: Body;
  /** DOMAIN || body bytes: what the sender's signature covers. */
  readonly signed: Uint8Array;
  readonly signature: Uint8Array;
}

export interface RelayedMessage {
  readonly item: Uint8Array;
  readonly relayers: readonly number[];
  readonly signatures: readonly Uint8Array[];
}

export type Decoded =
  | { readonly type: 'signed'; readonly message: SignedMessage }
  | { readonly type: 'relay'; readonly relay: RelayedMessage };

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function signMessage(sid: Uint8Array, from: number, payload: Payload, signer: DkgSigner): Uint8Array {
  const body: Record<string, unknown> = { ...payload, sid, round: ROUND[payload.kind], from };
  const b = encodeCanonical(body);
  const s = signer.sign(concat(DOMAIN, b));
  return encodeSignedFrame(b, s);
}

export function relayBytes(sid: Uint8Array, itemDigest: Uint8Array): Uint8Array {
  return concat(RELAY_DOMAIN, sid, itemDigest);
}

export function encodeRelay(relay: RelayedMessage): Uint8Array {
  return encodeCanonical({ i: relay.item, r: [...relay.relayers], s: [...relay.signatures] });
}

const isBytes = (v: unknown, len?: number): v is Uint8Array =>
  v instanceof Uint8Array && (len === undefined || v.length === len);
const isParty = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= 0xffffffff;

function exactKeys(o: Record<string, unknown>, keys: readonly string[], optional: readonly string[] = []): boolean {
  const own = Object.keys(o);
  for (const k of own) if (!keys.includes(k) && !optional.includes(k)) return false;
  for (const k of keys) if (!(k in o)) return false;
  return true;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Limits for one session: maxBytes bounds everything, the rest follow from n and t. */
export interface MessageLimits {
  readonly maxBytes: number;
  readonly maxItems: number;
}

function parseBody(b: Uint8Array, limits: MessageLimits): Body | DropReason {
  let v: unknown;
  try {
    v = decodeCanonical(b, { maxBytes: limits.maxBytes, maxDepth: 3, maxItems: limits.maxItems, maxStringBytes: limits.maxBytes });
  } catch {
    return 'malformed';
  }
  if (!isRecord(v)) return 'malformed';
  const { kind, sid, round, from } = v;
  if (typeof kind !== 'string' || !Object.hasOwn(ROUND, kind) || !isBytes(sid) || !isParty(from)) return 'malformed';
  if (round !== ROUND[kind as Kind]) return 'malformed';
  const base = ['kind', 'sid', 'round', 'from'];
  switch (kind as Kind) {
    case 'r1': {
      const c = v['commitments'];
      if (!exactKeys(v, [...base, 'commitments'], ['pok'])) return 'malformed';
      if (!Array.isArray(c) || c.length === 0 || !c.every((x) => isBytes(x, 32))) return 'malformed';
      if (v['pok'] !== undefined && !isBytes(v['pok'], 64)) return 'malformed';
      break;
    }
    case 'share':
    case 'answer':
      if (!exactKeys(v, [...base, 'to', 'share']) || !isParty(v['to']) || !isBytes(v['share'], 32)) return 'malformed';
      break;
    case 'echo': {
      const d = v['digests'];
      if (!exactKeys(v, [...base, 'digests']) || !Array.isArray(d) || !d.every((x) => isBytes(x) && (x.length === 0 || x.length === 32))) return 'malformed';
      break;
    }
    case 'ok': {
      const d = v['digests'];
      if (!exactKeys(v, [...base, 'digests']) || !Array.isArray(d) || d.length === 0 || !d.every((x) => isBytes(x, 32))) return 'malformed';
      break;
    }
    case 'evidence':
      if (!exactKeys(v, [...base, 'pkg']) || !isBytes(v['pkg'])) return 'malformed';
      break;
    case 'complaint':
      if (!exactKeys(v, [...base, 'against']) || !isParty(v['against'])) return 'malformed';
      break;
  }
  return v as unknown as Body;
}

/** Decodes the signed form without checking the signature (the caller knows the key). */
export function decodeSigned(bytes: Uint8Array, limits: MessageLimits): SignedMessage | DropReason {
  const frame = decodeSignedFrame(bytes, limits.maxBytes);
  if (typeof frame === 'string') return frame;
  const body = parseBody(frame.body, limits);
  if (typeof body === 'string') return body;
  return { bytes, digest: sha256(bytes), body, signed: concat(DOMAIN, frame.body), signature: frame.signature };
}

/** Top-level decode of anything a peer sent: a signed message or a relay of one. */
export function decodeIncoming(bytes: Uint8Array, limits: MessageLimits): Decoded | DropReason {
  if (!(bytes instanceof Uint8Array)) return 'malformed';
  if (bytes.length > limits.maxBytes) return 'oversized';
  let v: unknown;
  try {
    v = decodeCanonical(bytes, { maxBytes: limits.maxBytes, maxDepth: 3, maxItems: limits.maxItems, maxStringBytes: limits.maxBytes });
  } catch {
    return 'malformed';
  }
  if (!isRecord(v)) return 'malformed';
  if ('i' in v) {
    const { i, r, s } = v;
    if (!exactKeys(v, ['i', 'r', 's']) || !isBytes(i) || !Array.isArray(r) || !Array.isArray(s)) return 'malformed';
    if (r.length === 0 || r.length !== s.length || !r.every(isParty) || !s.every((x) => isBytes(x) && x.length <= 128)) return 'malformed';
    return { type: 'relay', relay: { item: i, relayers: r as number[], signatures: s as Uint8Array[] } };
  }
  const m = decodeSigned(bytes, limits);
  return typeof m === 'string' ? m : { type: 'signed', message: m };
}


/** Equality of public bytes (not for secrets: not constant-time). */
export const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
