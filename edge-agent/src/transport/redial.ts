/**
 * Keeps the bootstrap peers connected: dials each one that has no channel,
 * and after a failure or a close waits a jittered, growing delay before the
 * next try. The manager owns the channels; this only decides when to dial.
 */
import type { Clock, Timer } from '../clock/index.js';
import type { PeerAddress } from '../config/index.js';
import { Backoff, type BackoffOptions } from './backoff.js';

export interface RedialHost {
  readonly clock: Clock;
  readonly backoff: BackoffOptions;
  /** True when an open channel to the peer (hex peer id) exists or a dial is under way. */
  busy(peer: string): boolean;
  /** Dials; resolves true once a channel is open, false when the attempt failed. */
  dial(address: PeerAddress): Promise<boolean>;
}

interface Target {
  readonly address: PeerAddress;
  readonly backoff: Backoff;
  timer: Timer | undefined;
  openedAt: number | undefined;
}

export class Redialer {
  readonly #host: RedialHost;
  readonly #targets = new Map<string, Target>();
  #stopped = false;

  constructor(host: RedialHost) {
    this.#host = host;
  }

  /** Starts keeping `address` connected; a peer already kept is left as it is. */
  add(peer: string, address: PeerAddress): void {
    if (this.#stopped || this.#targets.has(peer)) return;
    this.#targets.set(peer, { address, backoff: new Backoff(this.#host.backoff), timer: undefined, openedAt: undefined });
    this.#attempt(peer);
  }

  /** A channel to `peer` opened (by either side). */
  opened(peer: string): void {
    const target = this.#targets.get(peer);
    if (target !== undefined) target.openedAt ??= this.#host.clock.now();
  }

  /**
   * A channel to `peer` closed or a dial to it failed, whoever started it.
   * The backoff starts over only if a channel had lasted a full maximum delay,
   * so a peer that accepts and hangs up at once is not redialled in a loop.
   */
  lost(peer: string): void {
    const target = this.#targets.get(peer);
    if (target === undefined) return;
    const { openedAt } = target;
    target.openedAt = undefined;
    if (openedAt !== undefined && this.#host.clock.now() - openedAt >= this.#host.backoff.maxMs) target.backoff.reset();
    this.#schedule(peer, target);
  }

  stop(): void {
    this.#stopped = true;
    for (const target of this.#targets.values()) target.timer?.cancel();
    this.#targets.clear();
  }

  #attempt(peer: string): void {
    const target = this.#targets.get(peer);
    if (this.#stopped || target === undefined) return;
    target.timer = undefined;
    if (this.#host.busy(peer)) return;
    this.#host.dial(target.address).then(
      (open) => {
        if (!open) this.#schedule(peer, target);
      },
      () => this.#schedule(peer, target),
    );
  }

  #schedule(peer: string, target: Target): void {
    if (this.#stopped || target.timer !== undefined || this.#host.busy(peer)) return;
    target.timer = this.#host.clock.setTimer(target.backoff.next(), () => this.#attempt(peer));
  }
}
