/**
 * PBFT clients over the secure channels: the thin shell around Client cores.
 * One service speaks for `concurrency` client numbers (self, self+1, …) under
 * this node's identity, so that many operations may be outstanding at once
 * while each client keeps the one-request-at-a-time rule the replicas'
 * de-duplication relies on. Each operation resolves with the result f+1
 * replicas agreed on. Requests are signed with the group's Ed25519 key of
 * their client number (signing-keys.ts); timestamps start at the clock's
 * microseconds, so a restarted client is above the last one it used.
 */
import { systemClock, type Clock, type Timer } from '../clock/index.js';
import { peerIdOf, toHex } from '../identity/index.js';
import { routeSession, type Messenger } from '../transport/index.js';
import { Client, type ClientAction } from './client.js';
import { ConsensusError } from './errors.js';
import { decodeFrame } from './messages.js';
import type { KeyRoster } from './replica-service.js';
import { Outbox, consensusFrame, replyRoute } from './service-messages.js';
import { ConsensusKey } from './signing-keys.js';

export interface ClientServiceOptions {
  readonly messenger: Messenger;
  readonly groupId: Uint8Array;
  /** Replica number → identity public key, 0..n−1. */
  readonly replicas: KeyRoster;
  /** Our first client number, as the replicas' client roster names us. */
  readonly self: number;
  /** How many client numbers (self, self+1, …) this service speaks for: operations outstanding at once (default 1). */
  readonly concurrency?: number;
  /** Our identity secret key: derives our signing keys; only read while constructing. */
  readonly secretKey: Uint8Array;
  readonly clock?: Clock;
  /** ms before an outstanding request goes to every replica again (default 500). */
  readonly retransmitTimeoutMs?: number;
}

export interface Committed {
  readonly result: Uint8Array;
  readonly timestamp: number;
  /** The client number that carried the operation. */
  readonly client: number;
  /** The replicas whose matching replies made the result. */
  readonly replicas: readonly number[];
}

interface Waiting {
  readonly op: Uint8Array;
  readonly resolve: (c: Committed) => void;
  readonly reject: (err: Error) => void;
}

interface Lane {
  readonly core: Client;
  readonly key: ConsensusKey;
  current: Waiting | undefined;
  timer: Timer | undefined;
  /** The deadline `timer` is set for. */
  timerAt: number | undefined;
}

export class ClientService {
  readonly #o: ClientServiceOptions;
  readonly #clock: Clock;
  readonly #lanes = new Map<number, Lane>();
  /** Client numbers with nothing outstanding. */
  readonly #free: number[] = [];
  readonly #peerOf = new Map<number, Uint8Array>();
  readonly #replicaOf = new Map<string, number>();
  readonly #queue: Waiting[] = [];
  readonly #unroute: () => void;
  readonly #outbox = new Outbox((peer, sessionId, frames) => {
    if (!this.#closed) this.#o.messenger.send(peer, consensusFrame, { sessionId, frames }).catch(() => {});
  });
  #closed = false;

  constructor(o: ClientServiceOptions) {
    if (typeof o !== 'object' || o === null) throw new ConsensusError('BAD_ARGUMENT', 'ClientService: options must be an object');
    if (typeof o.messenger?.handle !== 'function') throw new ConsensusError('BAD_ARGUMENT', 'ClientService: a Messenger is required');
    if (!(o.replicas instanceof Map)) throw new ConsensusError('BAD_ARGUMENT', 'ClientService: replicas must be a Map of number -> public key');
    if (!(o.secretKey instanceof Uint8Array)) throw new ConsensusError('BAD_ARGUMENT', 'ClientService: secretKey must be a Uint8Array');
    const concurrency = o.concurrency ?? 1;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > 4096) throw new ConsensusError('BAD_ARGUMENT', 'ClientService: concurrency must be an integer from 1 to 4096');
    if (!Number.isSafeInteger(o.self) || o.self < 0 || o.self + concurrency - 1 > 0xffffffff) throw new ConsensusError('BAD_ARGUMENT', 'ClientService: self must be a u32 (and so must self + concurrency - 1)');
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    for (const [m, key] of o.replicas) {
      const peer = peerIdOf(key);
      this.#peerOf.set(m, peer);
      this.#replicaOf.set(toHex(peer), m);
    }
    const first = Math.floor(this.#clock.now() * 1000);
    for (let id = o.self; id < o.self + concurrency; id++) {
      const key = ConsensusKey.derive(o.secretKey, o.groupId, 'client', id);
      const core = new Client({
        id,
        n: o.replicas.size,
        signer: key,
        firstTimestamp: first,
        ...(o.retransmitTimeoutMs !== undefined ? { retransmitTimeout: o.retransmitTimeoutMs } : {}),
      });
      this.#lanes.set(id, { core, key, current: undefined, timer: undefined, timerAt: undefined });
      this.#free.push(id);
    }
    // Replies come under the group's reply route, to the client number they name; our requests go out under the group's id.
    this.#unroute = routeSession(o.messenger, consensusFrame, replyRoute(o.groupId), (msg) => {
      const from = this.#replicaOf.get(toHex(msg.peerId));
      if (from === undefined || this.#closed) return;
      for (const frame of msg.body.frames) {
        const f = decodeFrame(frame);
        if (typeof f === 'string' || f.body.k !== 'reply') continue;
        const lane = this.#lanes.get(f.body.client);
        if (lane !== undefined) this.#run(lane, lane.core.receive(from, frame, this.#clock.now()));
      }
    });
  }

  /** Orders `op` through the group; resolves with the committed result. */
  submit(op: Uint8Array): Promise<Committed> {
    if (this.#closed) return Promise.reject(new ConsensusError('BAD_STATE', 'the client is closed'));
    if (!(op instanceof Uint8Array)) return Promise.reject(new ConsensusError('BAD_ARGUMENT', 'submit: op must be a Uint8Array'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ op, resolve, reject });
      this.#next();
    });
  }

  /** Operations waiting for a free client number, and those outstanding. */
  get load(): { readonly queued: number; readonly outstanding: number } {
    return { queued: this.#queue.length, outstanding: this.#lanes.size - this.#free.length };
  }

  #next(): void {
    while (!this.#closed && this.#queue.length > 0 && this.#free.length > 0) {
      const lane = this.#lanes.get(this.#free.pop()!)!;
      const w = this.#queue.shift()!;
      lane.current = w;
      try {
        this.#run(lane, lane.core.request(w.op, this.#clock.now()));
      } catch (err) {
        lane.current = undefined;
        this.#free.push(lane.core.id);
        w.reject(err as Error);
      }
    }
  }

  #run(lane: Lane, actions: readonly ClientAction[]): void {
    let freed = false;
    for (const a of actions) {
      if (a.kind === 'send') this.#send(this.#peerOf.get(a.to), a.bytes);
      else if (a.kind === 'broadcast') for (const peer of this.#peerOf.values()) this.#send(peer, a.bytes);
      else {
        const w = lane.current;
        lane.current = undefined;
        freed = true;
        this.#free.push(lane.core.id);
        w?.resolve({ result: a.result, timestamp: a.timestamp, client: lane.core.id, replicas: a.replicas });
      }
    }
    // Most replies leave the deadline where it was: re-arm only when it moved.
    const at = this.#closed ? undefined : lane.core.nextDeadline();
    if (at !== lane.timerAt) {
      lane.timer?.cancel();
      lane.timer = undefined;
      lane.timerAt = at;
      if (at !== undefined)
        lane.timer = this.#clock.setTimer(Math.max(0, at - this.#clock.now()), () => {
          lane.timer = undefined;
          lane.timerAt = undefined;
          this.#run(lane, lane.core.tick(this.#clock.now()));
        });
    }
    if (freed) this.#next();
  }

  #send(peer: Uint8Array | undefined, frame: Uint8Array): void {
    if (peer === undefined || this.#closed) return;
    this.#outbox.push(peer, this.#o.groupId, frame);
  }

  /** Stops: pending submissions reject with BAD_STATE, the route is removed, the signing keys dropped. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#outbox.clear();
    this.#unroute();
    const err = new ConsensusError('BAD_STATE', 'the client closed before the request committed');
    for (const lane of this.#lanes.values()) {
      lane.timer?.cancel();
      lane.key.destroy();
      lane.current?.reject(err);
      lane.current = undefined;
    }
    for (const w of this.#queue.splice(0)) w.reject(err);
  }
}
