/**
 * Foreign master records (IEEE 1588-2008 §9.3.2.4-9.3.2.5): a sender becomes
 * a candidate once FOREIGN_MASTER_THRESHOLD Announces from it arrived within
 * FOREIGN_MASTER_TIME_WINDOW announce intervals; older arrivals are pruned.
 */
import type { PortIdentity } from './header.js';
import { portIdentityHex } from './header.js';
import type { AnnounceMessage } from './messages.js';

export const FOREIGN_MASTER_THRESHOLD = 2;
export const FOREIGN_MASTER_TIME_WINDOW = 4;
/** Bound on distinct senders kept, so a flood of forged identities cannot grow memory. */
export const MAX_FOREIGN_MASTERS = 16;

interface Record_ {
  readonly sender: PortIdentity;
  arrivals: bigint[];
  latest: AnnounceMessage;
}

export class ForeignMasters {
  private readonly records = new Map<string, Record_>();

  /** Records an Announce received at `nowNs`; false when the table is full of other senders. */
  add(msg: AnnounceMessage, nowNs: bigint, windowNs: bigint): boolean {
    this.prune(nowNs, windowNs);
    const key = portIdentityHex(msg.header.sourcePortIdentity);
    let r = this.records.get(key);
    if (r === undefined) {
      if (this.records.size >= MAX_FOREIGN_MASTERS) return false;
      r = { sender: msg.header.sourcePortIdentity, arrivals: [], latest: msg };
      this.records.set(key, r);
    }
    r.arrivals.push(nowNs);
    if (r.arrivals.length > FOREIGN_MASTER_THRESHOLD + 2) r.arrivals.shift();
    r.latest = msg;
    return true;
  }

  /** Drops arrivals older than the window and senders left with none. */
  prune(nowNs: bigint, windowNs: bigint): void {
    for (const [key, r] of this.records) {
      r.arrivals = r.arrivals.filter((t) => nowNs - t <= windowNs);
      if (r.arrivals.length === 0) this.records.delete(key);
    }
  }

  /** Latest Announce of every qualified sender. */
  qualified(nowNs: bigint, windowNs: bigint): AnnounceMessage[] {
    this.prune(nowNs, windowNs);
    const out: AnnounceMessage[] = [];
    for (const r of this.records.values()) if (r.arrivals.length >= FOREIGN_MASTER_THRESHOLD) out.push(r.latest);
    return out;
  }

  /** When the oldest arrival of any sender leaves the window (for the port's deadline), or null. */
  nextExpiry(windowNs: bigint): bigint | null {
    let next: bigint | null = null;
    for (const r of this.records.values()) {
      const first = r.arrivals[0];
      if (first === undefined) continue;
      const at = first + windowNs + 1n;
      if (next === null || at < next) next = at;
    }
    return next;
  }

  clear(): void {
    this.records.clear();
  }

  get size(): number {
    return this.records.size;
  }
}
