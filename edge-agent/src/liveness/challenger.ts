/**
 * The challenging side: every intervalMs, one fresh nonce to every peer with
 * an open channel and to every peer already followed; answers are verified
 * under the channel's authenticated public key and fed to the tracker.
 *
 * A followed peer whose channel is gone is still challenged, and misses at
 * once: a board that drops off the network must end up offline, not frozen at
 * its last status because nobody asks it any more.
 */
import { randomBytes } from 'node:crypto';
import type { Clock, Timer } from '../clock/index.js';
import { toHex } from '../identity/index.js';
import type { Channel, ConnectionManager, LogSink, Messenger } from '../transport/index.js';
import { LivenessTracker, NONCE_LENGTH, type PeerStats, type StatusChange } from './core.js';
import { LivenessError } from './errors.js';
import { livenessChallenge } from './messages.js';
import { verifyAnswer } from './proof.js';
import { clockOf, integerOption, requireBytes, requireFunction } from './validate.js';

export interface ChallengerOptions {
  /** Sends the challenges; must run on `manager`, with the liveness messages in its registry. */
  readonly messenger: Messenger;
  /** Where the open channels (and their authenticated keys) come from. */
  readonly manager: ConnectionManager;
  /** systemClock when omitted. */
  readonly clock?: Clock;
  /** Time between rounds (default 10 s); at least deadlineMs. */
  readonly intervalMs?: number;
  /** Time a peer has to answer (default 5 s). */
  readonly deadlineMs?: number;
  /** K: consecutive misses that make a peer offline (default 3). */
  readonly missesOffline?: number;
  /** Peers followed at once (default 4096). */
  readonly maxPeers?: number;
  /** Our peer id; defaults to the manager's (and must equal it). */
  readonly ourPeerId?: Uint8Array;
  /** Called with every status change (where a shell publishes them). */
  readonly onChange?: (change: StatusChange) => void;
  /** Source of nonces (node:crypto randomBytes by default). */
  readonly random?: (size: number) => Uint8Array;
  readonly logger?: LogSink;
}

const silent: LogSink = { info: () => {}, warn: () => {} };

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class LivenessChallenger {
  readonly #messenger: Messenger;
  readonly #manager: ConnectionManager;
  readonly #clock: Clock;
  readonly #tracker: LivenessTracker;
  readonly #intervalMs: number;
  readonly #ourId: Uint8Array;
  readonly #onChange: ((change: StatusChange) => void) | undefined;
  readonly #random: (size: number) => Uint8Array;
  readonly #log: LogSink;
  #state: 'idle' | 'running' | 'stopped' = 'idle';
  #timer: Timer | undefined;

  constructor(options: ChallengerOptions) {
    if (typeof options !== 'object' || options === null) throw new LivenessError('BAD_ARGUMENT', 'The challenger options must be an object.');
    const { messenger, manager } = options;
    if (typeof messenger !== 'object' || messenger === null || typeof messenger.request !== 'function') {
      throw new LivenessError('BAD_ARGUMENT', 'The challenger needs a Messenger.');
    }
    if (typeof manager !== 'object' || manager === null || typeof manager.channels !== 'function') {
      throw new LivenessError('BAD_ARGUMENT', 'The challenger needs a ConnectionManager.');
    }
    this.#messenger = messenger;
    this.#manager = manager;
    this.#clock = clockOf(options.clock);
    this.#tracker = new LivenessTracker({ deadlineMs: options.deadlineMs, missesOffline: options.missesOffline, maxPeers: options.maxPeers });
    this.#intervalMs = integerOption(options.intervalMs, 10_000, 'intervalMs', 1, 86_400_000);
    // A round must not replace a challenge that is still within its deadline.
    if (this.#intervalMs < this.#tracker.deadlineMs) {
      throw new LivenessError('BAD_ARGUMENT', `intervalMs (${this.#intervalMs}) must be at least deadlineMs (${this.#tracker.deadlineMs}).`);
    }
    const ours = manager.peerId;
    if (options.ourPeerId !== undefined && Buffer.compare(requireBytes(options.ourPeerId, 32, 'ourPeerId'), ours) !== 0) {
      throw new LivenessError('BAD_ARGUMENT', "ourPeerId is not the manager's peer id.");
    }
    this.#ourId = Uint8Array.from(ours);
    this.#onChange = options.onChange === undefined ? undefined : requireFunction(options.onChange, 'onChange');
    this.#random = options.random === undefined ? randomBytes : requireFunction(options.random, 'random');
    const log = options.logger ?? silent;
    if (typeof log !== 'object' || log === null || typeof log.info !== 'function' || typeof log.warn !== 'function') {
      throw new LivenessError('BAD_ARGUMENT', 'The logger needs info(obj, msg) and warn(obj, msg).');
    }
    this.#log = log;
  }

  get intervalMs(): number {
    return this.#intervalMs;
  }

  get deadlineMs(): number {
    return this.#tracker.deadlineMs;
  }

  get missesOffline(): number {
    return this.#tracker.missesOffline;
  }

  /** Runs the first round now, then one every intervalMs. A failure of the first round is thrown. */
  start(): void {
    if (this.#state === 'stopped') throw new LivenessError('CLOSED', 'The liveness challenger was stopped.');
    if (this.#state === 'running') return;
    this.#state = 'running';
    try {
      this.#round();
    } catch (err) {
      this.stop();
      throw err;
    }
    this.#schedule();
  }

  /** Stops for good: no more rounds, and answers still on their way are ignored. */
  stop(): void {
    this.#state = 'stopped';
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** Every followed peer's stats, keyed by hex peer id. */
  stats(): Record<string, PeerStats> {
    return this.#tracker.snapshot();
  }

  /** Stops following `peer` (hex peer id), e.g. once it left the fleet. */
  forget(peer: string): boolean {
    return this.#tracker.forget(peer);
  }

  #schedule(): void {
    this.#timer = this.#clock.setTimer(this.#intervalMs, () => {
      this.#timer = undefined;
      if (this.#state !== 'running') return;
      try {
        this.#round();
      } catch (err) {
        this.#log.warn({ event: 'liveness.round_failed', err: messageOf(err) }, 'liveness: a challenge round failed');
      }
      this.#schedule();
    });
  }

  #round(): void {
    const now = this.#clock.now();
    this.#publish(this.#tracker.expire(now));
    // Peers with a channel first, so that room for a newcomer comes from peers without one.
    const targets = new Map<string, Channel | undefined>();
    for (const channel of this.#manager.channels()) targets.set(toHex(channel.remotePeerId), channel);
    for (const peer of this.#tracker.peers()) if (!targets.has(peer)) targets.set(peer, undefined);
    let skipped = 0;
    for (const [peer, channel] of targets) {
      if (!this.#tracker.has(peer) && this.#tracker.size >= this.#tracker.maxPeers && !this.#evict(targets)) {
        skipped += 1;
        continue;
      }
      this.#challenge(peer, channel, now);
    }
    if (skipped > 0) {
      this.#log.warn({ event: 'liveness.full', skipped, maxPeers: this.#tracker.maxPeers }, 'liveness: too many peers to follow; some were not challenged');
    }
  }

  #challenge(peer: string, channel: Channel | undefined, now: number): void {
    const nonce = this.#nonce();
    this.#publish(this.#tracker.issue(peer, nonce, now));
    if (channel === undefined) {
      this.#publish(this.#tracker.fail(peer, nonce, now).changes);
      return;
    }
    // The key and id of the channel the request goes out on: the reply can only come back on it.
    const remoteKey = channel.remotePublicKey;
    const remoteId = channel.remotePeerId;
    this.#messenger.request(remoteId, livenessChallenge, { nonce }, { timeoutMs: this.#tracker.deadlineMs }).then(
      ({ signature }) => this.#settle(peer, nonce, verifyAnswer(remoteKey, this.#ourId, remoteId, nonce, signature)),
      (err: unknown) => {
        // Timeouts, closed channels and error replies are what misses are made of; anything else is a set-up fault.
        const code = (err as { code?: unknown } | null)?.code;
        if (code !== 'TIMEOUT' && code !== 'CLOSED' && code !== 'NO_CHANNEL' && code !== 'REMOTE_ERROR') {
          this.#log.warn({ event: 'liveness.request_failed', peer: peer.slice(0, 8), err: messageOf(err) }, 'liveness: a challenge could not be sent');
        }
        this.#settle(peer, nonce, undefined);
      },
    );
  }

  /** Feeds the end of a challenge to the tracker: a verdict on its signature, or undefined for a failure. */
  #settle(peer: string, nonce: Uint8Array, valid: boolean | undefined): void {
    if (this.#state !== 'running') return;
    const now = this.#clock.now();
    const result = valid === undefined ? this.#tracker.fail(peer, nonce, now) : this.#tracker.answer(peer, nonce, valid, now);
    this.#publish(result.changes);
  }

  /** Forgets one offline peer without a channel to make room; false when there is none. */
  #evict(targets: Map<string, Channel | undefined>): boolean {
    for (const peer of this.#tracker.peers()) {
      if (targets.get(peer) === undefined && this.#tracker.stats(peer)?.status === 'offline') {
        this.#tracker.forget(peer);
        // Not challenged again this round: it would only take the room back.
        targets.delete(peer);
        return true;
      }
    }
    return false;
  }

  #nonce(): Uint8Array {
    const nonce = this.#random(NONCE_LENGTH);
    if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_LENGTH) {
      throw new LivenessError('BAD_ARGUMENT', `random(${NONCE_LENGTH}) must return ${NONCE_LENGTH} bytes.`);
    }
    return Uint8Array.from(nonce);
  }

  #publish(changes: readonly StatusChange[]): void {
    for (const change of changes) {
      const entry = { event: 'liveness.status', peer: change.peer.slice(0, 8), from: change.from, to: change.to, misses: change.consecutiveMisses };
      if (change.to === 'offline') this.#log.warn(entry, `liveness: peer ${entry.peer} is offline`);
      else this.#log.info(entry, `liveness: peer ${entry.peer} is ${change.to}`);
      if (this.#onChange === undefined) continue;
      try {
        this.#onChange(change);
      } catch (err) {
        this.#log.warn({ event: 'liveness.listener_error', err: messageOf(err) }, 'liveness: the onChange listener threw');
      }
    }
  }
}
