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
 * equivocation (INCONSISTENT). A confirmed edge stays confirmed until either
 * end reports a disconnect: only changes are flooded, so a long-lived edge's
 * reports may be days old. sweep() collects an edge whose older report is
 * older than edgeTtlMs unless the caller's `keep` vouches for it (the agent
 * keeps edges between peers it can reach: a dead peer's surviving neighbours
 * report their disconnects, so only edges cut off from us can go stale
 * unseen). Unconfirmed records are forgotten once their newest report is
 * older than retainMs (the core's maxAgeMs): a replay of anything forgotten is
 * TOO_OLD.
 *
 * Each report may carry its signed proof, so that the table can hand a new
 * neighbour everything it holds (catch-up), and a 64-bit tag (from the event
 * hash) folded into an order-free digest: two tables holding the same reports
 * have the same digest, so converged neighbours skip the catch-up.
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
  /** The signed event behind the report, kept for catch-up. */
  readonly proof?: ReportProof;
}

/** A report's signed event (frame body and signature) and its 64-bit digest tag as two 32-bit halves. */
export interface ReportProof {
  readonly body: Uint8Array;
  readonly sig: Uint8Array;
  readonly tagHi: number;
  readonly tagLo: number;
}

/** Order-free summary of the reports held: equal tables give equal digests. */
export interface TableDigest {
  readonly count: number;
  readonly xorHi: number;
  readonly xorLo: number;
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
  readonly ts: number;
  readonly connect: boolean;
  readonly proof: ReportProof | undefined;
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
  #slots = 0;
  #xorHi = 0;
  #xorLo = 0;

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

  /**
   * Summary of every report held (see TableDigest), leaving out the records
   * of the directed edges in `without`: two ends of a new link compare their
   * tables without the link's own reports, which each end has just signed.
   */
  digest(without: readonly (readonly [from: string, to: string])[] = []): TableDigest {
    let count = this.#slots;
    let hi = this.#xorHi;
    let lo = this.#xorLo;
    for (const [from, to] of without) {
      const r = this.#records.get(`${from}>${to}`);
      for (const slot of [r?.out, r?.in]) {
        if (slot === undefined) continue;
        count--;
        if (slot.proof === undefined) continue;
        hi ^= slot.proof.tagHi;
        lo ^= slot.proof.tagLo;
      }
    }
    return { count, xorHi: hi >>> 0, xorLo: lo >>> 0 };
  }

  /** The signed proofs of every report held, for a new neighbour's catch-up. */
  proofs(): ReportProof[] {
    const out: ReportProof[] = [];
    for (const r of this.#records.values()) {
      if (r.out?.proof !== undefined) out.push(r.out.proof);
      if (r.in?.proof !== undefined) out.push(r.in.proof);
    }
    return out;
  }

  /** Our own view of one link end: the newest report (reporter, neighbour, direction) holds, if any. */
  report(reporter: string, neighbour: string, direction: Direction): { timestamp: number; connect: boolean } | undefined {
    if (typeof reporter !== 'string' || typeof neighbour !== 'string') throw new GossipError('BAD_ARGUMENT', 'EdgeTable.report: ids must be hex strings');
    if (direction !== 'in' && direction !== 'out') throw new GossipError('BAD_ARGUMENT', 'EdgeTable.report: direction must be in or out');
    const { key, slot } = where(reporter, neighbour, direction);
    const held = this.#records.get(key)?.[slot];
    return held === undefined ? undefined : { timestamp: held.ts, connect: held.connect };
  }

  #locate(r: EdgeReport): { key: string; from: string; to: string; slot: 'out' | 'in' } {
    if (typeof r !== 'object' || r === null || typeof r.reporter !== 'string' || typeof r.neighbour !== 'string') {
      throw new GossipError('BAD_ARGUMENT', 'EdgeTable: a report needs reporter and neighbour ids');
    }
    if (r.direction !== 'in' && r.direction !== 'out') throw new GossipError('BAD_ARGUMENT', 'EdgeTable: direction must be in or out');
    if (typeof r.timestamp !== 'number' || !Number.isFinite(r.timestamp)) throw new GossipError('BAD_ARGUMENT', 'EdgeTable: bad timestamp');
    return where(r.reporter, r.neighbour, r.direction);
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
    this.#fold(record[slot], -1);
    record[slot] = { ts: report.timestamp, connect: report.connect, proof: report.proof };
    this.#fold(record[slot], 1);
    const change = this.#evaluate(record, now, undefined);
    if (change !== null) changes.push(change);
    return { status: 'ok', changes };
  }

  /**
   * Collects confirmed edges whose older report is over edgeTtlMs old, except
   * those `keep(from, to)` vouches for, and forgets unconfirmed records older
   * than retainMs. Call it on a tick.
   */
  sweep(now: number, keep?: (from: string, to: string) => boolean): EdgeChange[] {
    requireNow(now);
    if (keep !== undefined && typeof keep !== 'function') throw new GossipError('BAD_ARGUMENT', 'EdgeTable: keep must be a function');
    const changes: EdgeChange[] = [];
    for (const [key, record] of this.#records) {
      const change = this.#evaluate(record, now, keep ?? never);
      if (change !== null) changes.push(change);
      if (!record.confirmed && newest(record) < now - this.#retainMs) {
        this.#fold(record.out, -1);
        this.#fold(record.in, -1);
        this.#records.delete(key);
      }
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

  /**
   * Re-decides one record. `keep` undefined (a report being applied) never
   * ages an edge out; sweep passes the caller's predicate (or one that keeps
   * nothing), and then an edge older than edgeTtlMs stays only if kept.
   */
  #evaluate(r: EdgeRecord, now: number, keep: ((from: string, to: string) => boolean) | undefined): EdgeChange | null {
    const o = r.out;
    const i = r.in;
    const both = o !== undefined && i !== undefined && o.connect && i.connect;
    const fresh = both && (keep === undefined || now - Math.min(o.ts, i.ts) <= this.#edgeTtlMs || keep(r.from, r.to));
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
    // Room comes from old unconfirmed records only: a full table must not age out live edges.
    changes.push(...this.sweep(now, always));
    if (this.#records.size < this.#maxRecords) return true;
    for (const [key, record] of this.#records) {
      if (!record.confirmed) {
        this.#fold(record.out, -1);
        this.#fold(record.in, -1);
        this.#records.delete(key);
        return true;
      }
    }
    return false;
  }

  /** Adds (+1) or removes (-1) a slot from the digest; XOR is its own inverse. */
  #fold(slot: Slot | undefined, sign: 1 | -1): void {
    if (slot === undefined) return;
    this.#slots += sign;
    if (slot.proof === undefined) return;
    this.#xorHi ^= slot.proof.tagHi;
    this.#xorLo ^= slot.proof.tagLo;
  }
}

/** The record of the link one report is about (`from` dialled `to`) and which end's slot it fills. */
function where(reporter: string, neighbour: string, direction: Direction): { key: string; from: string; to: string; slot: Direction } {
  const [from, to] = direction === 'out' ? [reporter, neighbour] : [neighbour, reporter];
  return { key: `${from}>${to}`, from, to, slot: direction };
}

const never = (): boolean => false;
const always = (): boolean => true;

function newest(r: EdgeRecord): number {
  return Math.max(r.out?.ts ?? -Infinity, r.in?.ts ?? -Infinity);
}
