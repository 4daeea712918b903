/**
 * A PBFT client over the secure channels: the thin shell around Client.
 * Operations are submitted one after another (the core keeps one outstanding
 * request); each resolves with the result f+1 replicas agreed on. Timestamps
 * start at the clock's microseconds, so a restarted client is above the last
 * one it used and its requests are not taken for replays.
 */
import { systemClock, type Clock, type Timer } from '../clock/index.js';
import { peerIdOf, sign, toHex, verify } from '../identity/index.js';
import { routeSession, type Messenger } from '../transport/index.js';
import { Client, type ClientAction } from './client.js';
import { ConsensusError } from './errors.js';
import type { KeyRoster } from './replica-service.js';
import { consensusFrame, replyRoute } from './service-messages.js';

export interface ClientServiceOptions {
  readonly messenger: Messenger;
  readonly groupId: Uint8Array;
  /** Replica number → identity public key, 0..n−1. */
  readonly replicas: KeyRoster;
  /** Our client number, as the replicas' client roster names us. */
  readonly self: number;
  /** Our identity secret key: signs our requests. Copied; the copy is wiped at close. */
  readonly secretKey: Uint8Array;
  readonly clock?: Clock;
  /** ms before the outstanding request goes to every replica (default 500). */
  readonly retransmitTimeoutMs?: number;
}

export interface Committed {
  readonly result: Uint8Array;
  readonly timestamp: number;
  /** The replicas whose matching replies made the result. */
  readonly replicas: readonly number[];
}

interface Waiting {
  readonly op: Uint8Array;
  readonly resolve: (c: Committed) => void;
  readonly reject: (err: Error) => void;
}

export class ClientService {
  readonly #o: ClientServiceOptions;
  readonly #core: Client;
  readonly #clock: Clock;
  readonly #secretKey: Uint8Array;
  readonly #peerOf = new Map<number, Uint8Array>();
  readonly #replicaOf = new Map<string, number>();
  readonly #queue: Waiting[] = [];
  readonly #unroute: () => void;
  #current: Waiting | undefined;
  #timer: Timer | undefined;
  #closed = false;

  constructor(o: ClientServiceOptions) {
    if (typeof o !== 'object' || o === null) throw new ConsensusError('BAD_ARGUMENT', 'ClientService: options must be an object');
    if (typeof o.messenger?.handle !== 'function') throw new ConsensusError('BAD_ARGUMENT', 'ClientService: a Messenger is required');
    if (!(o.replicas instanceof Map)) throw new ConsensusError('BAD_ARGUMENT', 'ClientService: replicas must be a Map of number -> public key');
    if (!(o.secretKey instanceof Uint8Array)) throw new ConsensusError('BAD_ARGUMENT', 'ClientService: secretKey must be a Uint8Array');
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    for (const [m, key] of o.replicas) {
      const peer = peerIdOf(key);
      this.#peerOf.set(m, peer);
      this.#replicaOf.set(toHex(peer), m);
    }
    this.#secretKey = Uint8Array.from(o.secretKey);
    this.#core = new Client({
      id: o.self,
      n: o.replicas.size,
      verifier: { verify: (r, bytes, sig) => { const key = o.replicas.get(r); return key !== undefined && verify(key, bytes, sig); } },
      signer: { sign: (bytes) => sign(this.#secretKey, bytes) },
      firstTimestamp: Math.floor(this.#clock.now() * 1000),
      ...(o.retransmitTimeoutMs !== undefined ? { retransmitTimeout: o.retransmitTimeoutMs } : {}),
    });
    // Replies come under the group's reply route; our requests go out under the group's id.
    this.#unroute = routeSession(o.messenger, consensusFrame, replyRoute(o.groupId), (msg) => {
      const from = this.#replicaOf.get(toHex(msg.peerId));
      if (from !== undefined && !this.#closed) this.#run(this.#core.receive(from, msg.body.frame, this.#clock.now()));
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

  #next(): void {
    if (this.#current !== undefined || this.#closed) return;
    const w = this.#queue.shift();
    if (w === undefined) return;
    this.#current = w;
    try {
      this.#run(this.#core.request(w.op, this.#clock.now()));
    } catch (err) {
      this.#current = undefined;
      w.reject(err as Error);
      this.#next();
    }
  }

  #run(actions: readonly ClientAction[]): void {
    for (const a of actions) {
      if (a.kind === 'send') this.#send(this.#peerOf.get(a.to), a.bytes);
      else if (a.kind === 'broadcast') for (const peer of this.#peerOf.values()) this.#send(peer, a.bytes);
      else {
        const w = this.#current;
        this.#current = undefined;
        w?.resolve({ result: a.result, timestamp: a.timestamp, replicas: a.replicas });
        this.#next();
      }
    }
    this.#timer?.cancel();
    const at = this.#core.nextDeadline();
    if (at !== undefined && !this.#closed) this.#timer = this.#clock.setTimer(Math.max(0, at - this.#clock.now()), () => this.#run(this.#core.tick(this.#clock.now())));
  }

  #send(peer: Uint8Array | undefined, frame: Uint8Array): void {
    if (peer === undefined) return;
    this.#o.messenger.send(peer, consensusFrame, { sessionId: this.#o.groupId, frame }).catch(() => {});
  }

  /** Stops: pending submissions reject with BAD_STATE, the route is removed, the key copy wiped. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#timer?.cancel();
    this.#unroute();
    this.#secretKey.fill(0);
    const err = new ConsensusError('BAD_STATE', 'the client closed before the request committed');
    this.#current?.reject(err);
    for (const w of this.#queue.splice(0)) w.reject(err);
    this.#current = undefined;
  }
}
