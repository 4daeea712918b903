import { encodeCanonical } from '../wire/index.js';
import { encodeBundle, parseBundle } from './bundle.js';
import { Certs, planNewView, primaryOf, type NewViewPlan, type PreparedCert, type ViewChangeInfo } from './certs.js';
import { resolveConfig, type ReplicaConfig, type ResolvedConfig } from './config.js';
import { fail } from './errors.js';
import { readRecords, type Recovered } from './recovery.js';
import {
  CHANNEL_KINDS,
  batchDigest,
  bytesEqual,
  decodeFrame,
  hex,
  sha256,
  sign,
  type Body,
  type CheckpointBody,
  type CommitBody,
  type Frame,
  type NewViewBody,
  type PrePrepareBody,
  type PrepareBody,
  type ReplicaBody,
  type RequestBody,
  type StateBody,
  type StatusBody,
} from './messages.js';
import { DROP_REASONS, type DropReason, type ExecutedRequest, type PersistRecord, type ReplicaAction } from './types.js';

/**
 * One PBFT replica (Castro–Liskov), as a core without I/O: receive(), tick() and
 * nextDeadline() in, actions out. The normal case is pre-prepare → prepare → commit with
 * quorums q = ⌈(n+f+1)/2⌉ (2f+1 when n = 3f+1); checkpoints every K sequence numbers become
 * stable at q matching signed checkpoints and truncate the log; view changes carry the
 * stable checkpoint's proof and prepared certificates, and the new primary's new-view is
 * recomputed by every backup (min-s, max-s, null requests for the gaps).
 *
 * Two additions the paper leaves to its implementation: a periodic status message, to which
 * replicas answer with what the sender lacks (their own messages for the slots it has not
 * executed, the new-view it missed, the stable checkpoint's state), and state transfer by a
 * self-certifying STATE message (bundle + q checkpoint signatures on its digest).
 *
 * Crash recovery: built with `recovered` (its persist records), a replica restores the latest
 * stable checkpoint, its view, and its own pre-prepares, prepares, commits, prepared
 * certificates, view-change and new-view above that checkpoint, so it never signs a
 * conflicting message; then it re-executes from the checkpoint as it re-learns the committed
 * batches (status answers, or state transfer when the others moved past). Its first tick
 * broadcasts status (and its view-change when it waits for a new-view). `compactRecords()`
 * gives the minimal set of records equivalent to everything persisted so far.
 */

const ERROR_RESULT = encodeCanonical({ ok: false, error: 'exception' });

interface PrePrepared {
  readonly view: number;
  readonly digest: Uint8Array;
  readonly dhex: string;
  readonly batch: readonly Uint8Array[];
  readonly frame: Uint8Array;
  /** The batch decoded, when it was checked here (else decoded again at execution). */
  readonly requests?: readonly RequestBody[];
}

interface Vote {
  readonly view: number;
  readonly dhex: string;
  readonly frame: Uint8Array;
}

interface Slot {
  pp: PrePrepared | undefined;
  /** Each replica's latest prepare (and commit) for this slot: one per replica bounds memory. */
  readonly prepares: Map<number, Vote>;
  readonly commits: Map<number, Vote>;
  /** The prepared certificate of the highest view this replica saw complete. */
  cert: PreparedCert | undefined;
  /** Views in which this replica sent its prepare and commit, and the frames (for status answers). */
  prepareSent: Vote | undefined;
  commitSent: Vote | undefined;
}

interface Pending {
  readonly t: number;
  readonly frame: Uint8Array;
}

interface LastReply {
  readonly t: number;
  readonly result: Uint8Array;
  frame: Uint8Array | undefined;
}

export interface ReplicaStats {
  readonly dropped: Readonly<Record<DropReason, number>>;
  readonly view: number;
  readonly active: boolean;
  readonly lowWatermark: number;
  readonly lastExecuted: number;
  readonly viewChanges: number;
  readonly stateTransfers: number;
  /** Slots held in the log (all above the low watermark). */
  readonly logSize: number;
}

/** Length and last 24 bytes (a signed request's signature, else the end of its operation): a lookup key, never trusted alone. */
function fingerprint(bytes: Uint8Array): string {
  return `${bytes.length}:${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1', Math.max(0, bytes.length - 24))}`;
}

function checkTime(now: number): void {
  if (typeof now !== 'number' || !Number.isFinite(now)) fail(`now must be a finite number, got ${String(now)}`);
}

/** How many of each replica's checkpoints above the watermark are kept (bounds memory). */
const CHECKPOINT_VOTES_KEPT = 8;
/** Most doublings of the status interval while idle. */
const MAX_QUIET_DOUBLINGS = 3;
/** Slots a status answer covers at most. */
const STATUS_SLOTS = 32;

export class Replica {
  readonly id: number;
  private readonly c: ResolvedConfig;
  private readonly certs: Certs;
  private readonly dropped: Record<DropReason, number>;

  private view = 0;
  private active = true;
  private low = 0;
  private stableDigest: Uint8Array;
  private stableBundle: Uint8Array;
  private stableProof: readonly Uint8Array[] = [];
  private lastExec = 0;
  private nextSeq = 1;
  private readonly log = new Map<number, Slot>();
  private readonly replies = new Map<number, LastReply>();
  private readonly ownCheckpoints = new Map<number, { digest: Uint8Array; bundle: Uint8Array; frame?: Uint8Array }>();
  private readonly checkpointVotes = new Map<number, Map<number, { dhex: string; frame: Uint8Array }>>();

  /** Primary: requests waiting to be batched, and since when the oldest waits. */
  private queue: Frame<RequestBody>[] = [];
  private queueSince = 0;
  private readonly proposed = new Set<string>();
  /**
   * The latest request each client's own channel brought (those bytes need no signature check),
   * found again inside a pre-prepare by a cheap fingerprint of the bytes, then compared whole.
   */
  private readonly direct = new Map<string, Frame<RequestBody>>();
  private readonly directOf = new Map<number, string>();
  /** Requests this replica waits to see executed (the view-change timer runs while any wait). */
  private readonly pending = new Map<number, Pending>();
  private timerStart: number | undefined;
  /** The client whose request the timer waits for: other executions do not restart it (a primary cannot starve one client). */
  private timerClient: number | undefined;
  private vcDeadline: number | undefined;
  private backoff = 0;
  private readonly latestViewChange = new Map<number, ViewChangeInfo>();
  private ownViewChange: Uint8Array | undefined;
  private newViewFrame: Uint8Array | undefined;
  private early: Frame<PrePrepareBody>[] = [];
  private nextStatus: number;
  /** Doublings of the status interval while nothing changes here, and what was true at the last status. */
  private quiet = 0;
  private statusMark = '';
  /**
   * What status answers may repair: slots executed, and pre-prepares proposed, before our
   * previous status tick. Newer ones are still travelling in the normal case; resending them
   * to every replica a little behind (all of them, under load) would double the traffic.
   */
  private repairExec = 0;
  private repairProposed = 0;
  private tickExec = 0;
  private tickProposed = 0;
  private fetchTarget: { seq: number; at: number } | undefined;
  private viewChanges = 0;
  private stateTransfers = 0;
  /** Set by recovery: the first tick re-announces this replica. */
  private resumed = false;

  constructor(config: ReplicaConfig) {
    this.c = resolveConfig(config);
    this.id = this.c.id;
    this.certs = new Certs(this.c.n, this.c.verifier, { maxBytes: this.c.maxMessageBytes, maxItems: Math.max(1024, this.c.maxBatch, this.c.L) }, this.c.L, this.c.cache, this.c.clientVerifier);
    this.dropped = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
    this.stableBundle = this.bundle();
    this.stableDigest = sha256(this.stableBundle);
    this.nextStatus = this.c.now + this.c.statusInterval;
    if (this.c.recovered !== undefined) this.recover(readRecords(this.c.recovered, this.id, this.certs, this.c.maxMessageBytes));
  }

  private recover(r: Recovered): void {
    if (r.stable !== undefined) {
      this.c.stateMachine.restore(r.stable.state);
      for (const [client, t, result] of r.stable.replies) this.replies.set(client, { t, result, frame: undefined });
      this.low = this.lastExec = r.stable.seq;
      this.stableBundle = r.stable.bundle;
      this.stableDigest = r.stable.digest;
      this.stableProof = r.stable.proof;
      this.ownCheckpoints.set(r.stable.seq, { digest: r.stable.digest, bundle: r.stable.bundle });
    }
    this.view = r.view;
    this.active = r.active;
    if (r.viewChange !== undefined) {
      this.ownViewChange = r.viewChange.frame;
      this.latestViewChange.set(this.id, r.viewChange);
    }
    this.newViewFrame = r.newView;
    this.nextSeq = Math.max(r.nextSeq, this.low + 1);
    for (const [seq, x] of r.slots) {
      const slot = this.slot(seq);
      if (x.cert !== undefined) {
        const c = x.cert;
        slot.cert = c;
        slot.pp = { view: c.view, digest: c.digest, dhex: hex(c.digest), batch: c.batch, frame: c.pp };
        for (const bytes of c.ps) {
          const p = decodeFrame(bytes, this.certs.limits);
          if (typeof p !== 'string' && p.body.k === 'prepare') slot.prepares.set(p.body.r, { view: c.view, dhex: slot.pp.dhex, frame: bytes });
        }
      }
      if (x.pp !== undefined && (slot.pp === undefined || slot.pp.view < x.pp.body.v)) {
        const b = x.pp.body;
        slot.pp = { view: b.v, digest: b.d, dhex: hex(b.d), batch: b.batch, frame: x.pp.bytes };
      }
      if (x.prepare !== undefined) {
        slot.prepareSent = { view: x.prepare.body.v, dhex: hex(x.prepare.body.d), frame: x.prepare.bytes };
        slot.prepares.set(this.id, slot.prepareSent);
      }
      if (x.commit !== undefined) {
        slot.commitSent = { view: x.commit.body.v, dhex: hex(x.commit.body.d), frame: x.commit.bytes };
        slot.commits.set(this.id, slot.commitSent);
      }
    }
    this.resumed = true;
    this.nextStatus = this.c.now;
  }

  /**
   * The minimal records equivalent to everything persisted so far: recovering from them
   * gives the same replica as recovering from the whole log. The shell may replace its log
   * with them (atomically) between two action lists, e.g. after one that held a `stable`
   * record, and keeps appending after them. Own checkpoint messages are left out: a restarted
   * replica re-derives them by re-executing.
   */
  compactRecords(): PersistRecord[] {
    const out: PersistRecord[] = [];
    if (this.low > 0) out.push({ type: 'stable', seq: this.low, bundle: this.stableBundle, proof: this.stableProof });
    out.push({ type: 'view', view: this.view, active: this.active });
    if (!this.active && this.ownViewChange !== undefined) out.push({ type: 'message', bytes: this.ownViewChange });
    if (this.active && this.isPrimary && this.newViewFrame !== undefined) out.push({ type: 'message', bytes: this.newViewFrame });
    for (const seq of [...this.log.keys()].sort((a, b) => a - b)) {
      const slot = this.log.get(seq)!;
      if (seq <= this.low) continue;
      if (slot.cert !== undefined) out.push({ type: 'prepared', pp: slot.cert.pp, ps: slot.cert.ps });
      if (slot.pp !== undefined && slot.pp.view === this.view && this.isPrimary) out.push({ type: 'message', bytes: slot.pp.frame });
      if (slot.prepareSent !== undefined) out.push({ type: 'message', bytes: slot.prepareSent.frame });
      if (slot.commitSent !== undefined) out.push({ type: 'message', bytes: slot.commitSent.frame });
    }
    return out;
  }

  get quorum(): { n: number; f: number; q: number } {
    return { ...this.certs.quorum };
  }

  get stats(): ReplicaStats {
    return {
      dropped: { ...this.dropped },
      view: this.view,
      active: this.active,
      lowWatermark: this.low,
      lastExecuted: this.lastExec,
      viewChanges: this.viewChanges,
      stateTransfers: this.stateTransfers,
      logSize: this.log.size,
    };
  }

  get currentView(): number {
    return this.view;
  }

  get isPrimary(): boolean {
    return primaryOf(this.view, this.c.n) === this.id;
  }

  /** The earliest time tick() has something to do. */
  nextDeadline(): number {
    let t = this.nextStatus;
    if (this.active && this.timerStart !== undefined) t = Math.min(t, this.timerStart + this.timeout());
    if (!this.active && this.vcDeadline !== undefined) t = Math.min(t, this.vcDeadline);
    if (this.active && this.isPrimary && this.queue.length > 0 && this.canPropose()) t = Math.min(t, this.queueSince + this.c.batchDelay);
    if (this.fetchTarget !== undefined) t = Math.min(t, this.fetchTarget.at);
    return t;
  }

  tick(now: number): ReplicaAction[] {
    checkTime(now);
    const out: ReplicaAction[] = [];
    if (this.resumed) {
      // Back from a crash while waiting for a new-view: our view-change again (signed now if
      // the crash tore it away before it was sent).
      this.resumed = false;
      if (!this.active && this.ownViewChange === undefined) this.sendViewChange(now, out);
      else if (!this.active && this.ownViewChange !== undefined) out.push({ kind: 'broadcast', bytes: this.ownViewChange });
    }
    if (this.active && this.timerStart !== undefined && now >= this.timerStart + this.timeout()) this.startViewChange(this.view + 1, now, out);
    if (!this.active && this.vcDeadline !== undefined && now >= this.vcDeadline) this.startViewChange(this.view + 1, now, out);
    if (this.active && this.isPrimary && this.queue.length > 0 && now >= this.queueSince + this.c.batchDelay) this.propose(now, out, true);
    if (this.fetchTarget !== undefined && now >= this.fetchTarget.at) {
      if (this.fetchTarget.seq <= this.lastExec) this.fetchTarget = undefined;
      else {
        this.fetchTarget.at = now + 2 * this.c.statusInterval;
        out.push({ kind: 'broadcast', bytes: this.signed({ k: 'fetch', n: this.fetchTarget.seq, r: this.id }) });
      }
    }
    if (now >= this.nextStatus) {
      // An idle group need not repair anything: while nothing moves here, the interval doubles (up to 8×).
      const mark = `${this.view}:${this.active}:${this.low}:${this.lastExec}:${this.nextSeq}`;
      const quiet = mark === this.statusMark && this.pending.size === 0 && this.queue.length === 0;
      this.statusMark = mark;
      this.quiet = quiet ? Math.min(this.quiet + 1, MAX_QUIET_DOUBLINGS) : 0;
      this.nextStatus = now + this.c.statusInterval * 2 ** this.quiet;
      this.repairExec = this.tickExec;
      this.repairProposed = this.tickProposed;
      this.tickExec = this.lastExec;
      this.tickProposed = this.nextSeq - 1;
      out.push({ kind: 'broadcast', bytes: this.signed({ k: 'status', v: this.view, vc: !this.active, h: this.low, e: this.lastExec, r: this.id }) });
    }
    return out;
  }

  /**
   * A message from replica `from` as the channel authenticated it (a negative `from`: a sender
   * the channel did not name, whose requests are judged by their signatures). Never throws on
   * its content.
   */
  receive(from: number, bytes: Uint8Array, now: number, clients?: ReadonlySet<number>): ReplicaAction[] {
    checkTime(now);
    if (!Number.isSafeInteger(from)) fail(`receive: from must be an integer, got ${String(from)}`);
    if (clients !== undefined && !(clients instanceof Set)) fail('receive: clients must be a Set of client numbers');
    const out: ReplicaAction[] = [];
    const reason = this.dispatch(from, clients, bytes, now, out);
    if (reason !== undefined) this.dropped[reason]++;
    return out;
  }

  /**
   * A message from a node the channel authenticated as speaking for client numbers `clients`:
   * a request naming one of them is taken without checking its signature, and the same bytes
   * inside a pre-prepare are then taken without checking it either (clients send their
   * requests to every replica, so in the normal case no replica verifies a client signature).
   * (`receive(replica, bytes, now, clients)` when that node is also a replica.)
   */
  fromClient(clients: ReadonlySet<number>, bytes: Uint8Array, now: number): ReplicaAction[] {
    return this.receive(-1, bytes, now, clients);
  }

  private dispatch(from: number, clients: ReadonlySet<number> | undefined, bytes: Uint8Array, now: number, out: ReplicaAction[]): DropReason | undefined {
    const f = decodeFrame(bytes, this.certs.limits);
    if (typeof f === 'string') return f;
    const body = f.body;
    if (body.k === 'request') {
      const direct = clients?.has(body.client) === true;
      if (direct) this.holdDirect(f as Frame<RequestBody>);
      else if (!this.certs.requestValid(f)) return 'bad-signature';
      this.wake(true, now);
      return this.onRequest(f as Frame<RequestBody>, direct, now, out);
    }
    if (body.r >= this.c.n) return 'unknown-replica';
    if (body.k === 'reply') return 'invalid';
    if (body.r === this.id) return 'duplicate';
    // Unsigned kinds are never relayed: their sender must be the channel's peer.
    if (CHANNEL_KINDS.has(body.k)) {
      if (from !== body.r) return 'wrong-sender';
    } else if (!this.certs.signedByReplica(f)) return 'bad-signature';
    switch (body.k) {
      case 'preprepare':
        return this.onPrePrepare(f as Frame<PrePrepareBody>, now, out);
      case 'prepare':
        return this.onVote(f as Frame<PrepareBody>, now, out);
      case 'commit':
        return this.onVote(f as Frame<CommitBody>, now, out);
      case 'checkpoint':
        return this.onCheckpoint(f as Frame<CheckpointBody>, now, out);
      case 'viewchange':
        return this.onViewChange(f.bytes, now, out);
      case 'newview':
        return this.onNewView(f as Frame<NewViewBody>, now, out);
      case 'fetch':
        if (this.low > 0 && this.low >= body.n) out.push({ kind: 'send', to: body.r, bytes: this.stateMessage() });
        return undefined;
      case 'state':
        return this.onState(f as Frame<StateBody>, now, out);
      case 'status':
        this.wake(body.v > this.view || body.e > this.lastExec, now);
        return this.onStatus(body, out);
    }
  }

  // ---- requests and batching ----

  private onRequest(f: Frame<RequestBody>, direct: boolean, now: number, out: ReplicaAction[]): DropReason | undefined {
    const { client, t } = f.body;
    const last = this.replies.get(client);
    if (last !== undefined && t < last.t) return 'stale';
    if (last !== undefined && t === last.t) {
      // A retransmission of an executed request: the cached reply, never a second execution.
      out.push({ kind: 'reply', client, bytes: this.replyFrame(client, last) });
      return undefined;
    }
    const waiting = this.pending.get(client);
    if (waiting !== undefined && waiting.t > t) return 'stale';
    if (waiting === undefined || waiting.t < t) {
      this.pending.set(client, { t, frame: f.bytes });
      if (this.timerStart === undefined) {
        this.timerStart = now;
        this.timerClient = client;
      }
    }
    if (!this.active) return undefined;
    if (this.isPrimary) this.enqueue(f, now, out);
    // A request its client sent us directly went to the primary too; one that came another way is relayed.
    else if (!direct) out.push({ kind: 'send', to: primaryOf(this.view, this.c.n), bytes: f.bytes });
    return undefined;
  }

  private enqueue(f: Frame<RequestBody>, now: number, out: ReplicaAction[]): void {
    const key = `${f.body.client}:${f.body.t}`;
    if (this.proposed.has(key)) return;
    // One request per client: a newer one replaces what still waits.
    this.queue = this.queue.filter((q) => q.body.client !== f.body.client);
    if (this.queue.length === 0) this.queueSince = now;
    this.queue.push(f);
    this.propose(now, out, false);
  }

  /** Room for another batch: inside the log window, and fewer than maxInFlight proposed batches not yet executed. */
  private canPropose(): boolean {
    return this.nextSeq <= this.low + this.c.L && this.nextSeq - 1 - this.lastExec < this.c.maxInFlight;
  }

  /** Cuts batches while there is room: full ones always, a partial one once it waited batchDelay. */
  private propose(now: number, out: ReplicaAction[], timed: boolean): void {
    while (this.queue.length > 0 && this.canPropose()) {
      const full = this.queue.length >= this.c.maxBatch;
      if (!full && !timed && !(now >= this.queueSince + this.c.batchDelay)) return;
      const take = this.queue.splice(0, this.c.maxBatch);
      const batch: Uint8Array[] = [];
      const requests: RequestBody[] = [];
      for (const r of take) {
        const key = `${r.body.client}:${r.body.t}`;
        const last = this.replies.get(r.body.client);
        if (this.proposed.has(key) || (last !== undefined && last.t >= r.body.t)) continue;
        this.proposed.add(key);
        batch.push(r.bytes);
        requests.push(r.body);
      }
      this.queueSince = now;
      if (batch.length === 0) continue;
      const seq = this.nextSeq++;
      const d = batchDigest(batch);
      const bytes = this.signedPersisted({ k: 'preprepare', v: this.view, n: seq, d, batch, r: this.id }, out);
      out.push({ kind: 'broadcast', bytes });
      const slot = this.slot(seq);
      slot.pp = { view: this.view, digest: d, dhex: hex(d), batch, frame: bytes, requests };
      this.progress(seq, now, out);
    }
  }

  // ---- normal case ----

  private onPrePrepare(f: Frame<PrePrepareBody>, now: number, out: ReplicaAction[]): DropReason | undefined {
    const { v, n: seq, d, batch, r } = f.body;
    if (r !== primaryOf(v, this.c.n)) return 'invalid';
    if (v > this.view || (v === this.view && !this.active)) return this.stash(f);
    if (v !== this.view) return 'wrong-view';
    if (seq <= this.low || seq > this.low + this.c.L) return 'out-of-window';
    const slot = this.slot(seq);
    if (slot.pp !== undefined && slot.pp.view === v) return bytesEqual(slot.pp.digest, d) ? 'duplicate' : 'conflict';
    // What we signed for this (view, seq) before a restart binds us though the pre-prepare is gone.
    const dh = hex(d);
    for (const sent of [slot.prepareSent, slot.commitSent]) if (sent !== undefined && sent.view === v && sent.dhex !== dh) return 'conflict';
    if (!bytesEqual(batchDigest(batch), d)) return 'invalid';
    const requests = this.certs.batchRequests(batch, (bytes) => {
      const held = this.direct.get(fingerprint(bytes));
      return held !== undefined && bytesEqual(held.bytes, bytes) ? held.body : undefined;
    });
    if (requests === undefined) return 'invalid';
    this.install(slot, seq, { view: v, digest: d, dhex: hex(d), batch, frame: f.bytes, requests }, now, out);
    return undefined;
  }

  private install(slot: Slot, seq: number, pp: PrePrepared, now: number, out: ReplicaAction[]): void {
    slot.pp = pp;
    if (primaryOf(pp.view, this.c.n) !== this.id && slot.prepareSent?.view !== pp.view) {
      const bytes = this.signedPersisted({ k: 'prepare', v: pp.view, n: seq, d: pp.digest, r: this.id }, out);
      const vote = { view: pp.view, dhex: pp.dhex, frame: bytes };
      slot.prepareSent = vote;
      slot.prepares.set(this.id, vote);
      out.push({ kind: 'broadcast', bytes });
    }
    this.progress(seq, now, out);
  }

  private onVote(f: Frame<PrepareBody> | Frame<CommitBody>, now: number, out: ReplicaAction[]): DropReason | undefined {
    const { v, n: seq, d, r } = f.body;
    if (f.body.k === 'prepare' && r === primaryOf(v, this.c.n)) return 'invalid';
    if (seq <= this.low || seq > this.low + this.c.L) return 'out-of-window';
    const slot = this.slot(seq);
    const votes = f.body.k === 'prepare' ? slot.prepares : slot.commits;
    const dhex = hex(d);
    const had = votes.get(r);
    if (had !== undefined) {
      if (had.view > v) return 'stale';
      if (had.view === v) return had.dhex === dhex ? 'duplicate' : 'conflict';
    }
    votes.set(r, { view: v, dhex, frame: f.bytes });
    this.progress(seq, now, out);
    return undefined;
  }

  /** Moves one slot along: prepared → commit sent; committed-local → execute in order. */
  private progress(seq: number, now: number, out: ReplicaAction[]): void {
    const slot = this.log.get(seq);
    const pp = slot?.pp;
    if (slot === undefined || pp === undefined) return;
    const { q } = this.certs.quorum;
    const primary = primaryOf(pp.view, this.c.n);
    const ps: Uint8Array[] = [];
    for (const [r, vote] of slot.prepares) if (r !== primary && vote.view === pp.view && vote.dhex === pp.dhex) ps.push(vote.frame);
    if (ps.length < q - 1) return;
    if (slot.cert === undefined || slot.cert.view < pp.view) {
      slot.cert = { view: pp.view, seq, digest: pp.digest, batch: pp.batch, pp: pp.frame, ps: ps.slice(0, q - 1) };
      out.push({ kind: 'persist', record: { type: 'prepared', pp: slot.cert.pp, ps: slot.cert.ps } });
    }
    if (this.active && pp.view === this.view && slot.commitSent?.view !== pp.view) {
      const bytes = this.signedPersisted({ k: 'commit', v: pp.view, n: seq, d: pp.digest, r: this.id }, out);
      const vote = { view: pp.view, dhex: pp.dhex, frame: bytes };
      slot.commitSent = vote;
      slot.commits.set(this.id, vote);
      out.push({ kind: 'broadcast', bytes });
    }
    if (seq === this.lastExec + 1) this.execute(now, out);
  }

  private committed(seq: number): PrePrepared | undefined {
    const slot = this.log.get(seq);
    const pp = slot?.pp;
    if (slot === undefined || pp === undefined || slot.cert === undefined || slot.cert.view !== pp.view) return undefined;
    let n = 0;
    for (const vote of slot.commits.values()) if (vote.view === pp.view && vote.dhex === pp.dhex) n++;
    return n >= this.certs.quorum.q ? pp : undefined;
  }

  private execute(now: number, out: ReplicaAction[]): void {
    for (;;) {
      const seq = this.lastExec + 1;
      const pp = this.committed(seq);
      if (pp === undefined) return;
      const done: ExecutedRequest[] = [];
      for (const body of pp.requests ?? this.decodeBatch(pp.batch)) {
        const { client, t, op } = body;
        this.proposed.delete(`${client}:${t}`);
        const last = this.replies.get(client);
        if (last !== undefined && last.t >= t) continue;
        let result: Uint8Array;
        try {
          result = this.c.stateMachine.execute(op);
          if (!(result instanceof Uint8Array)) result = ERROR_RESULT;
        } catch {
          result = ERROR_RESULT;
        }
        const entry: LastReply = { t, result, frame: undefined };
        this.replies.set(client, entry);
        done.push({ client, timestamp: t, result });
        out.push({ kind: 'reply', client, bytes: this.replyFrame(client, entry) });
        const waiting = this.pending.get(client);
        if (waiting !== undefined && waiting.t <= t) this.pending.delete(client);
      }
      this.lastExec = seq;
      this.backoff = 0;
      if (this.timerClient === undefined || !this.pending.has(this.timerClient)) this.restartTimer(now);
      out.push({ kind: 'event', event: { kind: 'executed', seq, view: pp.view, digest: pp.digest, requests: done } });
      if (seq % this.c.K === 0) this.checkpoint(seq, now, out);
      // A batch left the flight: what queued behind it goes out now, as one batch.
      if (this.active && this.isPrimary && this.queue.length > 0) this.propose(now, out, true);
    }
  }

  private replyFrame(client: number, entry: LastReply): Uint8Array {
    entry.frame ??= this.signed({ k: 'reply', v: this.view, t: entry.t, client, result: entry.result, r: this.id });
    return entry.frame;
  }

  // ---- checkpoints and state transfer ----

  /** The checkpointed state: the machine's snapshot and the last reply to every client. */
  private bundle(): Uint8Array {
    const clients = [...this.replies.keys()].sort((a, b) => a - b);
    return encodeBundle(this.c.stateMachine.snapshot(), clients.map((c) => [c, this.replies.get(c)!.t, this.replies.get(c)!.result] as const));
  }

  private checkpoint(seq: number, now: number, out: ReplicaAction[]): void {
    const bundle = this.bundle();
    const digest = sha256(bundle);
    const bytes = this.signedPersisted({ k: 'checkpoint', n: seq, d: digest, r: this.id }, out);
    this.ownCheckpoints.set(seq, { digest, bundle, frame: bytes });
    out.push({ kind: 'broadcast', bytes });
    this.recordCheckpoint(this.id, seq, hex(digest), bytes, now, out);
  }

  private onCheckpoint(f: Frame<CheckpointBody>, now: number, out: ReplicaAction[]): DropReason | undefined {
    const { n: seq, d, r } = f.body;
    if (seq <= this.low || seq % this.c.K !== 0) return 'stale';
    const mine = this.checkpointVotes.get(r);
    if (mine?.has(seq)) return mine.get(seq)!.dhex === hex(d) ? 'duplicate' : 'conflict';
    this.recordCheckpoint(r, seq, hex(d), f.bytes, now, out);
    return undefined;
  }

  private recordCheckpoint(r: number, seq: number, dhex: string, frame: Uint8Array, now: number, out: ReplicaAction[]): void {
    let mine = this.checkpointVotes.get(r);
    if (mine === undefined) this.checkpointVotes.set(r, (mine = new Map()));
    mine.set(seq, { dhex, frame });
    if (mine.size > CHECKPOINT_VOTES_KEPT) mine.delete(Math.min(...mine.keys()));
    const proof: Uint8Array[] = [];
    for (const votes of this.checkpointVotes.values()) {
      const v = votes.get(seq);
      if (v !== undefined && v.dhex === dhex) proof.push(v.frame);
    }
    if (proof.length >= this.certs.quorum.q) this.learnStable(seq, Buffer.from(dhex, 'hex'), proof, now, out);
  }

  /** A checkpoint proven stable: adopt it if this replica holds that state, else fetch the state. */
  private learnStable(seq: number, digest: Uint8Array, proof: readonly Uint8Array[], now: number, out: ReplicaAction[]): void {
    if (seq <= this.low) return;
    const own = this.ownCheckpoints.get(seq);
    if (this.lastExec >= seq && own !== undefined && bytesEqual(own.digest, digest)) {
      this.makeStable(seq, digest, own.bundle, proof, now, out);
      return;
    }
    // Behind (or, were more than f replicas faulty, diverged): ask for the proven state.
    if (this.fetchTarget === undefined || this.fetchTarget.seq < seq) {
      this.fetchTarget = { seq, at: now + 2 * this.c.statusInterval };
      out.push({ kind: 'broadcast', bytes: this.signed({ k: 'fetch', n: seq, r: this.id }) });
    }
  }

  private makeStable(seq: number, digest: Uint8Array, bundle: Uint8Array, proof: readonly Uint8Array[], now: number, out: ReplicaAction[]): void {
    this.low = seq;
    this.stableDigest = digest;
    this.stableBundle = bundle;
    this.stableProof = proof.slice(0, this.certs.quorum.q);
    out.push({ kind: 'persist', record: { type: 'stable', seq, bundle, proof: this.stableProof } });
    for (const k of this.log.keys()) if (k <= seq) this.log.delete(k);
    for (const k of this.ownCheckpoints.keys()) if (k < seq) this.ownCheckpoints.delete(k);
    for (const votes of this.checkpointVotes.values()) for (const k of votes.keys()) if (k <= seq) votes.delete(k);
    if (this.fetchTarget !== undefined && this.fetchTarget.seq <= seq) this.fetchTarget = undefined;
    if (this.nextSeq <= seq) this.nextSeq = seq + 1;
    out.push({ kind: 'event', event: { kind: 'stable', seq } });
    if (this.active && this.isPrimary && this.queue.length > 0) this.propose(now, out, false);
  }

  private stateMessage(): Uint8Array {
    return this.signed({ k: 'state', n: this.low, snap: this.stableBundle, c: [...this.stableProof], r: this.id });
  }

  private onState(f: Frame<StateBody>, now: number, out: ReplicaAction[]): DropReason | undefined {
    const { n: seq, snap, c } = f.body;
    if (seq <= this.lastExec || seq <= this.low) return 'stale';
    const d = this.certs.checkpointProof(seq, c);
    if (d === undefined || !bytesEqual(sha256(snap), d)) return 'invalid';
    const b = parseBundle(snap, this.c.maxMessageBytes);
    if (b === undefined) return 'invalid';
    try {
      this.c.stateMachine.restore(b.state);
    } catch {
      return 'invalid';
    }
    this.replies.clear();
    for (const [client, t, result] of b.replies) this.replies.set(client, { t, result, frame: undefined });
    for (const [client, p] of this.pending) if ((this.replies.get(client)?.t ?? -1) >= p.t) this.pending.delete(client);
    this.restartTimer(now);
    this.proposed.clear();
    this.lastExec = seq;
    this.ownCheckpoints.set(seq, { digest: d, bundle: snap });
    this.stateTransfers++;
    out.push({ kind: 'event', event: { kind: 'state-transfer', seq } });
    this.makeStable(seq, d, snap, c, now, out);
    this.execute(now, out);
    return undefined;
  }

  // ---- status ----

  private onStatus(s: StatusBody, out: ReplicaAction[]): DropReason | undefined {
    const to = s.r;
    if (this.active && this.newViewFrame !== undefined && (s.v < this.view || (s.v === this.view && s.vc))) {
      out.push({ kind: 'send', to, bytes: this.newViewFrame });
    }
    if (!this.active && this.ownViewChange !== undefined && (s.v < this.view || (s.v === this.view && s.vc))) {
      out.push({ kind: 'send', to, bytes: this.ownViewChange });
    }
    // Checkpoints it may have missed: without them its window could stay shut.
    for (const [seq, own] of this.ownCheckpoints) if (seq > s.h && own.frame !== undefined) out.push({ kind: 'send', to, bytes: own.frame });
    if (this.low > 0 && s.e < this.low) {
      out.push({ kind: 'send', to, bytes: this.stateMessage() });
      return undefined;
    }
    if (!this.active || s.vc || s.v !== this.view) return undefined;
    // The primary resends pre-prepares still in flight (one may have raced ahead of its new-view).
    if (this.isPrimary) {
      const last = Math.min(this.nextSeq - 1, this.repairProposed, Math.max(s.e, this.lastExec) + STATUS_SLOTS);
      for (let seq = Math.max(s.e, this.lastExec) + 1; seq <= last; seq++) {
        const pp = this.log.get(seq)?.pp;
        if (pp !== undefined && pp.view === this.view) out.push({ kind: 'send', to, bytes: pp.frame });
      }
    }
    const end = Math.min(this.lastExec, this.repairExec, s.e + STATUS_SLOTS);
    for (let seq = s.e + 1; seq <= end; seq++) {
      const slot = this.log.get(seq);
      if (slot?.pp === undefined) continue;
      out.push({ kind: 'send', to, bytes: slot.pp.frame });
      if (slot.prepareSent !== undefined) out.push({ kind: 'send', to, bytes: slot.prepareSent.frame });
      if (slot.commitSent !== undefined) out.push({ kind: 'send', to, bytes: slot.commitSent.frame });
    }
    return undefined;
  }

  // ---- view change ----

  /**
   * The shell saw the primary's channel fail (its process died, its host went away): start the
   * view change now instead of when a request timer runs out. One replica's suspicion moves
   * only itself; the others follow once f+1 have moved (onViewChange), so a single flaky link
   * cannot depose a primary.
   */
  suspectPrimary(now: number): ReplicaAction[] {
    checkTime(now);
    const out: ReplicaAction[] = [];
    if (this.active && !this.isPrimary) this.startViewChange(this.view + 1, now, out);
    return out;
  }

  /** The timer now waits for the oldest pending request, if any. */
  private restartTimer(now: number): void {
    const first = this.pending.keys().next();
    this.timerClient = first.done ? undefined : first.value;
    this.timerStart = first.done ? undefined : now;
  }

  private timeout(): number {
    return this.c.requestTimeout * 2 ** Math.min(this.backoff, this.c.maxBackoff);
  }

  private startViewChange(view: number, now: number, out: ReplicaAction[]): void {
    if (view <= this.view && !this.active) return;
    this.view = view;
    this.active = false;
    this.backoff++;
    this.viewChanges++;
    this.vcDeadline = undefined;
    this.timerStart = undefined;
    this.queue = [];
    this.proposed.clear();
    out.push({ kind: 'persist', record: { type: 'view', view, active: false } });
    this.sendViewChange(now, out);
  }

  /** Signs (after persisting) and broadcasts our view-change for the view we wait in. */
  private sendViewChange(now: number, out: ReplicaAction[]): void {
    const view = this.view;
    const p: { pp: Uint8Array; ps: Uint8Array[] }[] = [];
    for (const [seq, slot] of [...this.log].sort((a, b) => a[0] - b[0])) {
      if (seq > this.low && slot.cert !== undefined) p.push({ pp: slot.cert.pp, ps: [...slot.cert.ps] });
    }
    const bytes = this.signedPersisted({ k: 'viewchange', v: view, n: this.low, c: this.low > 0 ? [...this.stableProof] : [], p, r: this.id }, out);
    this.ownViewChange = bytes;
    out.push({ kind: 'broadcast', bytes });
    out.push({ kind: 'event', event: { kind: 'view-change', view } });
    const info = this.certs.viewChange(bytes);
    if (info !== undefined) this.latestViewChange.set(this.id, info);
    this.armViewChangeTimer(now);
    this.tryNewView(now, out);
  }

  /**
   * The paper starts the new-view timer only once a quorum has moved: a replica alone in a
   * higher view then waits for the others instead of climbing ever higher. We count replicas
   * whose latest view-change is for this view or a later one, so a group split across two
   * views by lost messages still starts its timers and meets again one view up.
   */
  private armViewChangeTimer(now: number): void {
    if (this.active || this.vcDeadline !== undefined) return;
    let moved = 0;
    for (const info of this.latestViewChange.values()) if (info.view >= this.view) moved++;
    if (moved >= this.certs.quorum.q) this.vcDeadline = now + this.timeout();
  }

  private onViewChange(bytes: Uint8Array, now: number, out: ReplicaAction[]): DropReason | undefined {
    const info = this.certs.viewChange(bytes);
    if (info === undefined) return 'invalid';
    const had = this.latestViewChange.get(info.replica);
    if (had !== undefined && had.view >= info.view) return had.view === info.view ? 'duplicate' : 'stale';
    if (info.view < this.view || (info.view === this.view && this.active)) return 'stale';
    this.latestViewChange.set(info.replica, info);
    // f+1 replicas ahead include an honest one: join the (f+1)-th highest view among them.
    const { f } = this.certs.quorum;
    const ahead = [...this.latestViewChange.values()].map((x) => x.view).filter((v) => v > this.view).sort((a, b) => b - a);
    if (ahead.length >= f + 1) this.startViewChange(ahead[f]!, now, out);
    this.armViewChangeTimer(now);
    this.tryNewView(now, out);
    return undefined;
  }

  private tryNewView(now: number, out: ReplicaAction[]): void {
    if (this.active || primaryOf(this.view, this.c.n) !== this.id) return;
    const vcs = [...this.latestViewChange.values()].filter((x) => x.view === this.view).sort((a, b) => a.replica - b.replica);
    const { q } = this.certs.quorum;
    if (vcs.length < q) return;
    // Our own view-change first, so our checkpoint proof is among those used.
    const chosen = [vcs.find((x) => x.replica === this.id)!, ...vcs.filter((x) => x.replica !== this.id)].filter((x) => x !== undefined).slice(0, q);
    const plan = planNewView(chosen);
    const o = plan.entries.map((e) => this.signedPersisted({ k: 'preprepare', v: this.view, n: e.seq, d: e.digest, batch: [...e.batch], r: this.id }, out));
    const bytes = this.signedPersisted({ k: 'newview', v: this.view, vc: chosen.map((x) => x.frame), o, r: this.id }, out);
    out.push({ kind: 'broadcast', bytes });
    this.enterView(this.view, plan, o, bytes, now, out);
  }

  private onNewView(f: Frame<NewViewBody>, now: number, out: ReplicaAction[]): DropReason | undefined {
    const { v, vc, o, r } = f.body;
    if (r !== primaryOf(v, this.c.n)) return 'invalid';
    if (v < this.view || (v === this.view && this.active)) return 'stale';
    const infos: ViewChangeInfo[] = [];
    const seen = new Set<number>();
    for (const bytes of vc) {
      const info = this.certs.viewChange(bytes);
      if (info === undefined || info.view !== v || seen.has(info.replica)) return 'invalid';
      seen.add(info.replica);
      infos.push(info);
    }
    if (infos.length < this.certs.quorum.q) return 'invalid';
    // Recompute what the primary had to send and accept nothing else.
    const plan = planNewView(infos);
    if (o.length !== plan.entries.length) return 'invalid';
    for (let i = 0; i < o.length; i++) {
      const e = plan.entries[i]!;
      const p = this.certs.replicaFrame(o[i]!, 'preprepare');
      if (p === undefined || p.body.r !== r || p.body.v !== v || p.body.n !== e.seq || !bytesEqual(p.body.d, e.digest)) return 'invalid';
      if (!bytesEqual(batchDigest(p.body.batch), e.digest)) return 'invalid';
    }
    this.enterView(v, plan, o, f.bytes, now, out);
    return undefined;
  }

  private enterView(view: number, plan: NewViewPlan, o: readonly Uint8Array[], newView: Uint8Array, now: number, out: ReplicaAction[]): void {
    this.view = view;
    this.active = true;
    this.vcDeadline = undefined;
    this.newViewFrame = newView;
    this.ownViewChange = undefined;
    for (const [r, info] of this.latestViewChange) if (info.view <= view) this.latestViewChange.delete(r);
    out.push({ kind: 'persist', record: { type: 'view', view, active: true } });
    out.push({ kind: 'event', event: { kind: 'new-view', view } });
    if (plan.minS > this.low && plan.minSource.stableDigest !== undefined) {
      this.learnStable(plan.minS, plan.minSource.stableDigest, plan.minSource.proof, now, out);
    }
    const primary = primaryOf(view, this.c.n);
    if (primary === this.id) this.nextSeq = Math.max(plan.maxS, this.low) + 1;
    for (let i = 0; i < o.length; i++) {
      const e = plan.entries[i]!;
      if (e.seq <= this.low || e.seq > this.low + this.c.L) continue;
      for (const bytes of e.batch) {
        const f = decodeFrame(bytes, this.certs.limits);
        if (typeof f !== 'string' && f.body.k === 'request') this.proposed.add(`${f.body.client}:${f.body.t}`);
      }
      this.install(this.slot(e.seq), e.seq, { view, digest: e.digest, dhex: hex(e.digest), batch: e.batch, frame: o[i]! }, now, out);
    }
    // Requests still waiting go to the new primary (or into its queue), and the timer restarts.
    this.restartTimer(now);
    for (const p of this.pending.values()) {
      if (primary === this.id) {
        const f = decodeFrame(p.frame, this.certs.limits);
        if (typeof f !== 'string' && f.body.k === 'request') this.enqueue(f as Frame<RequestBody>, now, out);
      } else out.push({ kind: 'send', to: primary, bytes: p.frame });
    }
    const early = this.early;
    this.early = [];
    for (const f of early) if (f.body.v === view) this.onPrePrepare(f, now, out);
    this.execute(now, out);
  }

  /** A pre-prepare of a view not yet entered (it raced its new-view): kept, a bounded few, until then. */
  private stash(f: Frame<PrePrepareBody>): DropReason | undefined {
    if (f.body.v > this.view + 1 && !(f.body.v === this.view && !this.active)) return 'wrong-view';
    if (this.early.length >= this.c.L) return 'wrong-view';
    this.early.push(f);
    return undefined;
  }

  // ---- helpers ----

  /** Something to catch up on: back to the full status rate. */
  private wake(behind: boolean, now: number): void {
    if (!behind || this.quiet === 0) return;
    this.quiet = 0;
    this.nextStatus = Math.min(this.nextStatus, now + this.c.statusInterval);
  }

  private holdDirect(f: Frame<RequestBody>): void {
    const client = f.body.client;
    const old = this.directOf.get(client);
    if (old !== undefined) this.direct.delete(old);
    const key = fingerprint(f.bytes);
    this.direct.set(key, f);
    this.directOf.set(client, key);
  }

  /** A batch checked on arrival (or recovered from our own log), decoded again. */
  private decodeBatch(batch: readonly Uint8Array[]): RequestBody[] {
    const out: RequestBody[] = [];
    for (const bytes of batch) {
      const f = decodeFrame(bytes, this.certs.limits);
      if (typeof f !== 'string' && f.body.k === 'request') out.push(f.body);
    }
    return out;
  }

  private slot(seq: number): Slot {
    let s = this.log.get(seq);
    if (s === undefined) {
      s = { pp: undefined, prepares: new Map(), commits: new Map(), cert: undefined, prepareSent: undefined, commitSent: undefined };
      this.log.set(seq, s);
    }
    return s;
  }

  private signed(body: ReplicaBody): Uint8Array {
    return sign(body as Body, this.c.signer);
  }

  /** Signs a message that commits this replica, and asks the shell to make it durable first. */
  private signedPersisted(body: ReplicaBody, out: ReplicaAction[]): Uint8Array {
    const bytes = this.signed(body);
    out.push({ kind: 'persist', record: { type: 'message', bytes } });
    return bytes;
  }
}
