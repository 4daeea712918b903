/**
 * Source-routed direct messages: the sender names every hop to the
 * destination; each hop checks it is the one named, that the frame came from
 * the hop before it, and passes it on. One hop may, once, replace the rest of
 * the route (a detour around a link that has gone), signing the change, if the
 * sender allowed it. Delivery is best effort: nothing is acknowledged or
 * retried here, and the route length is the hop limit.
 *
 * Wire form (canonical CBOR):
 *   { v: 1, src, srcKey, srcPow, dst, route: [peer ids], id: bytes(16), ts,
 *     rerouteAllowed, payload, sig, hop, reroute?: { at, by, byKey, byPow, newTail, sig } }
 * `route` runs from the sender's first hop to dst (src excluded). `hop` is the
 * index, in the effective route, of the peer that should act next; it is
 * outside every signature because each hop changes it, and is pinned instead
 * by the link: the frame must arrive from the peer before `hop`.
 * The sender signs EVENT-style: ROUTE_DOMAIN || canonical header, where the
 * header holds every field but payload (replaced by its SHA-256), sig and hop.
 * A re-route signs REROUTE_DOMAIN || canonical { v, msg: SHA-256(header), at,
 * by, byKey, byPow, newTail }, so it binds to exactly one message.
 * Effective route = route[0..at] ++ newTail: the re-routing hop is route[at].
 *
 * RouteCore is a pure core: bytes and the caller's view of its neighbours in,
 * a decision out. The caller owns the sockets and the map of the overlay.
 */
import { hash as nodeHash, randomFillSync } from 'node:crypto';
import { type Clock, isClock } from '../clock/index.js';
import {
  DEFAULT_POW_DIFFICULTY,
  MAX_POW_DIFFICULTY,
  POW_NONCE_LENGTH,
  PUBLIC_KEY_LENGTH,
  SIGNATURE_LENGTH,
  sign,
  verify as identityVerify,
  verifyPow,
} from '../identity/index.js';
import { SchemaError, array, bool, bytes, int, object, oneOf, optional } from '../schema/index.js';
import { WireError, decodeCanonical, encodeCanonical, type DecodeLimits } from '../wire/index.js';
import type { EventSigner, Verifier } from './gossip-event.js';
import { SeenCache } from './seen-cache.js';
import { RouteError } from './route-errors.js';

export const ROUTE_VERSION = 1;
export const ROUTE_DOMAIN = new TextEncoder().encode('edge-agent/overlay/route/v1\0');
export const REROUTE_DOMAIN = new TextEncoder().encode('edge-agent/overlay/reroute/v1\0');
export const ROUTE_PEER_ID_BYTES = 32;
export const MESSAGE_ID_BYTES = 16;
/** Longest route the codec accepts; cores refuse longer than their own maxHops (default 16) as HOP_LIMIT. */
export const MAX_WIRE_HOPS = 64;
/** Largest payload any core may be configured to carry. */
export const MAX_ROUTE_PAYLOAD = 64 * 1024;
/** Two routes of MAX_WIRE_HOPS ids, keys, nonces and signatures fit in well under 8 KiB. */
export const MAX_ROUTE_FRAME_BYTES = MAX_ROUTE_PAYLOAD + 8 * 1024;

/** What signing needs: the secret key, and the public key and PoW nonce the frame carries. */
export type RouteSigner = EventSigner;

export type DropReason =
  | 'MALFORMED'
  | 'TOO_LARGE'
  | 'HOP_LIMIT'
  | 'NOT_ON_ROUTE'
  | 'WRONG_SENDER'
  | 'STALE'
  | 'DUPLICATE'
  | 'BAD_POW'
  | 'BAD_SIGNATURE'
  | 'BAD_REROUTE_SIGNATURE'
  | 'UNREACHABLE';

/** A re-route the caller may perform; opaque, valid once, only on the core that returned it. */
export interface PendingReroute {
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly id: Uint8Array;
  /** Our index in the route: the detour starts after us. */
  readonly at: number;
  /** The next hop the route names, which is not our neighbour. */
  readonly unreachable: Uint8Array;
}

export type RouteResult =
  | { readonly kind: 'deliver'; readonly src: Uint8Array; readonly id: Uint8Array; readonly payload: Uint8Array }
  | { readonly kind: 'forward'; readonly nextHop: Uint8Array; readonly bytes: Uint8Array }
  | { readonly kind: 'reroute-needed'; readonly pending: PendingReroute }
  | { readonly kind: 'drop'; readonly reason: DropReason; readonly detail: string };

export interface Outgoing {
  readonly nextHop: Uint8Array;
  readonly bytes: Uint8Array;
}

export interface ReceiveContext {
  /** True when `peer` is a live neighbour we can hand the frame to. */
  isNeighbour(peer: Uint8Array): boolean;
}

export interface RouteOptions {
  /** Our peer id (32 bytes). */
  readonly ourId: Uint8Array;
  /** Stamps originated messages; receive takes `now` explicitly. */
  readonly clock: Clock;
  /** Longest route, re-routes included (default 16, at most MAX_WIRE_HOPS). */
  readonly maxHops?: number;
  /** Largest payload (default and at most MAX_ROUTE_PAYLOAD). */
  readonly maxPayload?: number;
  /** Proof-of-work bits demanded of senders and re-routers (default identity's DEFAULT_POW_DIFFICULTY). */
  readonly difficulty?: number;
  /** Messages stamped before now - maxAgeMs are STALE (default 5 min): the seen cache cannot hold ids forever. */
  readonly maxAgeMs?: number;
  /** Messages stamped after now + maxFutureSkewMs are STALE (default 30 s). */
  readonly maxFutureSkewMs?: number;
  /** Seen-cache entries (default 100 000); entries live maxAgeMs + maxFutureSkewMs. */
  readonly seenCapacity?: number;
  /** Signature check, injectable so tests can count calls. */
  readonly verify?: Verifier;
}

export interface OriginateOptions {
  /** Let one hop on the way replace the rest of the route once (default false). */
  readonly allowReroute?: boolean;
  /** Message id (16 bytes); random by default. */
  readonly id?: Uint8Array;
}

const peerIdSchema = bytes({ len: ROUTE_PEER_ID_BYTES });
const routeSchema = array(peerIdSchema, { min: 1, max: MAX_WIRE_HOPS });

const rerouteSchema = object({
  at: int({ min: 0, max: MAX_WIRE_HOPS - 1 }),
  by: peerIdSchema,
  byKey: bytes({ len: PUBLIC_KEY_LENGTH }),
  byPow: bytes({ len: POW_NONCE_LENGTH }),
  newTail: routeSchema,
  sig: bytes({ len: SIGNATURE_LENGTH }),
});

const frameSchema = object({
  v: oneOf([ROUTE_VERSION] as const),
  src: peerIdSchema,
  srcKey: bytes({ len: PUBLIC_KEY_LENGTH }),
  srcPow: bytes({ len: POW_NONCE_LENGTH }),
  dst: peerIdSchema,
  route: routeSchema,
  id: bytes({ len: MESSAGE_ID_BYTES }),
  ts: int({ min: 0 }),
  rerouteAllowed: bool(),
  payload: bytes({ min: 0, max: MAX_ROUTE_FRAME_BYTES }),
  sig: bytes({ len: SIGNATURE_LENGTH }),
  hop: int({ min: 0, max: 2 * MAX_WIRE_HOPS }),
  reroute: optional(rerouteSchema),
});

type WireFrame = ReturnType<typeof frameSchema.parse>;
type WireReroute = NonNullable<WireFrame['reroute']>;

const LIMITS: Partial<DecodeLimits> = {
  maxBytes: MAX_ROUTE_FRAME_BYTES,
  maxDepth: 3,
  maxItems: MAX_WIRE_HOPS,
  maxStringBytes: MAX_ROUTE_FRAME_BYTES,
};

function sha256(...parts: Uint8Array[]): Uint8Array {
  const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  return new Uint8Array(nodeHash('sha256', data, 'buffer'));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

function prefixed(domain: Uint8Array, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(domain.length + body.length);
  out.set(domain, 0);
  out.set(body, domain.length);
  return out;
}

/** The canonical bytes the sender signs (after ROUTE_DOMAIN). */
export function sourceHeader(f: Omit<WireFrame, 'payload' | 'sig' | 'hop' | 'reroute'>, payloadHash: Uint8Array): Uint8Array {
  return encodeCanonical({
    v: f.v,
    src: f.src,
    srcKey: f.srcKey,
    srcPow: f.srcPow,
    dst: f.dst,
    route: f.route,
    id: f.id,
    ts: f.ts,
    rerouteAllowed: f.rerouteAllowed,
    payloadHash,
  });
}

/** The canonical bytes a re-routing hop signs (after REROUTE_DOMAIN). */
export function rerouteBody(headerHash: Uint8Array, r: Omit<WireReroute, 'sig'>): Uint8Array {
  return encodeCanonical({ v: ROUTE_VERSION, msg: headerHash, at: r.at, by: r.by, byKey: r.byKey, byPow: r.byPow, newTail: r.newTail });
}

/** Route[0..at] ++ newTail when re-routed, else route. */
export function effectiveRoute(route: readonly Uint8Array[], reroute?: { at: number; newTail: readonly Uint8Array[] }): Uint8Array[] {
  return reroute === undefined ? [...route] : [...route.slice(0, reroute.at + 1), ...reroute.newTail];
}

/** First problem with `path` as a route from `src` to `dst`, or undefined. */
function routeProblem(src: Uint8Array, dst: Uint8Array, path: readonly Uint8Array[], maxHops: number): { reason: 'MALFORMED' | 'HOP_LIMIT'; detail: string } | undefined {
  if (path.length === 0) return { reason: 'MALFORMED', detail: 'route is empty' };
  if (!equalBytes(path[path.length - 1]!, dst)) return { reason: 'MALFORMED', detail: 'route does not end at dst' };
  if (path.length > maxHops) return { reason: 'HOP_LIMIT', detail: `route of ${path.length} hops exceeds ${maxHops}` };
  const seen = new Set<string>([hex(src)]);
  for (const p of path) {
    const k = hex(p);
    if (seen.has(k)) return { reason: 'HOP_LIMIT', detail: 'route loops: a peer appears twice' };
    seen.add(k);
  }
  return undefined;
}

function intOption(value: unknown, fallback: number, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new RouteError('BAD_ARGUMENT', `RouteCore: ${what} must be an integer from ${min} to ${max}, got ${String(v)}`);
  }
  return v;
}

function requirePeerId(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== ROUTE_PEER_ID_BYTES) {
    throw new RouteError('BAD_ARGUMENT', `${what} must be a ${ROUTE_PEER_ID_BYTES}-byte peer id`);
  }
  return value;
}

function requireRoute(value: unknown, what: string): Uint8Array[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_WIRE_HOPS) {
    throw new RouteError('BAD_ROUTE', `${what} must be a list of 1 to ${MAX_WIRE_HOPS} peer ids`);
  }
  return value.map((p, i) => requirePeerId(p, `${what}[${i}]`));
}

function requireSigner(signer: unknown, ourId: Uint8Array, what: string): RouteSigner {
  const s = signer as Partial<RouteSigner> | null;
  if (
    typeof s !== 'object' || s === null ||
    !(s.secretKey instanceof Uint8Array) ||
    !(s.publicKey instanceof Uint8Array) || s.publicKey.length !== PUBLIC_KEY_LENGTH ||
    !(s.pow instanceof Uint8Array) || s.pow.length !== POW_NONCE_LENGTH
  ) {
    throw new RouteError('BAD_ARGUMENT', `${what}: signer must hold secretKey, a ${PUBLIC_KEY_LENGTH}-byte publicKey and a ${POW_NONCE_LENGTH}-byte pow`);
  }
  if (!equalBytes(sha256(s.publicKey), ourId)) throw new RouteError('BAD_ARGUMENT', `${what}: signer's key is not ours`);
  return s as RouteSigner;
}

function describeError(err: unknown): string {
  return err instanceof SchemaError || err instanceof WireError ? err.message : String(err);
}

interface PendingState {
  frame: WireFrame;
  headerHash: Uint8Array;
  used: boolean;
}

const drop = (reason: DropReason, detail: string): RouteResult => ({ kind: 'drop', reason, detail });

export class RouteCore {
  readonly ourId: Uint8Array;
  readonly maxHops: number;
  readonly maxPayload: number;
  readonly difficulty: number;
  readonly maxAgeMs: number;
  readonly maxFutureSkewMs: number;
  readonly #clock: Clock;
  readonly #verify: Verifier;
  readonly #seen: SeenCache;
  readonly #pending = new WeakMap<PendingReroute, PendingState>();

  constructor(opts: RouteOptions) {
    if (typeof opts !== 'object' || opts === null) throw new RouteError('BAD_ARGUMENT', 'RouteCore: options must be an object');
    this.ourId = new Uint8Array(requirePeerId(opts.ourId, 'RouteCore: ourId'));
    if (!isClock(opts.clock)) throw new RouteError('BAD_ARGUMENT', 'RouteCore: clock must be a Clock');
    if (opts.verify !== undefined && typeof opts.verify !== 'function') throw new RouteError('BAD_ARGUMENT', 'RouteCore: verify must be a function');
    this.#clock = opts.clock;
    this.#verify = opts.verify ?? identityVerify;
    this.maxHops = intOption(opts.maxHops, 16, 'maxHops', 1, MAX_WIRE_HOPS);
    this.maxPayload = intOption(opts.maxPayload, MAX_ROUTE_PAYLOAD, 'maxPayload', 0, MAX_ROUTE_PAYLOAD);
    this.difficulty = intOption(opts.difficulty, DEFAULT_POW_DIFFICULTY, 'difficulty', 0, MAX_POW_DIFFICULTY);
    this.maxAgeMs = intOption(opts.maxAgeMs, 5 * 60_000, 'maxAgeMs', 1);
    this.maxFutureSkewMs = intOption(opts.maxFutureSkewMs, 30_000, 'maxFutureSkewMs', 0);
    // An id must stay in the cache for as long as its timestamp would pass the STALE check.
    this.#seen = new SeenCache(this.maxAgeMs + this.maxFutureSkewMs, intOption(opts.seenCapacity, 100_000, 'seenCapacity', 1));
  }

  /** Signs a message from us to `dst` along `route` (first hop .. dst); the caller sends `bytes` to `nextHop`. */
  originate(dst: Uint8Array, route: readonly Uint8Array[], payload: Uint8Array, signer: RouteSigner, opts: OriginateOptions = {}): Outgoing & { id: Uint8Array } {
    requirePeerId(dst, 'originate: dst');
    const path = requireRoute(route, 'originate: route');
    if (!(payload instanceof Uint8Array)) throw new RouteError('BAD_ARGUMENT', 'originate: payload must be a Uint8Array');
    if (payload.length > this.maxPayload) throw new RouteError('TOO_LARGE', `originate: payload of ${payload.length} bytes exceeds ${this.maxPayload}`);
    if (typeof opts !== 'object' || opts === null) throw new RouteError('BAD_ARGUMENT', 'originate: options must be an object');
    if (opts.allowReroute !== undefined && typeof opts.allowReroute !== 'boolean') throw new RouteError('BAD_ARGUMENT', 'originate: allowReroute must be a boolean');
    let id: Uint8Array;
    if (opts.id === undefined) id = randomFillSync(new Uint8Array(MESSAGE_ID_BYTES));
    else if (opts.id instanceof Uint8Array && opts.id.length === MESSAGE_ID_BYTES) id = new Uint8Array(opts.id);
    else throw new RouteError('BAD_ARGUMENT', `originate: id must be ${MESSAGE_ID_BYTES} bytes`);
    const s = requireSigner(signer, this.ourId, 'originate');
    const problem = routeProblem(this.ourId, dst, path, this.maxHops);
    if (problem !== undefined) throw new RouteError('BAD_ROUTE', `originate: ${problem.detail}`);
    const now = this.#clock.now();
    if (!Number.isSafeInteger(now) || now < 0) throw new RouteError('BAD_ARGUMENT', 'originate: clock.now() must be a non-negative integer');
    const head = {
      v: ROUTE_VERSION,
      src: this.ourId,
      srcKey: s.publicKey,
      srcPow: s.pow,
      dst,
      route: path,
      id,
      ts: now,
      rerouteAllowed: opts.allowReroute === true,
    } as const;
    const sig = sign(s.secretKey, prefixed(ROUTE_DOMAIN, sourceHeader(head, sha256(payload))));
    // Our own id counts as seen, so a copy that comes back is a duplicate.
    this.#seen.add(sha256(this.ourId, id), now);
    return { nextHop: path[0]!, bytes: encodeCanonical({ ...head, payload, sig, hop: 0 }), id };
  }

  /**
   * Judges a frame `from` a neighbour at time `now`. Never throws on the
   * bytes; checks run cheapest first, and signatures (one, or two when
   * re-routed) only for a frame that is otherwise acceptable and not a duplicate.
   */
  receive(from: Uint8Array, data: Uint8Array, now: number, ctx: ReceiveContext): RouteResult {
    requirePeerId(from, 'receive: from');
    if (!(data instanceof Uint8Array)) throw new RouteError('BAD_ARGUMENT', 'receive: data must be a Uint8Array');
    if (typeof now !== 'number' || !Number.isFinite(now)) throw new RouteError('BAD_ARGUMENT', 'receive: now must be a finite number');
    if (typeof ctx !== 'object' || ctx === null || typeof ctx.isNeighbour !== 'function') {
      throw new RouteError('BAD_ARGUMENT', 'receive: context must have isNeighbour(peer)');
    }
    if (data.length > MAX_ROUTE_FRAME_BYTES) return drop('TOO_LARGE', `frame of ${data.length} bytes exceeds ${MAX_ROUTE_FRAME_BYTES}`);
    let f: WireFrame;
    try {
      f = frameSchema.parse(decodeCanonical(data, LIMITS), 'frame');
    } catch (err) {
      return drop('MALFORMED', describeError(err));
    }
    if (f.payload.length > this.maxPayload) return drop('TOO_LARGE', `payload of ${f.payload.length} bytes exceeds ${this.maxPayload}`);
    let problem = routeProblem(f.src, f.dst, f.route, this.maxHops);
    if (problem !== undefined) return drop(problem.reason, problem.detail);
    const r = f.reroute;
    let path = f.route;
    if (r !== undefined) {
      if (!f.rerouteAllowed) return drop('MALFORMED', 'frame carries a re-route its sender did not allow');
      if (r.at >= f.route.length - 1) return drop('MALFORMED', 're-route index is not before dst');
      if (!equalBytes(f.route[r.at]!, r.by)) return drop('MALFORMED', 're-routing peer is not on the route at its index');
      path = effectiveRoute(f.route, r);
      problem = routeProblem(f.src, f.dst, path, this.maxHops);
      if (problem !== undefined) return drop(problem.reason, `after re-route: ${problem.detail}`);
      if (r.at >= f.hop) return drop('MALFORMED', 're-route lies ahead of the current hop');
    }
    const me = path[f.hop];
    if (me === undefined || !equalBytes(me, this.ourId)) return drop('NOT_ON_ROUTE', `we are not hop ${f.hop} of the route`);
    const previous = f.hop === 0 ? f.src : path[f.hop - 1]!;
    if (!equalBytes(previous, from)) return drop('WRONG_SENDER', 'frame did not come from the previous hop');
    if (f.ts < now - this.maxAgeMs || f.ts > now + this.maxFutureSkewMs) return drop('STALE', `message time ${f.ts} is outside the accepted window at ${now}`);
    const seenKey = sha256(f.src, f.id);
    if (this.#seen.has(seenKey, now)) return drop('DUPLICATE', 'message id already seen');
    // Key checks cost a hash each, so they go before the ~1 ms signature checks.
    if (!equalBytes(sha256(f.srcKey), f.src)) return drop('BAD_SIGNATURE', 'src is not SHA-256 of srcKey');
    if (r !== undefined && !equalBytes(sha256(r.byKey), r.by)) return drop('BAD_REROUTE_SIGNATURE', 're-router id is not SHA-256 of its key');
    if (!verifyPow(f.srcKey, f.srcPow, this.difficulty)) return drop('BAD_POW', `sender's proof of work is below difficulty ${this.difficulty}`);
    if (r !== undefined && !verifyPow(r.byKey, r.byPow, this.difficulty)) return drop('BAD_POW', `re-router's proof of work is below difficulty ${this.difficulty}`);
    const header = sourceHeader(f, sha256(f.payload));
    if (!this.#verify(f.srcKey, prefixed(ROUTE_DOMAIN, header), f.sig)) return drop('BAD_SIGNATURE', "sender's signature does not verify");
    const headerHash = sha256(header);
    if (r !== undefined && !this.#verify(r.byKey, prefixed(REROUTE_DOMAIN, rerouteBody(headerHash, r)), r.sig)) {
      return drop('BAD_REROUTE_SIGNATURE', "re-router's signature does not verify");
    }
    // Marked only once genuine, so a forged copy cannot shadow the real message.
    this.#seen.add(seenKey, now);
    if (f.hop === path.length - 1) return { kind: 'deliver', src: f.src, id: f.id, payload: f.payload };
    const next = path[f.hop + 1]!;
    if (ctx.isNeighbour(next) === true) return { kind: 'forward', nextHop: next, bytes: encodeCanonical({ ...f, hop: f.hop + 1 }) };
    if (!f.rerouteAllowed) return drop('UNREACHABLE', 'next hop is not a neighbour and the sender allowed no re-route');
    if (r !== undefined) return drop('UNREACHABLE', 'next hop is not a neighbour and the single re-route is spent');
    const pending: PendingReroute = Object.freeze({ src: f.src, dst: f.dst, id: f.id, at: f.hop, unreachable: next });
    this.#pending.set(pending, { frame: f, headerHash, used: false });
    return { kind: 'reroute-needed', pending };
  }

  /**
   * Replaces the rest of the route after us with `newTail` (next hop .. dst),
   * signed by us; once per message. The caller chose newTail from its map and
   * sends `bytes` to `nextHop`.
   */
  reroute(pending: PendingReroute, newTail: readonly Uint8Array[], signer: RouteSigner): Outgoing {
    const state = typeof pending === 'object' && pending !== null ? this.#pending.get(pending) : undefined;
    if (state === undefined) throw new RouteError('BAD_ARGUMENT', 'reroute: pending must come from this core\'s receive()');
    if (state.used) throw new RouteError('REROUTE_USED', 'reroute: this message has already been re-routed');
    const tail = requireRoute(newTail, 'reroute: newTail');
    const s = requireSigner(signer, this.ourId, 'reroute');
    const f = state.frame;
    const body = { at: pending.at, by: this.ourId, byKey: s.publicKey, byPow: s.pow, newTail: tail };
    const problem = routeProblem(f.src, f.dst, effectiveRoute(f.route, body), this.maxHops);
    if (problem !== undefined) throw new RouteError('BAD_ROUTE', `reroute: ${problem.detail}`);
    const sig = sign(s.secretKey, prefixed(REROUTE_DOMAIN, rerouteBody(state.headerHash, body)));
    state.used = true;
    return { nextHop: tail[0]!, bytes: encodeCanonical({ ...f, hop: pending.at + 1, reroute: { ...body, sig } }) };
  }
}
