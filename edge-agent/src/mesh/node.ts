/**
 * The overlay's shell in a running agent: it drives the pure GossipCore over
 * the secure channels and mirrors the confirmed map into a PeerStore.
 *
 * - A channel opening is our link: we announce `connect` (direction out if we
 *   dialled), then send the new neighbour our digest; a side whose digest
 *   differs from the one it receives sends every report it holds (catch-up).
 * - A channel closing is announced as `disconnect`. That is how the map learns
 *   that a peer died: its surviving neighbours say so. Only changes flood.
 * - Received events go through the core; what it accepts is forwarded to
 *   every other neighbour as one batch per neighbour: flushMs after the first
 *   event when we have been quiet for gossipIntervalMs, else when that
 *   interval ends. So each neighbour gets at most one batch per interval,
 *   however many events the fleet makes (the overlay-sim measures the same).
 * - Reports about our own links that contradict our channels (sent before a
 *   restart, or replayed) are corrected by a fresh report; a partner's
 *   refresh of our link is echoed so that both halves stay close in time.
 * - Every antiEntropyMs each neighbour gets our digest; a difference that
 *   stays unchanged over two rounds is repaired by a catch-up, whatever lost
 *   the events (a dropped batch, a ban that has expired, a bug).
 * - Every refreshMs the dialling end re-announces each link (the partner
 *   echoes), keeping every report younger than the core's maxAgeMs.
 * - sweep() keeps edges between peers reachable from us; partition and
 *   eclipse are watched on the map and reported through onEvent.
 */
import { hash as nodeHash } from 'node:crypto';
import { systemClock, type Clock, type Timer } from '../clock/index.js';
import { toHex } from '../identity/index.js';
import {
  GossipCore,
  PartitionWatch,
  PeerStore,
  components,
  findComponents,
  type Direction,
  type EdgeChange,
  type EventKind,
  type EventSigner,
  type GossipOptions,
  type PartitionEvent,
  type PeerGraph,
  type ReceiveResult,
  type RejectReason,
} from '../overlay/index.js';
import type { Channel, ChannelClosed, ConnectionManager, Incoming, LogSink, Messenger } from '../transport/index.js';
import { MeshError } from './errors.js';
import { MAX_BATCH, overlayCatchUp, overlayDigest, overlayEvents } from './messages.js';

export interface OverlayNodeOptions {
  readonly messenger: Messenger;
  readonly manager: ConnectionManager;
  /** Our signing key, public key and PoW nonce. The node keeps the key and wipes it on close(). */
  readonly signer: EventSigner;
  readonly clock?: Clock;
  /** Where link changes and map changes are logged; at debug level (pino's isLevelEnabled), each map change also lists the edges. */
  readonly log?: DebugLog;
  /** GossipCore options (ourId and clock come from here). */
  readonly gossip?: Omit<GossipOptions, 'ourId' | 'clock'>;
  /** PeerStore capacity (the board profile's bound). Default 100,000. */
  readonly maxPeers?: number;
  /** Neighbours kept per peer in the map. Default 16 (12 plus the brief overflow). */
  readonly maxDegree?: number;
  /** A batch leaves this long after its first event (to gather what arrives with it). Default 20 ms. */
  readonly flushMs?: number;
  /** At most one gossip batch per neighbour this often. Default 2 s. */
  readonly gossipIntervalMs?: number;
  /** Seen cache, bans and unreachable edges are collected this often. Default 5 s. */
  readonly sweepMs?: number;
  /** The dialling end re-announces each link this often. Default 7 days. */
  readonly refreshMs?: number;
  /** Partition and eclipse are checked this often. Default 10 s. */
  readonly watchMs?: number;
  /**
   * Each neighbour gets our whole digest this often (anti-entropy). A difference that stays the same over two
   * rounds (both tables settled, yet apart) triggers a catch-up; one caused by events in flight does not. Default 30 s.
   */
  readonly antiEntropyMs?: number;
  /** A changed map is logged (event 'overlay': edges, peers, map digest) at most this often. Default 1 s. */
  readonly reportMs?: number;
  /** A new neighbour's catch-up bypasses the rate limit for this long after the link opens. Default 60 s. */
  readonly catchUpWindowMs?: number;
  /** Frames per neighbour waiting to be sent; beyond it the oldest are dropped (the flood has other paths). Default 4096. */
  readonly maxQueued?: number;
  /** Partition and eclipse events, for telemetry. */
  readonly onEvent?: (kind: string, data: Record<string, unknown>) => void;
}

export interface OverlayStats {
  readonly neighbours: number;
  readonly peers: number;
  readonly edges: number;
  /** SHA-256 (first 16 hex) of the sorted confirmed edges: equal maps give equal digests. */
  readonly map: string;
  readonly accepted: number;
  readonly rejected: Partial<Record<RejectReason, number>>;
  readonly catchUpsSent: number;
  readonly framesSent: number;
  readonly messagesSent: number;
  readonly dropped: number;
  readonly corrections: number;
  /** Confirmed edges the map could not hold because a peer had more than maxDegree. */
  readonly truncated: number;
  readonly cut: boolean;
}

/** A LogSink that may also log at debug level (a pino Logger is one). */
type DebugLog = LogSink & { debug?(obj: object, msg: string): void; isLevelEnabled?(level: string): boolean };

interface Link {
  readonly channel: Channel;
  readonly peerId: Uint8Array;
  readonly direction: Direction;
  /** Until then, catch-up frames from this neighbour skip the rate limit. */
  readonly catchUpUntil: number;
  /** The last periodic mismatch seen with this neighbour ("theirs|ours"), to act only on a settled one. */
  mismatch: string | undefined;
}

function positiveInt(value: unknown, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new MeshError('BAD_ARGUMENT', `OverlayNode: ${what} must be a positive integer, got ${String(v)}`);
  return v;
}

const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));
const opposite = (d: Direction): Direction => (d === 'in' ? 'out' : 'in');
/** A partner's refresh newer than our half by this much is echoed; well under the confirmation timeout. */
const ECHO_AFTER_MS = 5_000;

export class OverlayNode {
  readonly ourId: string;
  readonly core: GossipCore;
  readonly store: PeerStore;
  readonly #o: {
    flushMs: number;
    gossipIntervalMs: number;
    sweepMs: number;
    refreshMs: number;
    watchMs: number;
    reportMs: number;
    antiEntropyMs: number;
    catchUpWindowMs: number;
    maxQueued: number;
  };
  readonly #messenger: Messenger;
  readonly #manager: ConnectionManager;
  readonly #signer: EventSigner;
  readonly #clock: Clock;
  readonly #log: DebugLog;
  readonly #onEvent: (kind: string, data: Record<string, unknown>) => void;
  readonly #me: Uint8Array;
  readonly #links = new Map<string, Link>();
  readonly #outbox = new Map<string, Uint8Array[]>();
  readonly #watch = new PartitionWatch();
  readonly #timers: Timer[] = [];
  #flushTimer: Timer | undefined;
  #lastFlushAt = -Infinity;
  #unsubscribe: (() => void)[] = [];
  #started = false;
  #closed = false;
  #mapDigest: string | undefined;
  #reported: string | undefined;
  readonly #count = { accepted: 0, catchUpsSent: 0, framesSent: 0, messagesSent: 0, dropped: 0, corrections: 0, truncated: 0 };
  readonly #rejected: Partial<Record<RejectReason, number>> = {};

  constructor(options: OverlayNodeOptions) {
    if (typeof options !== 'object' || options === null) throw new MeshError('BAD_ARGUMENT', 'OverlayNode: options must be an object');
    const { signer } = options;
    if (
      typeof signer !== 'object' ||
      signer === null ||
      !(signer.secretKey instanceof Uint8Array) ||
      !(signer.publicKey instanceof Uint8Array) ||
      !(signer.pow instanceof Uint8Array) ||
      signer.pow.length !== 8
    ) {
      throw new MeshError('BAD_ARGUMENT', 'OverlayNode: signer must hold secretKey, publicKey and an 8-byte pow nonce');
    }
    if (typeof options.messenger?.handle !== 'function') throw new MeshError('BAD_ARGUMENT', 'OverlayNode: a Messenger is required');
    if (typeof options.manager?.onOpen !== 'function') throw new MeshError('BAD_ARGUMENT', 'OverlayNode: a ConnectionManager is required');
    if (options.onEvent !== undefined && typeof options.onEvent !== 'function') throw new MeshError('BAD_ARGUMENT', 'OverlayNode: onEvent must be a function');
    this.#messenger = options.messenger;
    this.#manager = options.manager;
    this.#signer = signer;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log ?? { info: () => {}, warn: () => {} };
    this.#onEvent = options.onEvent ?? (() => {});
    this.#o = {
      flushMs: positiveInt(options.flushMs, 20, 'flushMs'),
      gossipIntervalMs: positiveInt(options.gossipIntervalMs, 2_000, 'gossipIntervalMs'),
      sweepMs: positiveInt(options.sweepMs, 5_000, 'sweepMs'),
      refreshMs: positiveInt(options.refreshMs, 7 * 24 * 3_600_000, 'refreshMs'),
      watchMs: positiveInt(options.watchMs, 10_000, 'watchMs'),
      reportMs: positiveInt(options.reportMs, 1_000, 'reportMs'),
      antiEntropyMs: positiveInt(options.antiEntropyMs, 30_000, 'antiEntropyMs'),
      catchUpWindowMs: positiveInt(options.catchUpWindowMs, 60_000, 'catchUpWindowMs'),
      maxQueued: positiveInt(options.maxQueued, 4096, 'maxQueued'),
    };
    this.#me = this.#manager.peerId;
    this.core = new GossipCore({ ...options.gossip, ourId: this.#me, clock: this.#clock });
    this.ourId = this.core.ourId;
    this.store = new PeerStore({ clock: this.#clock, maxPeers: options.maxPeers, maxDegree: options.maxDegree ?? 16 });
    this.store.pin(this.#me);
  }

  /** The signed reports we hold: what a snapshot saves (saveReports) and restore() takes back. */
  reports(): Uint8Array[] {
    return this.core.catchUpFrames();
  }

  /**
   * Reports saved before a restart, verified again like a catch-up (stale ones fall out) and mirrored into the
   * map. Before start(): nothing is forwarded, and our own reports are taken as they were; when our links come
   * back, the link-up announcements and catch-ups bring everything up to date.
   */
  restore(frames: readonly Uint8Array[]): { accepted: number; rejected: number } {
    if (this.#started || this.#closed) throw new MeshError('BAD_ARGUMENT', 'OverlayNode.restore: only before start()');
    if (!Array.isArray(frames) || !frames.every((f) => f instanceof Uint8Array)) throw new MeshError('BAD_ARGUMENT', 'OverlayNode.restore: frames must be Uint8Arrays');
    let accepted = 0;
    for (const f of frames) {
      const r = this.core.receiveCatchUp(this.ourId, f);
      this.#apply(r.edgeChanges);
      if (r.accepted) accepted++;
    }
    return { accepted, rejected: frames.length - accepted };
  }

  /** Registers the message handlers and follows the manager's channels (those already open included). */
  start(): void {
    if (this.#closed) throw new MeshError('CLOSED', 'OverlayNode: closed');
    if (this.#started) return;
    this.#started = true;
    this.#messenger.handle(overlayEvents, (m) => this.#onFrames(m, false));
    this.#messenger.handle(overlayCatchUp, (m) => this.#onFrames(m, true));
    this.#messenger.handle(overlayDigest, (m) => this.#onDigest(m));
    this.#unsubscribe = [this.#manager.onOpen((c) => this.#up(c)), this.#manager.onClose((c) => this.#linkDown(c))];
    for (const channel of this.#manager.channels()) this.#up(channel);
    this.#every(this.#o.sweepMs, () => this.sweep());
    this.#every(this.#o.refreshMs, () => this.#refresh());
    this.#every(this.#o.watchMs, () => this.#watchMap());
    this.#every(this.#o.reportMs, () => this.#report());
    this.#every(this.#o.antiEntropyMs, () => this.#antiEntropy());
  }

  /** Stops timers and listeners and wipes the signing key. Channels belong to the manager. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const u of this.#unsubscribe) u();
    for (const t of this.#timers) t.cancel();
    this.#flushTimer?.cancel();
    this.#signer.secretKey.fill(0);
  }

  /** The confirmed edges we know, `from` having dialled `to` (hex ids). */
  edges(): { from: string; to: string }[] {
    return this.core.edges.confirmed();
  }

  stats(): OverlayStats {
    return {
      neighbours: this.#links.size,
      peers: this.store.size,
      edges: this.core.edges.confirmedCount,
      map: this.#mapDigest ?? this.#computeMapDigest(),
      ...this.#count,
      rejected: { ...this.#rejected },
      cut: this.#watch.cut,
    };
  }

  /** Collects the seen cache, bans and edges that went stale out of our reach. Runs on its own timer too. */
  sweep(): void {
    let reach: ReturnType<typeof findComponents> | undefined;
    const reachable = (hex: string): boolean => {
      reach ??= findComponents(this.store);
      return reach.connected(this.#me, fromHex(hex));
    };
    this.#apply(this.core.sweep(this.#clock.now(), (from, to) => reachable(from) && reachable(to)));
  }

  #every(ms: number, fn: () => void): void {
    const tick = (): void => {
      if (this.#closed) return;
      try {
        fn();
      } catch (err) {
        this.#log.warn({ event: 'overlay.error', err: err instanceof Error ? err.message : String(err) }, 'overlay: a periodic task failed');
      }
      this.#timers.push(this.#clock.setTimer(ms, tick));
    };
    this.#timers.push(this.#clock.setTimer(ms, tick));
  }

  #up(channel: Channel): void {
    this.#linkUp(channel).catch((err: unknown) => {
      this.#log.warn({ event: 'overlay.error', err: err instanceof Error ? err.message : String(err) }, 'overlay: a link could not be announced');
    });
  }

  async #linkUp(channel: Channel): Promise<void> {
    if (this.#closed || !channel.isOpen) return;
    const hex = toHex(channel.remotePeerId);
    const direction: Direction = channel.initiator ? 'out' : 'in';
    const now = this.#clock.now();
    this.#links.set(hex, { channel, peerId: channel.remotePeerId, direction, catchUpUntil: now + this.#o.catchUpWindowMs, mismatch: undefined });
    this.store.pin(channel.remotePeerId);
    this.#log.info({ event: 'overlay.link', link: 'up', peer: hex, direction }, `overlay link up ${hex.slice(0, 8)} (${direction})`);
    this.#announce('connect', channel.remotePeerId, direction);
    // Our connect goes first on the channel, then the digest that leaves both halves of this link out.
    await this.#flushTo(hex);
    const digest = this.core.digest(hex);
    await this.#messenger.send(channel.remotePeerId, overlayDigest, { ...digest, linkUp: true }).catch(() => {});
  }

  #linkDown(closed: ChannelClosed): void {
    const link = this.#links.get(closed.peer);
    if (link === undefined || link.channel !== closed.channel || this.#closed) return;
    this.#links.delete(closed.peer);
    this.#outbox.delete(closed.peer);
    this.store.unpin(link.peerId);
    this.#log.info({ event: 'overlay.link', link: 'down', peer: closed.peer, direction: link.direction }, `overlay link down ${closed.peer.slice(0, 8)}`);
    this.#announce('disconnect', link.peerId, link.direction);
  }

  /** Signs and floods one report of ours, strictly later than the last one for that link end. */
  #announce(kind: EventKind, neighbour: Uint8Array, direction: Direction): void {
    const hex = toHex(neighbour);
    const held = this.core.edges.report(this.ourId, hex, direction);
    const ts = Math.max(this.#clock.now(), held === undefined ? 0 : held.timestamp + 1);
    const out = this.core.announce({ event: kind, neighbour, direction }, this.#signer, ts);
    this.#apply(out.edgeChanges);
    for (const peer of this.#links.keys()) this.#queue(peer, out.bytes);
  }

  #refresh(): void {
    for (const link of this.#links.values()) if (link.direction === 'out') this.#announce('connect', link.peerId, 'out');
  }

  #onFrames(m: Incoming<{ frames: Uint8Array[] }>, catchUp: boolean): void {
    if (this.#closed) return;
    const from = toHex(m.peerId);
    const link = this.#links.get(from);
    if (link === undefined) return; // not (or no longer) our neighbour
    const now = this.#clock.now();
    for (const frame of m.body.frames) {
      const exempt = catchUp && now <= link.catchUpUntil;
      this.#handle(exempt ? this.core.receiveCatchUp(from, frame, now) : this.core.receive(from, frame, now));
    }
  }

  #antiEntropy(): void {
    const digest = { ...this.core.digest(), linkUp: false };
    for (const link of this.#links.values()) void this.#messenger.send(link.peerId, overlayDigest, digest).catch(() => {});
  }

  async #onDigest(m: Incoming<{ count: number; xorHi: number; xorLo: number; linkUp: boolean }>): Promise<void> {
    const from = toHex(m.peerId);
    const link = this.#links.get(from);
    if (link === undefined || this.#closed) return;
    const theirs = m.body;
    const mine = theirs.linkUp ? this.core.digest(from) : this.core.digest();
    const same = mine.count === theirs.count && mine.xorHi === theirs.xorHi && mine.xorLo === theirs.xorLo;
    if (!theirs.linkUp) {
      const key = same ? undefined : `${theirs.count}.${theirs.xorHi}.${theirs.xorLo}|${mine.count}.${mine.xorHi}.${mine.xorLo}`;
      const settled = key !== undefined && key === link.mismatch;
      link.mismatch = settled ? undefined : key;
      if (!settled) return;
    } else if (same) {
      return;
    }
    // Our table differs from theirs: send them everything we hold; they drop what they have (STALE, no signature check).
    this.#count.catchUpsSent++;
    // A channel that closes midway needs nothing more: the next link-up brings a new catch-up.
    await this.#sendBatches(link, overlayCatchUp, this.core.catchUpFrames());
  }

  /** Sends `frames` to one neighbour, MAX_BATCH per message, in order; returns how many could not be sent. */
  async #sendBatches(link: Link, type: typeof overlayEvents | typeof overlayCatchUp, frames: readonly Uint8Array[]): Promise<number> {
    for (let i = 0; i < frames.length; i += MAX_BATCH) {
      const batch = frames.slice(i, i + MAX_BATCH);
      try {
        await this.#messenger.send(link.peerId, type, { frames: batch });
      } catch {
        return frames.length - i;
      }
      this.#count.messagesSent++;
      this.#count.framesSent += batch.length;
    }
    return 0;
  }

  #handle(result: ReceiveResult): void {
    this.#apply(result.edgeChanges);
    if (!result.accepted) {
      this.#rejected[result.reason] = (this.#rejected[result.reason] ?? 0) + 1;
      return;
    }
    this.#count.accepted++;
    if (result.forward !== null) {
      for (const peer of this.#links.keys()) if (peer !== result.forward.exclude) this.#queue(peer, result.forward.bytes);
    }
    this.#correct(result);
  }

  /** Reports about our own links must match our channels; see the header. */
  #correct(result: ReceiveResult & { accepted: true }): void {
    const e = result.event;
    const reporter = toHex(e.peerId);
    const neighbour = toHex(e.neighbour);
    if (reporter === this.ourId) {
      const link = this.#links.get(neighbour);
      const up = link !== undefined && link.direction === e.direction;
      if ((e.event === 'connect') !== up) {
        this.#count.corrections++;
        this.#announce(up ? 'connect' : 'disconnect', e.neighbour, e.direction);
      }
      return;
    }
    if (neighbour !== this.ourId || e.event !== 'connect') return;
    const link = this.#links.get(reporter);
    const mine = opposite(e.direction);
    if (link === undefined || link.direction !== mine) return;
    const held = this.core.edges.report(this.ourId, reporter, mine);
    if (held === undefined || !held.connect || e.timestamp - held.timestamp > ECHO_AFTER_MS) this.#announce('connect', link.peerId, mine);
  }

  /** Mirrors confirmed-edge changes into the PeerStore (undirected lists). */
  #apply(changes: readonly EdgeChange[]): void {
    if (changes.length === 0) return;
    this.#mapDigest = undefined;
    for (const c of changes) {
      const a = fromHex(c.from);
      const b = fromHex(c.to);
      if (c.change === 'confirmed') {
        this.#addNeighbour(a, b);
        this.#addNeighbour(b, a);
      } else {
        this.#removeNeighbour(a, b);
        this.#removeNeighbour(b, a);
      }
    }
  }

  #addNeighbour(a: Uint8Array, b: Uint8Array): void {
    const list = this.store.neighbours(a) ?? [];
    if (list.some((x) => Buffer.compare(x, b) === 0)) return;
    if (list.length >= this.store.maxDegree) {
      this.#count.truncated++;
      return;
    }
    this.store.setNeighbours(a, [...list, b]);
  }

  #removeNeighbour(a: Uint8Array, b: Uint8Array): void {
    const list = this.store.neighbours(a);
    if (list === undefined) return;
    const rest = list.filter((x) => Buffer.compare(x, b) !== 0);
    if (rest.length > 0 || this.store.isPinned(a)) this.store.setNeighbours(a, rest);
    else this.store.remove(a); // a peer with no link left is no longer on the map
  }

  #queue(peer: string, frame: Uint8Array): void {
    let q = this.#outbox.get(peer);
    if (q === undefined) this.#outbox.set(peer, (q = []));
    q.push(frame);
    if (q.length > this.#o.maxQueued) {
      q.shift();
      this.#count.dropped++;
    }
    if (this.#flushTimer !== undefined) return;
    const wait = Math.max(this.#o.flushMs, this.#lastFlushAt + this.#o.gossipIntervalMs - this.#clock.now());
    this.#flushTimer = this.#clock.setTimer(wait, () => {
      this.#flushTimer = undefined;
      this.#lastFlushAt = this.#clock.now();
      for (const p of [...this.#outbox.keys()]) void this.#flushTo(p);
    });
  }

  async #flushTo(peer: string): Promise<void> {
    const q = this.#outbox.get(peer);
    const link = this.#links.get(peer);
    this.#outbox.delete(peer);
    if (q === undefined || q.length === 0 || link === undefined) return;
    this.#count.dropped += await this.#sendBatches(link, overlayEvents, q);
  }

  /** Partition (components of the map) and eclipse (our neighbourhood's overlap), edge-triggered. */
  #watchMap(): void {
    const now = this.#clock.now();
    const lists: number[][] = [];
    const used: number[] = [];
    for (let s = 0; s < this.store.slotLimit; s++) {
      lists.push([]);
      if (this.store.isSlotUsed(s)) used.push(s);
    }
    this.store.forEachEdge((a, b) => {
      lists[a]!.push(b);
    });
    const graph: PeerGraph = { neighboursOf: (p) => lists[p] ?? [], peers: () => used };
    const events: PartitionEvent[] = this.#watch.observeComponents(components(graph, lists.length), now);
    const me = this.store.slotOf(this.#me);
    if (me >= 0) events.push(...this.#watch.observeNeighbourhood(me, lists[me]!, graph, now));
    for (const e of events) {
      const data = { ...e };
      this.#log.warn({ event: `overlay.${e.kind}`, ...data }, `overlay: ${e.kind}`);
      this.#onEvent(e.kind, data);
    }
  }

  /** One log line per change of the map, at most every reportMs: what an operator (and the 30-agent test) reads. */
  #report(): void {
    const { map, edges, peers, neighbours, rejected, catchUpsSent, corrections, dropped } = this.stats();
    if (map === this.#reported) return;
    this.#reported = map;
    this.#log.info({ event: 'overlay', map, edges, peers, neighbours, rejected, catchUpsSent, corrections, dropped }, `overlay map ${map}: ${edges} edges, ${peers} peers`);
    // The list is O(edges): built only when someone reads debug lines.
    if (this.#log.debug !== undefined && this.#log.isLevelEnabled?.('debug') === true) {
      this.#log.debug({ event: 'overlay.edges', map, edges: this.edges().map((e) => `${e.from}>${e.to}`) }, 'overlay map edges');
    }
  }

  #computeMapDigest(): string {
    const lines = this.core.edges
      .confirmed()
      .map((e) => `${e.from}>${e.to}`)
      .sort();
    this.#mapDigest = nodeHash('sha256', lines.join('\n'), 'hex').slice(0, 16);
    return this.#mapDigest;
  }
}
