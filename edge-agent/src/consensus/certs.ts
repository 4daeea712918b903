import { CHANNEL_KINDS, batchDigest, bytesEqual, decodeFrame, hex, type Frame, type MessageLimits, type ReplicaBody, type RequestBody } from './messages.js';
import type { ClientVerifier, ConsensusVerifier } from './types.js';
import { fail } from './errors.js';
import { VerifyCache } from './verify-cache.js';

/**
 * Checking what replicas prove to each other: signed frames, checkpoint proofs, prepared
 * certificates and view-changes. Pure functions of their input and the replica keys, so
 * one VerifyCache may be shared (a simulation shares one among all replicas).
 */

export interface Quorums {
  readonly n: number;
  /** Byzantine replicas tolerated: ⌊(n−1)/3⌋. */
  readonly f: number;
  /** ⌈(n+f+1)/2⌉: any two quorums share an honest replica (2f+1 when n = 3f+1). */
  readonly q: number;
}

export function quorums(n: number): Quorums {
  if (!Number.isSafeInteger(n) || n < 1) fail(`n must be a positive integer, got ${String(n)}`);
  const f = Math.floor((n - 1) / 3);
  return { n, f, q: Math.ceil((n + f + 1) / 2) };
}

export function primaryOf(view: number, n: number): number {
  if (!Number.isSafeInteger(view) || view < 0 || !Number.isSafeInteger(n) || n < 1) fail(`primaryOf: bad view ${String(view)} or n ${String(n)}`);
  return view % n;
}

export interface PreparedCert {
  readonly view: number;
  readonly seq: number;
  readonly digest: Uint8Array;
  readonly batch: readonly Uint8Array[];
  /** The pre-prepare frame and the prepare frames, as they travel in a view-change. */
  readonly pp: Uint8Array;
  readonly ps: readonly Uint8Array[];
}

export interface ViewChangeInfo {
  readonly frame: Uint8Array;
  readonly replica: number;
  readonly view: number;
  readonly stable: number;
  readonly stableDigest: Uint8Array | undefined;
  readonly proof: readonly Uint8Array[];
  readonly prepared: ReadonlyMap<number, PreparedCert>;
}

export class Certs {
  readonly quorum: Quorums;

  constructor(
    n: number,
    private readonly verifier: ConsensusVerifier,
    readonly limits: MessageLimits,
    readonly window: number,
    private readonly cache: VerifyCache,
    private readonly clientVerifier: ClientVerifier | undefined,
  ) {
    this.quorum = quorums(n);
  }

  /** A replica frame's signature by the replica it names (cached by frame id). */
  signedByReplica(f: Frame): boolean {
    const body = f.body;
    if (body.k === 'request' || CHANNEL_KINDS.has(body.k)) return false;
    if (body.r >= this.quorum.n) return false;
    return this.cache.memo(`r:${f.id}`, () => this.verifier.verify(body.r, f.signed, f.signature));
  }

  /** A request frame's client signature, when clients sign (else any signature is ignored). */
  requestValid(f: Frame): boolean {
    if (f.body.k !== 'request') return false;
    const cv = this.clientVerifier;
    if (cv === undefined) return true;
    const client = f.body.client;
    return this.cache.memo(`c:${f.id}`, () => cv.verify(client, f.signed, f.signature));
  }

  /** Decodes and checks a frame of kind `kind` signed by the replica it names. */
  replicaFrame<K extends ReplicaBody['k']>(bytes: Uint8Array, kind: K): Frame<Extract<ReplicaBody, { k: K }>> | undefined {
    const f = decodeFrame(bytes, this.limits);
    if (typeof f === 'string' || f.body.k !== kind || !this.signedByReplica(f)) return undefined;
    return f as Frame<Extract<ReplicaBody, { k: K }>>;
  }

  /**
   * The requests of a pre-prepare's batch, decoded, if every entry is a valid request frame
   * (else undefined). `known` gives back, decoded, a request this replica already holds from
   * its client's own channel (byte for byte the same: no decoding, no signature check).
   */
  batchRequests(batch: readonly Uint8Array[], known?: (bytes: Uint8Array) => RequestBody | undefined): RequestBody[] | undefined {
    const out: RequestBody[] = [];
    for (const b of batch) {
      const held = known?.(b);
      if (held !== undefined) {
        out.push(held);
        continue;
      }
      const f = decodeFrame(b, this.limits);
      if (typeof f === 'string' || f.body.k !== 'request') return undefined;
      if (!this.requestValid(f)) return undefined;
      out.push(f.body);
    }
    return out;
  }

  /** Every entry a valid request frame: what a pre-prepare's batch must hold. */
  batchValid(batch: readonly Uint8Array[]): boolean {
    return this.batchRequests(batch) !== undefined;
  }

  /** The digest proven by q checkpoint frames for `seq` from distinct replicas, or undefined. */
  checkpointProof(seq: number, frames: readonly Uint8Array[]): Uint8Array | undefined {
    const { q } = this.quorum;
    const byDigest = new Map<string, Set<number>>();
    for (const bytes of frames) {
      const f = this.replicaFrame(bytes, 'checkpoint');
      if (f === undefined || f.body.n !== seq) return undefined;
      const key = hex(f.body.d);
      let set = byDigest.get(key);
      if (set === undefined) byDigest.set(key, (set = new Set()));
      set.add(f.body.r);
      if (set.size >= q) return f.body.d;
    }
    return undefined;
  }

  /** A prepared certificate for a sequence number in (low, low+window] and a view below `before`. */
  prepared(pp: Uint8Array, ps: readonly Uint8Array[], low: number, before: number): PreparedCert | undefined {
    const { n, q } = this.quorum;
    const p = this.replicaFrame(pp, 'preprepare');
    if (p === undefined) return undefined;
    const { v, n: seq, d, batch, r } = p.body;
    if (r !== primaryOf(v, n) || v >= before || seq <= low || seq > low + this.window) return undefined;
    if (!bytesEqual(batchDigest(batch), d) || !this.batchValid(batch)) return undefined;
    const from = new Set<number>();
    for (const bytes of ps) {
      const x = this.replicaFrame(bytes, 'prepare');
      if (x === undefined || x.body.v !== v || x.body.n !== seq || !bytesEqual(x.body.d, d) || x.body.r === r) return undefined;
      from.add(x.body.r);
    }
    if (from.size < q - 1) return undefined;
    return { view: v, seq, digest: d, batch, pp, ps };
  }

  /** A view-change whose checkpoint proof and prepared certificates all hold, or undefined. */
  viewChange(bytes: Uint8Array): ViewChangeInfo | undefined {
    const f = this.replicaFrame(bytes, 'viewchange');
    if (f === undefined) return undefined;
    return this.cache.memo(`vc:${f.id}`, () => this.checkViewChange(f));
  }

  private checkViewChange(f: Frame<Extract<ReplicaBody, { k: 'viewchange' }>>): ViewChangeInfo | undefined {
    const { v, n: stable, c, p, r } = f.body;
    let stableDigest: Uint8Array | undefined;
    if (stable > 0) {
      stableDigest = this.checkpointProof(stable, c);
      if (stableDigest === undefined) return undefined;
    } else if (c.length !== 0) return undefined;
    const prepared = new Map<number, PreparedCert>();
    for (const entry of p) {
      const cert = this.prepared(entry.pp, entry.ps, stable, v);
      if (cert === undefined || prepared.has(cert.seq)) return undefined;
      prepared.set(cert.seq, cert);
    }
    return { frame: f.bytes, replica: r, view: v, stable, stableDigest, proof: c, prepared };
  }
}

/** One entry of a new view's O: sequence number, digest and batch (empty for the null request). */
export interface NewViewEntry {
  readonly seq: number;
  readonly digest: Uint8Array;
  readonly batch: readonly Uint8Array[];
}

export interface NewViewPlan {
  /** The latest stable checkpoint among the view-changes, and the one that proves it. */
  readonly minS: number;
  readonly minSource: ViewChangeInfo;
  readonly maxS: number;
  readonly entries: readonly NewViewEntry[];
}

/**
 * The paper's new-view rule: min-s is the latest stable checkpoint in V, max-s the highest
 * prepared sequence number; each number in between gets the batch prepared in the highest
 * view, or the null request when nobody in V prepared it.
 */
export function planNewView(vcs: readonly ViewChangeInfo[]): NewViewPlan {
  if (!Array.isArray(vcs) || vcs.length === 0) fail('planNewView needs at least one checked view-change');
  let minSource = vcs[0]!;
  for (const vc of vcs) if (vc.stable > minSource.stable) minSource = vc;
  const minS = minSource.stable;
  let maxS = minS;
  for (const vc of vcs) for (const seq of vc.prepared.keys()) if (seq > maxS) maxS = seq;
  const entries: NewViewEntry[] = [];
  for (let seq = minS + 1; seq <= maxS; seq++) {
    let best: PreparedCert | undefined;
    for (const vc of vcs) {
      const c = vc.prepared.get(seq);
      if (c !== undefined && (best === undefined || c.view > best.view)) best = c;
    }
    entries.push(best === undefined ? { seq, digest: batchDigest([]), batch: [] } : { seq, digest: best.digest, batch: best.batch });
  }
  return { minS, minSource, maxS, entries };
}
