import { createHash } from 'node:crypto';
import { decodeCanonical, decodeSignedFrame, encodeCanonical, encodeSignedFrame, MAX_FRAME_SIGNATURE_BYTES } from '../wire/index.js';
import { toHex as hex } from '../identity/index.js';

export { hex };
import { ConsensusError, fail } from './errors.js';
import type { ConsensusSigner, DropReason } from './types.js';

/**
 * PBFT's messages (Castro–Liskov, OSDI '99 / TOCS 2002). Every message is a frame
 *   {b: canonical body bytes, s: signature over DOMAIN || b}
 * What travels in a certificate (pre-prepares, prepares, checkpoints, view-changes, new-views,
 * the state with its proof) is signed by the replica named in the body (`r`), so it can be
 * handed to third parties. What never does (commits, replies, status, fetch: CHANNEL_KINDS)
 * goes unsigned, `s` empty: the secure channel names its sender, who must be `r`. A request's
 * `s` is the client's signature, or empty when the shell authenticates clients instead.
 */

const DOMAIN = new TextEncoder().encode('edge-agent/consensus/pbft/v1\0');

export interface RequestBody {
  readonly k: 'request';
  readonly client: number;
  readonly t: number;
  readonly op: Uint8Array;
}
export interface PrePrepareBody {
  readonly k: 'preprepare';
  readonly v: number;
  readonly n: number;
  /** sha256 of the canonical encoding of `batch`. */
  readonly d: Uint8Array;
  /** Request frames, in execution order; empty for the null request. */
  readonly batch: readonly Uint8Array[];
  readonly r: number;
}
export interface PrepareBody {
  readonly k: 'prepare';
  readonly v: number;
  readonly n: number;
  readonly d: Uint8Array;
  readonly r: number;
}
export interface CommitBody {
  readonly k: 'commit';
  readonly v: number;
  readonly n: number;
  readonly d: Uint8Array;
  readonly r: number;
}
export interface ReplyBody {
  readonly k: 'reply';
  readonly v: number;
  readonly t: number;
  readonly client: number;
  readonly result: Uint8Array;
  readonly r: number;
}
export interface CheckpointBody {
  readonly k: 'checkpoint';
  readonly n: number;
  /** sha256 of the state bundle after executing `n`. */
  readonly d: Uint8Array;
  readonly r: number;
}
/** A prepared certificate: the pre-prepare and 2f prepares (quorum − 1) from distinct backups. */
export interface PreparedProof {
  readonly pp: Uint8Array;
  readonly ps: readonly Uint8Array[];
}
export interface ViewChangeBody {
  readonly k: 'viewchange';
  /** The view being moved to. */
  readonly v: number;
  /** The sender's last stable checkpoint, and its proof (empty for the genesis checkpoint 0). */
  readonly n: number;
  readonly c: readonly Uint8Array[];
  /** One prepared certificate per sequence number above n, the one of the highest view. */
  readonly p: readonly PreparedProof[];
  readonly r: number;
}
export interface NewViewBody {
  readonly k: 'newview';
  readonly v: number;
  /** The quorum of view-change frames the new primary decided from. */
  readonly vc: readonly Uint8Array[];
  /** Pre-prepare frames of view v for every sequence number in (min-s, max-s]. */
  readonly o: readonly Uint8Array[];
  readonly r: number;
}
export interface FetchBody {
  readonly k: 'fetch';
  readonly n: number;
  readonly r: number;
}
/** A stable checkpoint's state bundle with its proof: self-certifying, so anyone may send it. */
export interface StateBody {
  readonly k: 'state';
  readonly n: number;
  readonly snap: Uint8Array;
  readonly c: readonly Uint8Array[];
  readonly r: number;
}
/** Periodic: what lets replicas that lost messages catch up (the BFT library's status messages). */
export interface StatusBody {
  readonly k: 'status';
  readonly v: number;
  /** True while waiting for the new-view of v. */
  readonly vc: boolean;
  readonly h: number;
  readonly e: number;
  readonly r: number;
}

export type ReplicaBody =
  | PrePrepareBody
  | PrepareBody
  | CommitBody
  | ReplyBody
  | CheckpointBody
  | ViewChangeBody
  | NewViewBody
  | FetchBody
  | StateBody
  | StatusBody;
export type Body = RequestBody | ReplicaBody;
export type Kind = Body['k'];

/**
 * Kinds authenticated by the channel alone: no certificate ever carries them (commit
 * certificates are not needed by view changes, which use prepared certificates), so a
 * signature would buy nothing but CPU. Accepted only from the replica they name.
 */
export const CHANNEL_KINDS: ReadonlySet<Kind> = new Set<Kind>(['commit', 'reply', 'status', 'fetch']);

export interface Frame<B extends Body = Body> {
  /** The whole frame, as it travels. */
  readonly bytes: Uint8Array;
  readonly body: B;
  /** DOMAIN || body bytes: what the signature covers. */
  readonly signed: Uint8Array;
  readonly signature: Uint8Array;
  /** sha256 of the frame: the key of verification caches and duplicate checks. */
  readonly id: string;
}

export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}


/** Equality of public bytes (not for secrets: not constant-time). */
export const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);

function withDomain(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(DOMAIN.length + b.length);
  out.set(DOMAIN);
  out.set(b, DOMAIN.length);
  return out;
}

/** The digest a pre-prepare names for its batch. */
export function batchDigest(batch: readonly Uint8Array[]): Uint8Array {
  if (!Array.isArray(batch) || !batch.every((b) => b instanceof Uint8Array)) fail('a batch is an array of request frames (Uint8Array)');
  return sha256(encodeCanonical([...batch]));
}

/** Encodes and signs a body; `signer` undefined (unsigned requests) or a CHANNEL_KINDS body leaves the signature empty. */
export function sign(body: Body, signer: ConsensusSigner | undefined): Uint8Array {
  if (typeof body !== 'object' || body === null || typeof body.k !== 'string' || !Object.hasOwn(KEYS, body.k)) fail('sign: body must be a message body with a known kind');
  if (signer !== undefined && typeof signer.sign !== 'function') fail('sign: signer.sign must be a function');
  let b: Uint8Array;
  try {
    b = encodeCanonical(body);
  } catch (err) {
    throw new ConsensusError('BAD_ARGUMENT', `sign: ${body.k} body cannot be encoded: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const s = signer === undefined || CHANNEL_KINDS.has(body.k) ? new Uint8Array(0) : signer.sign(withDomain(b));
  if (!(s instanceof Uint8Array) || s.length > MAX_FRAME_SIGNATURE_BYTES) fail(`sign: the signer must return at most ${MAX_FRAME_SIGNATURE_BYTES} bytes`);
  return encodeSignedFrame(b, s);
}

export interface MessageLimits {
  readonly maxBytes: number;
  /** Most requests in one batch, prepared certificates in a view-change, frames in a proof. */
  readonly maxItems: number;
}

export const DEFAULT_MESSAGE_LIMITS: MessageLimits = Object.freeze({ maxBytes: 1 << 20, maxItems: 1024 });

const isBytes = (v: unknown, len?: number): v is Uint8Array => v instanceof Uint8Array && (len === undefined || v.length === len);
const isU32 = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= 0xffffffff;
const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isBytesList = (v: unknown, max: number): v is Uint8Array[] => Array.isArray(v) && v.length <= max && v.every((x) => isBytes(x));

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function exactKeys(o: Record<string, unknown>, keys: readonly string[]): boolean {
  const own = Object.keys(o);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(o, k));
}

const KEYS: Readonly<Record<Kind, readonly string[]>> = {
  request: ['k', 'client', 't', 'op'],
  preprepare: ['k', 'v', 'n', 'd', 'batch', 'r'],
  prepare: ['k', 'v', 'n', 'd', 'r'],
  commit: ['k', 'v', 'n', 'd', 'r'],
  reply: ['k', 'v', 't', 'client', 'result', 'r'],
  checkpoint: ['k', 'n', 'd', 'r'],
  viewchange: ['k', 'v', 'n', 'c', 'p', 'r'],
  newview: ['k', 'v', 'vc', 'o', 'r'],
  fetch: ['k', 'n', 'r'],
  state: ['k', 'n', 'snap', 'c', 'r'],
  status: ['k', 'v', 'vc', 'h', 'e', 'r'],
};

/** Shape checks only: ranges against n, signatures and certificates are the replica's business. */
function checkBody(v: Record<string, unknown>, max: number): boolean {
  const k = v['k'];
  if (typeof k !== 'string' || !Object.hasOwn(KEYS, k) || !exactKeys(v, KEYS[k as Kind])) return false;
  if (k !== 'request' && !isU32(v['r'])) return false;
  switch (k as Kind) {
    case 'request':
      return isU32(v['client']) && isSeq(v['t']) && isBytes(v['op']);
    case 'preprepare':
      return isSeq(v['v']) && isSeq(v['n']) && isBytes(v['d'], 32) && isBytesList(v['batch'], max);
    case 'prepare':
    case 'commit':
      return isSeq(v['v']) && isSeq(v['n']) && isBytes(v['d'], 32);
    case 'reply':
      return isSeq(v['v']) && isSeq(v['t']) && isU32(v['client']) && isBytes(v['result']);
    case 'checkpoint':
      return isSeq(v['n']) && isBytes(v['d'], 32);
    case 'viewchange': {
      const p = v['p'];
      if (!isSeq(v['v']) || !isSeq(v['n']) || !isBytesList(v['c'], max) || !Array.isArray(p) || p.length > max) return false;
      return p.every((x) => isRecord(x) && exactKeys(x, ['pp', 'ps']) && isBytes(x['pp']) && isBytesList(x['ps'], max));
    }
    case 'newview':
      return isSeq(v['v']) && isBytesList(v['vc'], max) && isBytesList(v['o'], max);
    case 'fetch':
      return isSeq(v['n']);
    case 'state':
      return isSeq(v['n']) && isBytes(v['snap']) && isBytesList(v['c'], max);
    case 'status':
      return isSeq(v['v']) && typeof v['vc'] === 'boolean' && isSeq(v['h']) && isSeq(v['e']);
  }
}

/**
 * Decodes a frame from untrusted bytes without checking its signature (the caller knows
 * the key). Never throws: anything that is not exactly a valid frame is a DropReason.
 */
export function decodeFrame(bytes: Uint8Array, limits: MessageLimits = DEFAULT_MESSAGE_LIMITS): Frame | DropReason {
  const outer = decodeSignedFrame(bytes, limits.maxBytes);
  if (typeof outer === 'string') return outer;
  const b = outer.body;
  let body: unknown;
  try {
    body = decodeCanonical(b, { maxBytes: limits.maxBytes, maxDepth: 4, maxItems: Math.max(16, limits.maxItems), maxStringBytes: limits.maxBytes });
  } catch {
    return 'malformed';
  }
  if (!isRecord(body) || !checkBody(body, limits.maxItems)) return 'malformed';
  return new DecodedFrame(bytes, body as unknown as Body, b, outer.signature);
}

/** A decoded frame; what the signature covers and the frame's id are computed when first asked (most frames never are). */
class DecodedFrame implements Frame {
  #signed: Uint8Array | undefined;
  #id: string | undefined;
  constructor(
    readonly bytes: Uint8Array,
    readonly body: Body,
    private readonly b: Uint8Array,
    readonly signature: Uint8Array,
  ) {}

  get signed(): Uint8Array {
    return (this.#signed ??= withDomain(this.b));
  }

  get id(): string {
    return (this.#id ??= hex(sha256(this.bytes)));
  }
}

/** decodeFrame, narrowed to one kind ('malformed' for any other). */
export function decodeKind<K extends Kind>(bytes: Uint8Array, kind: K, limits?: MessageLimits): Frame<Extract<Body, { k: K }>> | DropReason {
  const f = decodeFrame(bytes, limits);
  if (typeof f === 'string') return f;
  return f.body.k === kind ? (f as Frame<Extract<Body, { k: K }>>) : 'malformed';
}
