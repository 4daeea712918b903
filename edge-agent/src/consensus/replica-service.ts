/**
 * A PBFT replica over the secure channels: the thin shell around Replica.
 * Frames travel as 'consensus/pbft' messages routed by the group's id; the
 * channel names the sender (a replica, or a node speaking for client numbers).
 * Signatures are made with the group's Ed25519 keys certified by the identity
 * keys (signing-keys.ts). What the core asks to persist is appended to the
 * replica's log at once, and every later action (of its list and of later
 * lists) waits until it is durable (fdatasync, group commit), so a replica
 * killed at any moment and rebuilt from its log never contradicts what it
 * sent, while the appends of lists that follow each other share one fdatasync.
 * One timer follows the core's deadline.
 */
import { rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { systemClock, type Clock, type Timer } from '../clock/index.js';
import { peerIdOf, toHex } from '../identity/index.js';
import { AppendLog, fsyncDir } from '../store/index.js';
import { routeSession, type Messenger } from '../transport/index.js';
import type { ReplicaConfig } from './config.js';
import { ConsensusError } from './errors.js';
import { decodePersistRecord, encodePersistRecord } from './persist-codec.js';
import { Replica } from './replica.js';
import { Outbox, consensusFrame, replyRoute } from './service-messages.js';
import { ConsensusKey, certifiedVerifier } from './signing-keys.js';
import type { StateMachine } from './state-machine.js';
import type { PersistRecord, ReplicaAction, ReplicaEvent } from './types.js';

/** Number → identity public key (33-byte secp256k1): replicas are 0..n−1, clients any u32 (one node may hold several). */
export type KeyRoster = ReadonlyMap<number, Uint8Array>;

export type ReplicaTuning = Partial<Pick<ReplicaConfig, 'checkpointInterval' | 'logWindow' | 'maxBatch' | 'batchDelay' | 'maxInFlight' | 'requestTimeout' | 'maxBackoff' | 'statusInterval'>>;

export interface ReplicaServiceOptions {
  readonly messenger: Messenger;
  /** The group's id (16 to 64 bytes), the same at every replica and client of the group. */
  readonly groupId: Uint8Array;
  readonly replicas: KeyRoster;
  /** Only these clients' requests are taken: from the node with that key, or signed with the client's certified key. */
  readonly clients: KeyRoster;
  readonly self: number;
  /** Our identity secret key: derives and certifies our signing key; only read while starting. */
  readonly secretKey: Uint8Array;
  readonly stateMachine: StateMachine;
  /** The replica's log file (created 0600 if absent). */
  readonly logPath: string;
  readonly clock?: Clock;
  readonly tuning?: ReplicaTuning;
  readonly onEvent?: (event: ReplicaEvent) => void;
  /** Compact the log once it holds at least this many records (default 256) and four times what it needs. */
  readonly compactAfterRecords?: number;
  /** The log refused a write: the replica stops acting (it may not send what it could not persist). */
  readonly onFailure?: (err: Error) => void;
  /** Start a view change when the primary's channel fails rather than on the request timer (default true). */
  readonly suspectOnClose?: boolean;
}

/** Channel ends that say the peer (or the way to it) failed; a duplicate or our own close does not. */
const FAILURES: ReadonlySet<string> = new Set(['CLOSED_BY_PEER', 'TRUNCATED', 'SOCKET_ERROR', 'IDLE_TIMEOUT']);

export interface ReplicaServiceStats {
  readonly view: number;
  /** Records read back from the log at start. */
  readonly recovered: number;
  /** Records appended since start, and the log's length now (it is compacted after stable checkpoints). */
  readonly persisted: number;
  readonly logRecords: number;
  readonly compactions: number;
}

/** The log is rewritten once it holds this many times the records a compacted one would (and at least MIN). */
const COMPACT_FACTOR = 4;
const COMPACT_MIN_RECORDS = 256;

/** Peer id (hex) → the numbers that node holds in the roster. */
function peerIndex(roster: KeyRoster, name: string): Map<string, Set<number>> {
  if (!(roster instanceof Map)) throw new ConsensusError('BAD_ARGUMENT', `${name} must be a Map of number -> public key`);
  const out = new Map<string, Set<number>>();
  for (const [m, key] of roster) {
    if (!Number.isSafeInteger(m) || m < 0) throw new ConsensusError('BAD_ARGUMENT', `${name}: ${String(m)} is not a number`);
    const peer = toHex(peerIdOf(key));
    let set = out.get(peer);
    if (set === undefined) out.set(peer, (set = new Set()));
    set.add(m);
  }
  return out;
}

export class ReplicaService {
  readonly #o: ReplicaServiceOptions;
  readonly #core: Replica;
  #log: AppendLog;
  readonly #key: ConsensusKey;
  readonly #clock: Clock;
  readonly #replicaOf = new Map<string, number>();
  readonly #clientsOf: Map<string, Set<number>>;
  readonly #peerOfReplica = new Map<number, Uint8Array>();
  readonly #peerOfClient = new Map<number, Uint8Array>();
  readonly #recovered: number;
  readonly #replies: Uint8Array;
  // An unreachable peer is, to the protocol, a lost message: retransmission and status repair it.
  readonly #outbox = new Outbox((peer, sessionId, frames) => {
    if (!this.#stopped) this.#o.messenger.send(peer, consensusFrame, { sessionId, frames }).catch(() => {});
  });
  #unroute: () => void = () => {};
  #unwatch: () => void = () => {};
  #timer: Timer | undefined;
  #armedAt = Number.NaN;
  /** Everything handed to the shell so far, in order; actions wait on it while steps are pending. */
  #chain: Promise<void> = Promise.resolve();
  #pending = 0;
  /** A compaction is queued or running: appends go through the chain (the log is being replaced). */
  #compacting = false;
  #persisted = 0;
  #compactions = 0;
  #stopped = false;
  #failed: Error | undefined;

  private constructor(o: ReplicaServiceOptions, log: AppendLog, records: readonly PersistRecord[], key: ConsensusKey) {
    this.#o = o;
    this.#log = log;
    this.#key = key;
    this.#clock = o.clock ?? systemClock;
    for (const [peer, numbers] of peerIndex(o.replicas, 'replicas')) {
      if (numbers.size !== 1) throw new ConsensusError('BAD_ARGUMENT', 'ReplicaService: one node holds one replica number');
      this.#replicaOf.set(peer, numbers.values().next().value as number);
    }
    this.#clientsOf = peerIndex(o.clients, 'clients');
    for (const [m, k] of o.replicas) this.#peerOfReplica.set(m, peerIdOf(k));
    for (const [m, k] of o.clients) this.#peerOfClient.set(m, peerIdOf(k));
    this.#recovered = records.length;
    this.#replies = replyRoute(o.groupId);
    this.#core = new Replica({
      ...o.tuning,
      id: o.self,
      n: o.replicas.size,
      signer: key,
      verifier: { verify: certifiedVerifier(o.groupId, 'replica', o.replicas) },
      clientVerifier: { verify: certifiedVerifier(o.groupId, 'client', o.clients) },
      stateMachine: o.stateMachine,
      now: this.#clock.now(),
      ...(records.length > 0 ? { recovered: records } : {}),
    });
  }

  /** Opens (or creates) the log, rebuilds the replica from what it persisted, and starts serving. */
  static async start(o: ReplicaServiceOptions): Promise<ReplicaService> {
    if (typeof o !== 'object' || o === null) throw new ConsensusError('BAD_ARGUMENT', 'ReplicaService: options must be an object');
    if (typeof o.messenger?.handle !== 'function') throw new ConsensusError('BAD_ARGUMENT', 'ReplicaService: a Messenger is required');
    if (!(o.groupId instanceof Uint8Array) || o.groupId.length < 16 || o.groupId.length > 64) throw new ConsensusError('BAD_ARGUMENT', 'ReplicaService: groupId must be 16 to 64 bytes');
    if (!(o.secretKey instanceof Uint8Array)) throw new ConsensusError('BAD_ARGUMENT', 'ReplicaService: secretKey must be a Uint8Array');
    if (!(o.replicas instanceof Map) || !o.replicas.has(o.self)) throw new ConsensusError('BAD_ARGUMENT', 'ReplicaService: the replicas must be a Map that includes self');
    for (let m = 0; m < o.replicas.size; m++) if (!o.replicas.has(m)) throw new ConsensusError('BAD_ARGUMENT', `ReplicaService: replicas must be numbered 0..${o.replicas.size - 1}`);
    const key = ConsensusKey.derive(o.secretKey, o.groupId, 'replica', o.self);
    const { log } = await AppendLog.open(o.logPath);
    const records: PersistRecord[] = [];
    try {
      for await (const bytes of log.records()) records.push(decodePersistRecord(bytes));
      const service = new ReplicaService(o, log, records, key);
      service.#unroute = routeSession(o.messenger, consensusFrame, o.groupId, (msg) => service.#incoming(toHex(msg.peerId), msg.body.frames));
      if (o.suspectOnClose !== false) service.#unwatch = o.messenger.manager.onClose((e) => service.#closed(e.peer, e.info.reason));
      service.#run(service.#core.tick(service.#clock.now()));
      return service;
    } catch (err) {
      key.destroy();
      await log.close().catch(() => {});
      throw err;
    }
  }

  get stats(): ReplicaServiceStats {
    return { view: this.#core.currentView, recovered: this.#recovered, persisted: this.#persisted, logRecords: this.#log.count, compactions: this.#compactions };
  }

  /** The core, for its figures (stats, view, primary); never drive it from outside. */
  get replica(): Replica {
    return this.#core;
  }

  #incoming(peer: string, frames: readonly Uint8Array[]): void {
    if (this.#stopped || this.#failed) return;
    // Requests for the client numbers a node holds need no signature check; a node may be a replica too.
    const replica = this.#replicaOf.get(peer);
    const clients = this.#clientsOf.get(peer);
    if (replica === undefined && clients === undefined) return;
    const now = this.#clock.now();
    for (const frame of frames) this.#apply(this.#core.receive(replica ?? -1, frame, now, clients));
    this.#arm();
  }

  #closed(peer: string, reason: string): void {
    if (this.#stopped || this.#failed || !FAILURES.has(reason)) return;
    const primary = this.#core.currentView % this.#o.replicas.size;
    if (this.#replicaOf.get(peer) === primary) this.#run(this.#core.suspectPrimary(this.#clock.now()));
  }

  /**
   * Carries out a list in order, behind every earlier list: an append starts at once (so the
   * appends of consecutive lists share a group commit) and whatever follows it waits until it
   * is durable. Nothing waits while nothing is pending.
   */
  #run(actions: readonly ReplicaAction[]): void {
    this.#apply(actions);
    this.#arm();
  }

  #apply(actions: readonly ReplicaAction[]): void {
    let stable = false;
    for (const a of actions) {
      if (a.kind === 'persist') {
        stable ||= a.record.type === 'stable';
        const bytes = encodePersistRecord(a.record);
        if (this.#compacting) this.#then(() => this.#append(this.#log.append(bytes)));
        else {
          const appended = this.#log.append(bytes);
          appended.catch(() => {}); // reported when its step runs
          this.#then(() => this.#append(appended));
        }
      } else if (this.#pending === 0) this.#carryOut(a);
      else this.#then(() => this.#carryOut(a));
    }
    if (stable && !this.#stopped) {
      this.#compacting = true;
      this.#then(async () => {
        await this.#compactIfLarge();
        this.#compacting = false;
      });
    }
  }

  /** Queues a step behind everything before it. */
  #then(step: () => void | Promise<void>): void {
    this.#pending++;
    this.#chain = this.#chain
      .then(() => (this.#failed ? undefined : step()))
      .catch((err: unknown) => this.#fail(err as Error))
      .finally(() => {
        this.#pending--;
      });
  }

  async #append(appended: Promise<number>): Promise<void> {
    await appended;
    this.#persisted++;
  }

  #carryOut(a: ReplicaAction): void {
    if (this.#failed) return;
    switch (a.kind) {
      case 'send':
        this.#send(this.#peerOfReplica.get(a.to), a.bytes);
        break;
      case 'broadcast':
        for (const [m, peer] of this.#peerOfReplica) if (m !== this.#o.self) this.#send(peer, a.bytes);
        break;
      case 'reply':
        this.#send(this.#peerOfClient.get(a.client), a.bytes, this.#replies);
        break;
      case 'event':
        this.#o.onEvent?.(a.event);
        break;
      case 'persist':
        break; // handled by #run
    }
  }

  /**
   * Between two action lists, after a stable checkpoint: the records the replica still needs go to a new file,
   * made durable, then renamed over the log (atomic), so a crash leaves either log whole.
   */
  async #compactIfLarge(): Promise<void> {
    const keep = this.#core.compactRecords();
    if (this.#log.count < Math.max(this.#o.compactAfterRecords ?? COMPACT_MIN_RECORDS, COMPACT_FACTOR * keep.length)) return;
    const path = this.#o.logPath;
    const next = `${path}.compact`;
    try {
      await rm(next, { force: true });
      const { log: fresh } = await AppendLog.open(next);
      try {
        for (const r of keep) await fresh.append(encodePersistRecord(r));
      } finally {
        await fresh.close();
      }
      await this.#log.close();
      await rename(next, path);
      await fsyncDir(dirname(path));
      this.#log = (await AppendLog.open(path)).log;
      this.#compactions++;
    } catch (err) {
      this.#fail(err as Error);
    }
  }

  #send(peer: Uint8Array | undefined, frame: Uint8Array, sessionId: Uint8Array = this.#o.groupId): void {
    if (peer === undefined || this.#stopped) return;
    this.#outbox.push(peer, sessionId, frame);
  }

  #arm(): void {
    if (this.#stopped || this.#failed) {
      this.#timer?.cancel();
      return;
    }
    const at = this.#core.nextDeadline();
    if (this.#timer !== undefined && at === this.#armedAt) return; // most messages leave the deadline where it was
    this.#timer?.cancel();
    this.#armedAt = at;
    this.#timer = this.#clock.setTimer(Math.max(0, at - this.#clock.now()), () => {
      this.#timer = undefined;
      this.#run(this.#core.tick(this.#clock.now()));
    });
  }

  #fail(err: Error): void {
    if (this.#failed) return;
    this.#failed = err;
    this.#timer?.cancel();
    this.#o.onFailure?.(err);
  }

  /** Stops serving: no timer, no route, the pending writes finished, the log closed, the signing key dropped. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#outbox.clear();
    this.#timer?.cancel();
    this.#unroute();
    this.#unwatch();
    await this.#chain.catch(() => {});
    await this.#log.close().catch(() => {});
    this.#key.destroy();
  }
}
