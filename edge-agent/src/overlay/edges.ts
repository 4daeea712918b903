/**
 * Which overlay links exist, as agreed by both ends. A link dialled by A to B
 * is the directed edge A→B; it is confirmed once A's 'out' report and B's 'in'
 * report are both 'connect' and their signed timestamps lie within
 * confirmTimeoutMs of each other. One end alone (a half edge) never counts,
 * so no peer can invent links to others; a half edge whose partner does not
 * show up within the timeout can no longer confirm and is collected later.
 *
 * Each (reporter, neighbour, direction) keeps only its newest report: older or
 * equal timestamps are stale; an equal timestamp with the opposite kind is
 * equivocation (INCONSISTENT). Timestamps also drive collection: a confirmed
 * edge whose older end has not been refreshed for edgeTtlMs is removed, so
 * agents must re-announce their live links periodically (well within edgeTtlMs).
 * Records are forgotten once their newest report is older than retainMs, which
 * the core sets to its maxAgeMs: a replay of anything forgotten is TOO_OLD.
 *
 * Pure: time comes in as `now`; no timers. Keys are hex peer ids.
 */
import { GossipError } from './gossip-errors.js';
import type { Direction } from './gossip-event.js';

export interface EdgeReport {
  /** Hex id of the signer. */
  readonly reporter: string;
  /** Hex id of the neighbour it reports about. */
  readonly neighbour: string;
  readonly direction: Direction;
  readonly connect: boolean;
  readonly timestamp: number;
}

/** A confirmed edge appearing or going away; `from` dialled `to`. */
export interface EdgeChange {
  readonly change: 'confirmed' | 'removed';
  readonly from: string;
  readonly to: string;
}

export type ReportCheck = 'ok' | 'stale' | 'inconsistent';
export type ApplyStatus = ReportCheck | 'full';

export interface EdgeTableOptions {
  readonly confirmTimeoutMs: number;
  readonly edgeTtlMs: number;
  readonly retainMs: number;
  /** Most directed-edge records held (confirmed, half or tombstones). */
  readonly maxRecords: number;
}

interface Slot {
  ts: number;
  connect: boolean;
}

interface EdgeRecord {
  readonly from: string;
  readonly to: string;
  out: Slot | undefined;
  in: Slot | undefined;
  confirmed: boolean;
}

function positiveInt(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new GossipError('BAD_ARGUMENT', `EdgeTable: ${what} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function requireNow(now: unknown): number {
  if (typeof now !== 'number' || !Number.isFinite(now)) throw new GossipError('BAD_ARGUMENT', 'EdgeTable: now must be a finite number');
  return now;
}

export class EdgeTable {
  readonly #confirmTimeoutMs: number;
  readonly #edgeTtlMs: number;
  readonly #retainMs: number;
  readonly #maxRecords: number;
  readonly #records = new Map<string, EdgeRecord>();
  #confirmedCount = 0;

  constructor(opts: EdgeTableOptions) {
    if (typeof opts !== 'object' || opts === null) throw new GossipError('BAD_ARGUMENT', 'EdgeTable: options must be an object');
    this.#confirmTimeoutMs = positiveInt(opts.confirmTimeoutMs, 'confirmTimeoutMs');
    this.#edgeTtlMs = positiveInt(opts.edgeTtlMs, 'edgeTtlMs');
    this.#retainMs = positiveInt(opts.retainMs, 'retainMs');
    this.#maxRecords = positiveInt(opts.maxRecords, 'maxRecords');
  }

  /** Records held, confirmed or not. */
  get size(): number {
    return this.#records.size;
  }

  get confirmedCount(): number {
    return this.#confirmedCount;
  }

  #locate(r: EdgeReport): { key: string; from: string; to: string; slot: 'out' | 'in' } {
    if (typeof r !== 'object' || r === null || typeof r.reporter !== 'string' || typeof r.neighbour !== 'string') {
      throw new GossipError('BAD_ARGUMENT', 'EdgeTable: a report needs reporter and neighbour ids');
    }
    if (r.direction !== 'in' && r.direction !== 'out') throw new GossipError('BAD_ARGUMENT', 'EdgeTable: direction must be in or out');
    if (typeof r.timestamp !== 'number' || !Number.isFinite(r.timestamp)) throw new GossipError('BAD_ARGUMENT', 'EdgeTable: bad timestamp');
    const [from, to] = r.direction === 'out' ? [r.reporter, r.neighbour] : [r.neighbour, r.reporter];
    return { key: `${from}>${to}`, from, to, slot: r.direction };
  }

  /** What apply() would say about the report's order, without changing anything (cheap; run before verifying). */
  check(report: EdgeReport): ReportCheck {
    const { key, slot } = this.#locate(report);
    const prior = this.#records.get(key)?.[slot];
    if (prior === undefined || report.timestamp > prior.ts) return 'ok';
    if (report.timestamp === prior.ts && report.connect !== prior.connect) return 'inconsistent';
    return 'stale';
  }

  /** Records a verified report; returns the confirmed-edge changes it causes. */
  apply(report: EdgeReport, now: number): { status: ApplyStatus; changes: EdgeChange[] } {
    requireNow(now);
    const status = this.check(report);
    if (status !== 'ok') return { status, changes: [] };
    const { key, from, to, slot } = this.#locate(report);
    const changes: EdgeChange[] = [];
    let record = this.#records.get(key);
    if (record === undefined) {
      if (this.#records.size >= this.#maxRecords && !this.#makeRoom(now, changes)) return { status: 'full', changes };
      record = { from, to, out: undefined, in: undefined, confirmed: false };
      this.#records.set(key, record);
    }
    record[slot] = { ts: report.timestamp, connect: report.connect };
    const change = this.#evaluate(record, now);
    if (change !== null) changes.push(change);
    return { status: 'ok', changes };
  }

  /** Collects edges not refreshed for edgeTtlMs and forgets records older than retainMs. Call it on a tick. */
  sweep(now: number): EdgeChange[] {
    requireNow(now);
    const changes: EdgeChange[] = [];
    for (const [key, record] of this.#records) {
      const change = this.#evaluate(record, now);
      if (change !== null) changes.push(change);
      if (!record.confirmed && newest(record) < now - this.#retainMs) this.#records.delete(key);
    }
    return changes;
  }

  /** True if `from`→`to` is confirmed (as of its last evaluation; sweep() ages it). */
  isConfirmed(from: string, to: string): boolean {
    return this.#records.get(`${from}>${to}`)?.confirmed === true;
  }

  /** Confirmed edges, in no particular order. */
  confirmed(): { from: string; to: string }[] {
    const out: { from: string; to: string }[] = [];
    for (const r of this.#records.values()) if (r.confirmed) out.push({ from: r.from, to: r.to });
    return out;
  }

  /** Half edges still able to confirm: one end says connect, the other has not, and the report is under confirmTimeoutMs old. */
  pendingCount(now: number): number {
    requireNow(now);
    let n = 0;
    for (const r of this.#records.values()) {
      if (r.confirmed) continue;
      const only = r.out?.connect === true && r.in?.connect !== true ? r.out : r.in?.connect === true && r.out?.connect !== true ? r.in : undefined;
      if (only !== undefined && now - only.ts <= this.#confirmTimeoutMs) n++;
    }
    return n;
  }

  #evaluate(r: EdgeRecord, now: number): EdgeChange | null {
    const o = r.out;
    const i = r.in;
    const both = o !== undefined && i !== undefined && o.connect && i.connect;
    const fresh = both && now - Math.min(o.ts, i.ts) <= this.#edgeTtlMs;
    if (r.confirmed) {
      if (both && fresh) return null;
      r.confirmed = false;
      this.#confirmedCount--;
      return { change: 'removed', from: r.from, to: r.to };
    }
    if (fresh && Math.abs(o!.ts - i!.ts) <= this.#confirmTimeoutMs) {
      r.confirmed = true;
      this.#confirmedCount++;
      return { change: 'confirmed', from: r.from, to: r.to };
    }
    return null;
  }

  /** Sweeps, then evicts the oldest unconfirmed record; false when every record is a confirmed edge. */
  #makeRoom(now: number, changes: EdgeChange[]): boolean {
    changes.push(...this.sweep(now));
    if (this.#records.size < this.#maxRecords) return true;
    for (const [key, record] of this.#records) {
      if (!record.confirmed) {
        this.#records.delete(key);
        return true;
      }
    }
    return false;
  }
}

function newest(r: EdgeRecord): number {
  return Math.max(r.out?.ts ?? -Infinity, r.in?.ts ?? -Infinity);
}
