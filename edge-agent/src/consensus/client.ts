import { quorums } from './certs.js';
import { ConsensusError, fail } from './errors.js';
import { decodeFrame, hex, sign, type MessageLimits } from './messages.js';
import type { ConsensusSigner, DropReason } from './types.js';
import { DROP_REASONS } from './types.js';

/**
 * A PBFT client as a core without I/O: one outstanding request at a time, sent to every
 * replica (each backup then holds the request from the client's own channel and need not
 * check its signature inside the primary's pre-prepare, and starts its view-change timer at
 * once), and again to every replica each `retransmitTimeout` without a result. A result is
 * accepted only when f+1 distinct replicas sent matching replies (same timestamp, same
 * result bytes), each from the replica it names as the channel authenticated it (`from`):
 * at least one of them is honest, and honest replicas only reply with what was committed.
 */

export interface ClientConfig {
  /** The client's number, as replicas see it in requests (u32). */
  readonly id: number;
  readonly n: number;
  /** Signs requests; omit when the shell authenticates clients on the channel. */
  readonly signer?: ConsensusSigner;
  /** ms before sending the outstanding request to every replica again (default 500). */
  readonly retransmitTimeout?: number;
  /** The first timestamp used (default 1); a restarted client must start above its last one. */
  readonly firstTimestamp?: number;
  readonly maxMessageBytes?: number;
}

export type ClientAction =
  | { readonly kind: 'send'; readonly to: number; readonly bytes: Uint8Array }
  | { readonly kind: 'broadcast'; readonly bytes: Uint8Array }
  /** The request with `timestamp` completed: `replicas` are the f+1 (or more) that agreed. */
  | { readonly kind: 'result'; readonly timestamp: number; readonly result: Uint8Array; readonly replicas: readonly number[] };

interface Outstanding {
  readonly t: number;
  readonly bytes: Uint8Array;
  deadline: number;
  /** result hex → replicas that replied with it (and the views they named). */
  readonly votes: Map<string, Map<number, number>>;
  readonly results: Map<string, Uint8Array>;
  readonly replied: Set<number>;
}

export class Client {
  readonly id: number;
  private readonly n: number;
  private readonly f: number;
  private readonly signer: ConsensusSigner | undefined;
  private readonly timeout: number;
  private readonly limits: MessageLimits;
  private readonly dropped: Record<DropReason, number>;
  private view = 0;
  private nextT: number;
  private current: Outstanding | undefined;

  constructor(c: ClientConfig) {
    if (typeof c !== 'object' || c === null) fail('client config must be an object');
    if (!Number.isSafeInteger(c.id) || c.id < 0 || c.id > 0xffffffff) fail(`client id must be a u32, got ${String(c.id)}`);
    if (!Number.isSafeInteger(c.n) || c.n < 4 || c.n > 1024) fail(`n must be an integer from 4 to 1024, got ${String(c.n)}`);
    if (c.signer !== undefined && typeof c.signer.sign !== 'function') fail('signer.sign must be a function');
    const timeout = c.retransmitTimeout ?? 500;
    if (!Number.isSafeInteger(timeout) || timeout < 1) fail('retransmitTimeout must be a positive integer');
    const first = c.firstTimestamp ?? 1;
    if (!Number.isSafeInteger(first) || first < 0) fail('firstTimestamp must be a non-negative integer');
    const maxBytes = c.maxMessageBytes ?? 1 << 20;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 4096) fail('maxMessageBytes must be at least 4096');
    this.id = c.id;
    this.n = c.n;
    this.f = quorums(c.n).f;
    this.signer = c.signer;
    this.timeout = timeout;
    this.nextT = first;
    this.limits = { maxBytes, maxItems: 16 };
    this.dropped = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  }

  get busy(): boolean {
    return this.current !== undefined;
  }

  get stats(): { readonly dropped: Readonly<Record<DropReason, number>>; readonly view: number } {
    return { dropped: { ...this.dropped }, view: this.view };
  }

  /** Starts a request; throws ConsensusError('BAD_STATE') while another is outstanding. */
  request(op: Uint8Array, now: number): ClientAction[] {
    if (this.current !== undefined) throw new ConsensusError('BAD_STATE', `client ${this.id} already waits for request ${this.current.t}`);
    if (!(op instanceof Uint8Array)) fail('op must be a Uint8Array');
    if (!Number.isFinite(now)) fail('now must be a finite number');
    const t = this.nextT++;
    const bytes = sign({ k: 'request', client: this.id, t, op }, this.signer);
    if (bytes.length > this.limits.maxBytes) fail(`request of ${bytes.length} bytes exceeds maxMessageBytes`);
    this.current = { t, bytes, deadline: now + this.timeout, votes: new Map(), results: new Map(), replied: new Set() };
    return [{ kind: 'broadcast', bytes }];
  }

  nextDeadline(): number | undefined {
    return this.current?.deadline;
  }

  tick(now: number): ClientAction[] {
    if (typeof now !== 'number' || !Number.isFinite(now)) fail('now must be a finite number');
    const c = this.current;
    if (c === undefined || now < c.deadline) return [];
    c.deadline = now + this.timeout;
    return [{ kind: 'broadcast', bytes: c.bytes }];
  }

  receive(from: number, bytes: Uint8Array, now: number): ClientAction[] {
    if (typeof now !== 'number' || !Number.isFinite(now)) fail('now must be a finite number');
    const r = this.onReply(from, bytes);
    if (typeof r === 'string') {
      this.dropped[r]++;
      return [];
    }
    return r;
  }

  private onReply(from: number, bytes: Uint8Array): ClientAction[] | DropReason {
    const f = decodeFrame(bytes, this.limits);
    if (typeof f === 'string') return f;
    const body = f.body;
    if (body.k !== 'reply') return 'invalid';
    if (body.r >= this.n) return 'unknown-replica';
    if (body.client !== this.id) return 'invalid';
    const c = this.current;
    if (c === undefined || body.t !== c.t) return 'stale';
    // Replies are not signed: the channel names the replica, which must be the one replying.
    if (from !== body.r) return 'wrong-sender';
    if (c.replied.has(body.r)) return 'duplicate';
    c.replied.add(body.r);
    const key = hex(body.result);
    let voters = c.votes.get(key);
    if (voters === undefined) {
      c.votes.set(key, (voters = new Map()));
      c.results.set(key, body.result);
    }
    voters.set(body.r, body.v);
    if (voters.size < this.f + 1) return [];
    // The (f+1)-th highest view named is at or below some honest replica's view.
    const views = [...voters.values()].sort((a, b) => b - a);
    this.view = Math.max(this.view, views[this.f]!);
    this.current = undefined;
    return [{ kind: 'result', timestamp: c.t, result: c.results.get(key)!, replicas: [...voters.keys()].sort((a, b) => a - b) }];
  }
}
