/**
 * The thin shell around the PtpPort core: it feeds the core the transport's
 * datagrams and stamps, sends what the core asks for, keeps one timer at the
 * core's next deadline, and hands out the disciplined PTP time. The core does
 * the protocol; this file only moves bytes and time.
 */
import { PtpPort, type PortStats, type PtpAction, type PtpPortOptions, type SampleAction, type StateAction } from '../time/index.js';
import { PtpShellError } from './errors.js';
import type { PtpTransport } from './transport.js';

export interface PtpNodeOptions {
  readonly transport: PtpTransport;
  readonly port: PtpPortOptions;
  readonly onSample?: (sample: SampleAction, node: PtpNode) => void;
  readonly onState?: (state: StateAction, node: PtpNode) => void;
}

export class PtpNode {
  readonly port: PtpPort;
  readonly transport: PtpTransport;
  readonly #onSample: (s: SampleAction, node: PtpNode) => void;
  readonly #onState: (s: StateAction, node: PtpNode) => void;
  /** Transport send id -> the core's ref, for event messages whose TX stamp the core wants. */
  readonly #pendingTx = new Map<number, number>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #started = false;
  #faults = 0;

  constructor(options: PtpNodeOptions) {
    if (typeof options !== 'object' || options === null) throw new PtpShellError('BAD_ARGUMENT', 'PtpNode: options must be an object');
    if (typeof options.transport?.send !== 'function') throw new PtpShellError('BAD_ARGUMENT', 'PtpNode: a transport is required');
    this.transport = options.transport;
    this.port = new PtpPort(options.port);
    this.#onSample = options.onSample ?? (() => {});
    this.#onState = options.onState ?? (() => {});
  }

  start(): void {
    if (this.#closed) throw new PtpShellError('CLOSED', 'PtpNode: closed');
    if (this.#started) return;
    this.#started = true;
    const t = this.transport;
    t.onMessage((channel, bytes, rxNs) => this.#run(this.port.receive(bytes, channel, rxNs, t.nowNs())));
    t.onTxStamp((id, txNs) => {
      const ref = this.#pendingTx.get(id);
      if (ref === undefined) return;
      this.#pendingTx.delete(id);
      this.#run(this.port.txTimestamp(ref, txNs));
    });
    t.onError((err) => {
      this.#faults++;
      this.#run(this.port.fault(t.nowNs(), err.message));
    });
    this.#run(this.port.start(t.nowNs()));
  }

  /** PTP time now (ns): local time through the disciplined clock. */
  nowNs(): bigint {
    return this.port.ptpTimeNs(this.transport.nowNs());
  }

  /** UTC now (ns): PTP time less TAI - UTC when the timescale is PTP (a PHC, or a master that announces it). */
  utcNowNs(): bigint {
    return this.nowNs() - this.port.utcOffsetNs;
  }

  /** PTP time minus local time now (ns): the correction the servo has settled on. */
  offsetNs(): bigint {
    return this.port.clock.offsetNs(this.transport.nowNs());
  }

  stats(): PortStats & { stamps: string; faults: number } {
    return { ...this.port.stats(), stamps: this.transport.stamps, faults: this.#faults };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.transport.close();
  }

  #run(actions: readonly PtpAction[]): void {
    if (this.#closed) return;
    for (const a of actions) {
      if (a.kind === 'send') {
        const id = this.transport.send(a.channel, a.bytes);
        if (a.ref !== undefined && id >= 0) {
          this.#pendingTx.set(id, a.ref);
          // The core forgets a stamp that never came; keep this map bounded the same way.
          if (this.#pendingTx.size > 1024) this.#pendingTx.delete(this.#pendingTx.keys().next().value!);
        }
      } else if (a.kind === 'sample') {
        this.#onSample(a, this);
      } else {
        this.#onState(a, this);
      }
    }
    this.#arm();
  }

  #arm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const at = this.port.nextDeadlineNs;
    if (at === null || this.#closed) return;
    const ms = Math.max(0, Number(at - this.transport.nowNs()) / 1e6);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#run(this.port.tick(this.transport.nowNs()));
    }, Math.ceil(ms));
  }
}
