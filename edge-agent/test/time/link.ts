/**
 * A simulated link in virtual time for PtpPort cores: each node has its own
 * local clock (offset and frequency error against true time), datagrams take
 * a base latency plus seeded jitter, software stamps get their own jitter, and
 * TX stamps come back to the sender. Event-driven: the loop jumps to the next
 * delivery or the next port deadline. Not a test file (ava runs *.test.ts).
 */
import { PtpPort, type Channel, type PtpAction, type PtpPortOptions, type SampleAction, type StateAction } from '../../src/time/index.js';
import { seededRandom } from '../helpers/random.js';

export interface NodeSpec {
  readonly options: PtpPortOptions;
  /** Local clock = true time + offsetNs + true time * freqPpb / 1e9. */
  readonly offsetNs: bigint;
  readonly freqPpb: bigint;
}

export interface LinkSpec {
  readonly seed: number;
  /** One-way latency, ns. */
  readonly latencyNs: number;
  /** Standard deviation of the latency jitter, ns (same both ways). */
  readonly jitterNs: number;
  /** Standard deviation of the stamp noise, ns. */
  readonly stampNoiseNs?: number;
  /** Extra latency of general messages (negative: Follow_Up overtakes Sync). */
  readonly generalExtraNs?: number;
  /** Drop these (by predicate) instead of delivering. */
  readonly filter?: (from: number, bytes: Uint8Array, channel: Channel) => boolean;
}

interface Pending {
  at: bigint;
  seq: number;
  run: () => void;
}

export class Link {
  readonly ports: PtpPort[];
  readonly samples: SampleAction[][];
  readonly states: StateAction[][];
  readonly sentTypes: string[][];
  /** messageType nibbles in the order they reached each node. */
  readonly arrivals: number[][];
  now = 0n;
  private readonly queue: Pending[] = [];
  private seq = 0;
  private readonly rand: () => number;
  private spare: number | null = null;
  private up = true;
  /** Extra datagrams to inject before delivery of everything else (tests). */
  readonly injected: Array<{ to: number; bytes: Uint8Array; channel: Channel }> = [];

  constructor(
    readonly nodes: readonly NodeSpec[],
    readonly link: LinkSpec,
  ) {
    this.rand = seededRandom(link.seed);
    this.ports = nodes.map((n) => new PtpPort(n.options));
    this.samples = nodes.map(() => []);
    this.states = nodes.map(() => []);
    this.sentTypes = nodes.map(() => []);
    this.arrivals = nodes.map(() => []);
  }

  /** Local reading of node i at true time t. */
  local(i: number, t: bigint): bigint {
    const n = this.nodes[i]!;
    return t + n.offsetNs + (t * n.freqPpb) / 1_000_000_000n;
  }

  /** PTP time of node i at true time t (its disciplined clock). */
  ptp(i: number, t: bigint): bigint {
    return this.ports[i]!.ptpTimeNs(this.local(i, t));
  }

  /** True time at which node i's local clock first reads at least `l`. */
  trueAt(i: number, l: bigint): bigint {
    const n = this.nodes[i]!;
    let t = ((l - n.offsetNs) * 1_000_000_000n) / (1_000_000_000n + n.freqPpb);
    while (this.local(i, t) < l) t++;
    while (t > 0n && this.local(i, t - 1n) >= l) t--;
    return t;
  }

  gauss(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u = Math.max(this.rand(), 1e-12);
    const v = this.rand();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  private noise(sd: number): bigint {
    return BigInt(Math.round(this.gauss() * sd));
  }

  private readonly muted = new Set<number>();

  /** Silences node i (its datagrams are lost) or lets it speak again. */
  mute(i: number, muted: boolean): void {
    if (muted) this.muted.add(i);
    else this.muted.delete(i);
  }

  /** Cuts (or restores) the link: nothing is delivered while down. */
  setUp(up: boolean): void {
    this.up = up;
  }

  private schedule(at: bigint, run: () => void): void {
    this.queue.push({ at, seq: this.seq++, run });
  }

  private handle(i: number, actions: PtpAction[]): void {
    for (const a of actions) {
      if (a.kind === 'sample') this.samples[i]!.push(a);
      else if (a.kind === 'state') this.states[i]!.push(a);
      else {
        this.sentTypes[i]!.push(a.messageType);
        const sentAt = this.now;
        const stampNoise = this.link.stampNoiseNs ?? 0;
        if (a.ref !== undefined) {
          const ref = a.ref;
          const tx = this.local(i, sentAt) + this.noise(stampNoise);
          this.schedule(sentAt + 20_000n, () => this.handle(i, this.ports[i]!.txTimestamp(ref, tx)));
        }
        if (!this.up || this.muted.has(i)) continue;
        for (let j = 0; j < this.ports.length; j++) {
          if (j === i) continue;
          if (this.link.filter && !this.link.filter(i, a.bytes, a.channel)) continue;
          const extra = a.channel === 'general' ? this.link.generalExtraNs ?? 0 : 0;
          const lat = Math.max(1000, this.link.latencyNs + extra + this.gauss() * this.link.jitterNs);
          const arrive = sentAt + BigInt(Math.round(lat));
          const bytes = a.bytes;
          const channel = a.channel;
          this.schedule(arrive, () => {
            this.arrivals[j]!.push(bytes[0]! & 0x0f);
            const rx = channel === 'event' ? this.local(j, arrive) + this.noise(stampNoise) : null;
            this.handle(j, this.ports[j]!.receive(bytes, channel, rx, this.local(j, arrive)));
          });
        }
      }
    }
  }

  /** Delivers a datagram to node `to` now (tests of bad input). */
  inject(to: number, bytes: Uint8Array, channel: Channel, withStamp = true): PtpAction[] {
    const l = this.local(to, this.now);
    const actions = this.ports[to]!.receive(bytes, channel, withStamp ? l : null, l);
    this.handle(to, actions);
    return actions;
  }

  /** Runs until true time `until`, calling `each` after every step. */
  run(until: bigint, each?: (t: bigint) => void): void {
    for (let i = 0; i < this.ports.length; i++) this.handle(i, this.ports[i]!.start(this.local(i, this.now)));
    for (;;) {
      let nextAt: bigint | null = null;
      let nextPort = -1;
      for (let i = 0; i < this.ports.length; i++) {
        const d = this.ports[i]!.nextDeadlineNs;
        if (d === null) continue;
        const t = this.trueAt(i, d);
        if (nextAt === null || t < nextAt) {
          nextAt = t;
          nextPort = i;
        }
      }
      let qi = -1;
      for (let k = 0; k < this.queue.length; k++) {
        const q = this.queue[k]!;
        if (qi < 0 || q.at < this.queue[qi]!.at || (q.at === this.queue[qi]!.at && q.seq < this.queue[qi]!.seq)) qi = k;
      }
      const qAt = qi >= 0 ? this.queue[qi]!.at : null;
      const useQueue = qAt !== null && (nextAt === null || qAt <= nextAt);
      const at = useQueue ? qAt : nextAt;
      if (at === null || at > until) {
        this.now = until;
        return;
      }
      this.now = at > this.now ? at : this.now;
      if (useQueue) {
        const [p] = this.queue.splice(qi, 1);
        p!.run();
      } else {
        this.handle(nextPort, this.ports[nextPort]!.tick(this.local(nextPort, this.now)));
      }
      each?.(this.now);
    }
  }
}

export const S = 1_000_000_000n;

export function identity(n: number): Uint8Array {
  return Uint8Array.from([0x00, 0x1b, 0x21, 0xff, 0xfe, 0x00, 0x00, n]);
}
