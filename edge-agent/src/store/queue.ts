import { randomBytes } from 'node:crypto';
import { rename, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fsyncDir } from './atomic.js';
import { LogError, ioError } from './errors.js';
import { FILE_HEADER_BYTES, MAX_RECORD_LIMIT, RECORD_HEADER_BYTES } from './format.js';
import { AppendLog } from './log.js';
import type { RecoveryReport } from './recover.js';

/*
 * A bounded, persistent FIFO of opaque records on an AppendLog (docs/queue.md).
 *
 * Queue records inside the log's records (integers little-endian, seq as u64):
 *
 *   BASE    01 | version (1) | id (16) | nextSeq | dropped droppable | dropped kept      42 bytes, record 0 of every file
 *   PUSH    02 | flags (bit 0: droppable, others 0) | seq | payload                      10 + payload bytes
 *   ACK     03 | seq      entries up to and including seq were delivered                 9 bytes
 *   DROP    04 | seq      that live entry was dropped to make room                        9 bytes
 *   REFUSE  05 | seq      a droppable push dropped on arrival (only kept entries to evict) 9 bytes
 *
 * The file replays to the live entries. Compaction writes BASE and one PUSH per live
 * entry to a fresh file and renames it over the old one.
 */

const BASE = 1;
const PUSH = 2;
const ACK = 3;
const DROP = 4;
const REFUSE = 5;
const BASE_VERSION = 1;
const ID_BYTES = 16;
const BASE_BYTES = 2 + ID_BYTES + 24;
const PUSH_HEADER_BYTES = 10;
const SEQ_RECORD_BYTES = 9;
/** The first seq a new queue hands out; 0 stays free to mean "nothing yet" for consumers. */
const FIRST_SEQ = 1;

/** Largest maxEntries accepted: every live entry is held in memory. */
export const MAX_QUEUE_ENTRIES = 16_777_216;
/** Default log growth allowed beyond twice the live data before compacting. */
export const DEFAULT_COMPACT_SLACK_BYTES = 64 * 1024;

export interface DurableQueueOptions {
  /** Most live entries; a push beyond it drops the oldest droppable entry first. */
  readonly maxEntries: number;
  /** Most live payload bytes (headers not counted); the same dropping applies. */
  readonly maxBytes: number;
  /** Largest payload push() accepts (default and upper bound: maxBytes). */
  readonly maxRecordBytes?: number;
  /** Log bytes allowed beyond twice the live data before the file is compacted (default 64 KiB). */
  readonly compactSlackBytes?: number;
}

export interface QueueEntry {
  /** Rises over the life of the queue file, across restarts. Only a push lost in a crash, never shown by peek(), leaves its seq to be handed out again. */
  readonly seq: number;
  readonly droppable: boolean;
  readonly payload: Uint8Array;
}

export interface PushResult {
  /** The seq given to this push (also when it was not stored). */
  readonly seq: number;
  /** False when a droppable push met a queue full of kept entries and was itself dropped (counted). */
  readonly stored: boolean;
  /** Older entries this push dropped to make room. */
  readonly evicted: number;
}

export interface DroppedCounts {
  /** Droppable entries dropped since the queue file was created. */
  readonly droppable: number;
  /** Kept entries dropped because nothing droppable was left. */
  readonly kept: number;
}

// ---------------------------------------------------------------------------
// Records

type QueueRecord =
  | { readonly type: 'base'; readonly id: Uint8Array; readonly nextSeq: number; readonly droppedDroppable: number; readonly droppedKept: number }
  | { readonly type: 'push'; readonly seq: number; readonly droppable: boolean; readonly payload: Uint8Array }
  | { readonly type: 'ack' | 'drop' | 'refuse'; readonly seq: number };

const SEQ_TYPES = { ack: ACK, drop: DROP, refuse: REFUSE } as const;
const TWO_32 = 2 ** 32;

function putU64(view: DataView, at: number, n: number): void {
  view.setUint32(at, n % TWO_32, true);
  view.setUint32(at + 4, Math.floor(n / TWO_32), true);
}

/** A u64 as a number, or null above Number.MAX_SAFE_INTEGER. */
function getU64(view: DataView, at: number): number | null {
  const high = view.getUint32(at + 4, true);
  if (high > 0x1fffff) return null;
  return high * TWO_32 + view.getUint32(at, true);
}

function encodeQueueRecord(rec: QueueRecord): Uint8Array {
  switch (rec.type) {
    case 'base': {
      const out = new Uint8Array(BASE_BYTES);
      const view = new DataView(out.buffer);
      out[0] = BASE;
      out[1] = BASE_VERSION;
      out.set(rec.id, 2);
      putU64(view, 2 + ID_BYTES, rec.nextSeq);
      putU64(view, 10 + ID_BYTES, rec.droppedDroppable);
      putU64(view, 18 + ID_BYTES, rec.droppedKept);
      return out;
    }
    case 'push': {
      const out = new Uint8Array(PUSH_HEADER_BYTES + rec.payload.length);
      out[0] = PUSH;
      out[1] = rec.droppable ? 1 : 0;
      putU64(new DataView(out.buffer), 2, rec.seq);
      out.set(rec.payload, PUSH_HEADER_BYTES);
      return out;
    }
    default: {
      const out = new Uint8Array(SEQ_RECORD_BYTES);
      out[0] = SEQ_TYPES[rec.type];
      putU64(new DataView(out.buffer), 1, rec.seq);
      return out;
    }
  }
}

/** A queue record, or why the bytes (which passed the log's checksum) are not one. */
type Decoded = { readonly record: QueueRecord } | { readonly fault: string; readonly version?: true };

function decodeQueueRecord(bytes: Uint8Array): Decoded {
  if (bytes.length === 0) return { fault: 'an empty record' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = bytes[0];
  const seqAt = (at: number, expected: number): Decoded | number => {
    if (bytes.length !== expected) return { fault: `a type-${type} record of ${bytes.length} bytes, expected ${expected}` };
    const seq = getU64(view, at);
    return seq === null ? { fault: 'a seq above 2^53' } : seq;
  };
  switch (type) {
    case BASE: {
      if (bytes.length >= 2 && bytes[1] !== BASE_VERSION) return { fault: `queue format version ${bytes[1]}, this code reads version ${BASE_VERSION}`, version: true };
      if (bytes.length !== BASE_BYTES) return { fault: `a base record of ${bytes.length} bytes, expected ${BASE_BYTES}` };
      const nextSeq = getU64(view, 2 + ID_BYTES);
      const droppedDroppable = getU64(view, 10 + ID_BYTES);
      const droppedKept = getU64(view, 18 + ID_BYTES);
      if (nextSeq === null || droppedDroppable === null || droppedKept === null) return { fault: 'a base record with a number above 2^53' };
      if (nextSeq < FIRST_SEQ) return { fault: `a base record with nextSeq ${nextSeq}` };
      return { record: { type: 'base', id: bytes.slice(2, 2 + ID_BYTES), nextSeq, droppedDroppable, droppedKept } };
    }
    case PUSH: {
      if (bytes.length < PUSH_HEADER_BYTES) return { fault: `a push record of ${bytes.length} bytes, shorter than its ${PUSH_HEADER_BYTES}-byte header` };
      const flags = bytes[1]!;
      if ((flags & ~1) !== 0) return { fault: `a push record with unknown flags 0x${flags.toString(16)}` };
      const seq = getU64(view, 2);
      if (seq === null) return { fault: 'a seq above 2^53' };
      return { record: { type: 'push', seq, droppable: flags === 1, payload: bytes.subarray(PUSH_HEADER_BYTES) } };
    }
    case ACK:
    case DROP:
    case REFUSE: {
      const seq = seqAt(1, SEQ_RECORD_BYTES);
      if (typeof seq !== 'number') return seq;
      return { record: { type: type === ACK ? 'ack' : type === DROP ? 'drop' : 'refuse', seq } };
    }
    default:
      return { fault: `unknown record type ${type}` };
  }
}

// ---------------------------------------------------------------------------
// The core: live entries and the drop policy, no I/O

/** An array used as a FIFO, with O(1) shift. */
class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  at(i: number): T | undefined {
    return this.#items[this.#head + i];
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined as T; // let the payload go
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

interface Limits {
  readonly maxEntries: number;
  readonly maxBytes: number;
}

/** Bytes a fresh log holding only these entries takes: file header, BASE, one PUSH per entry. */
function compactBytes(entries: number, payloadBytes: number): number {
  return FILE_HEADER_BYTES + RECORD_HEADER_BYTES + BASE_BYTES + entries * (RECORD_HEADER_BYTES + PUSH_HEADER_BYTES) + payloadBytes;
}

/**
 * Live entries in two FIFOs (droppable, kept), each in seq order, so the oldest
 * droppable entry is always at hand. Every change returns the records that
 * replay it; apply() replays them, checking that they could have been written.
 */
class QueueState {
  id: Uint8Array = new Uint8Array(ID_BYTES);
  nextSeq = FIRST_SEQ;
  droppedDroppable = 0;
  droppedKept = 0;
  bytes = 0;
  /** Payload bytes of the kept entries alone. */
  #keptBytes = 0;
  readonly #droppable = new Fifo<QueueEntry>();
  readonly #kept = new Fifo<QueueEntry>();
  /** Highest seq a PUSH or REFUSE in the replayed file carried: they must rise. */
  #lastSeq = 0;

  get size(): number {
    return this.#droppable.length + this.#kept.length;
  }

  /** The oldest `n` entries with seq at most `maxSeq`, merging the two FIFOs by seq. */
  peek(n: number, maxSeq = Infinity): QueueEntry[] {
    const out: QueueEntry[] = [];
    let d = 0;
    let k = 0;
    while (out.length < n) {
      const a = this.#droppable.at(d);
      const b = this.#kept.at(k);
      if (a === undefined && b === undefined) break;
      const fromDroppable = b === undefined || (a !== undefined && a.seq < b.seq);
      const next = fromDroppable ? a! : b;
      if (next.seq > maxSeq) break;
      out.push(next);
      if (fromDroppable) d += 1;
      else k += 1;
    }
    return out;
  }

  push(payload: Uint8Array, droppable: boolean, limits: Limits): { records: QueueRecord[]; result: PushResult } {
    const seq = this.nextSeq++;
    const records: QueueRecord[] = [];
    // Evicting every droppable entry would not make room: a droppable push gives way to
    // the kept ones rather than evicting them, and evicts nothing in vain.
    if (droppable && (this.#kept.length + 1 > limits.maxEntries || this.#keptBytes + payload.length > limits.maxBytes)) {
      this.droppedDroppable += 1;
      return { records: [{ type: 'refuse', seq }], result: { seq, stored: false, evicted: 0 } };
    }
    const evicted = this.#makeRoom(1, payload.length, limits, records);
    const entry: QueueEntry = { seq, droppable, payload };
    this.#add(entry);
    records.push({ type: 'push', seq, droppable, payload });
    return { records, result: { seq, stored: true, evicted } };
  }

  /** Drops entries (oldest droppable first, then oldest kept) until `entries` more entries of `bytes` more bytes fit. */
  #makeRoom(entries: number, bytes: number, limits: Limits, records: QueueRecord[]): number {
    let evicted = 0;
    while (this.size > 0 && (this.size + entries > limits.maxEntries || this.bytes + bytes > limits.maxBytes)) {
      const fromDroppable = this.#droppable.length > 0;
      const entry = this.#remove(fromDroppable ? this.#droppable : this.#kept);
      if (fromDroppable) this.droppedDroppable += 1;
      else this.droppedKept += 1;
      records.push({ type: 'drop', seq: entry.seq });
      evicted += 1;
    }
    return evicted;
  }

  /** Brings the live entries within `limits` (they may have shrunk since the file was written). */
  fit(limits: Limits): QueueRecord[] {
    const records: QueueRecord[] = [];
    this.#makeRoom(0, 0, limits, records);
    return records;
  }

  ack(seq: number): { removed: number; record: QueueRecord | null } {
    let removed = 0;
    for (const fifo of [this.#droppable, this.#kept]) {
      while ((fifo.at(0)?.seq ?? Infinity) <= seq) {
        this.#remove(fifo);
        removed += 1;
      }
    }
    return { removed, record: removed === 0 ? null : { type: 'ack', seq } };
  }

  /** Records from which a fresh file rebuilds this exact state. */
  snapshot(): QueueRecord[] {
    const base: QueueRecord = { type: 'base', id: this.id, nextSeq: this.nextSeq, droppedDroppable: this.droppedDroppable, droppedKept: this.droppedKept };
    return [base, ...this.peek(this.size).map((e): QueueRecord => ({ type: 'push', seq: e.seq, droppable: e.droppable, payload: e.payload }))];
  }

  /** Size of the file compaction would write now. */
  compactBytes(): number {
    return compactBytes(this.size, this.bytes);
  }

  #add(entry: QueueEntry): void {
    (entry.droppable ? this.#droppable : this.#kept).push(entry);
    this.bytes += entry.payload.length;
    if (!entry.droppable) this.#keptBytes += entry.payload.length;
  }

  /** Shifts the oldest entry of a non-empty FIFO. */
  #remove(fifo: Fifo<QueueEntry>): QueueEntry {
    const entry = fifo.shift()!;
    this.bytes -= entry.payload.length;
    if (!entry.droppable) this.#keptBytes -= entry.payload.length;
    return entry;
  }

  /** Takes note of a seq handed out by a replayed PUSH or REFUSE; false if out of order. */
  #hands(seq: number): boolean {
    if (seq <= this.#lastSeq) return false;
    this.#lastSeq = seq;
    this.nextSeq = Math.max(this.nextSeq, seq + 1);
    return true;
  }

  /** Replays one record; returns why it could not have been written here, or null. */
  apply(rec: QueueRecord, index: number): string | null {
    if ((rec.type === 'base') !== (index === 0)) return rec.type === 'base' ? 'a base record after the first' : 'no base record first';
    switch (rec.type) {
      case 'base':
        this.id = rec.id;
        this.nextSeq = rec.nextSeq;
        this.droppedDroppable = rec.droppedDroppable;
        this.droppedKept = rec.droppedKept;
        return null;
      case 'push':
        if (!this.#hands(rec.seq)) return `seq ${rec.seq} after seq ${this.#lastSeq}`;
        this.#add({ seq: rec.seq, droppable: rec.droppable, payload: rec.payload });
        return null;
      case 'refuse':
        if (!this.#hands(rec.seq)) return `seq ${rec.seq} after seq ${this.#lastSeq}`;
        this.droppedDroppable += 1;
        return null;
      case 'ack':
        if (rec.seq >= this.nextSeq) return `an ack of seq ${rec.seq}, never handed out (next is ${this.nextSeq})`;
        this.ack(rec.seq);
        return null;
      case 'drop': {
        // Entries are only ever dropped oldest first, from one FIFO or the other.
        const fifo = this.#droppable.at(0)?.seq === rec.seq ? this.#droppable : this.#kept.at(0)?.seq === rec.seq ? this.#kept : null;
        if (fifo === null) return `a drop of seq ${rec.seq}, which is not the oldest live entry of its kind`;
        const entry = this.#remove(fifo);
        if (entry.droppable) this.droppedDroppable += 1;
        else this.droppedKept += 1;
        return null;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// The shell: the log file, durability, compaction

function positiveInt(value: unknown, name: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new LogError('BAD_ARGUMENT', `DurableQueue.open: ${name} must be an integer from 1 to ${max}, got ${String(value)}`);
  }
  return value;
}

interface Held {
  readonly records: Uint8Array[];
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * A bounded FIFO of opaque records that survives restarts and power cuts, for
 * what must outlive a broker outage (telemetry, events). push() and ack() resolve
 * once their record is durable. Delivery built on peek → publish → ack is
 * at-least-once: a crash after publishing and before the ack resends, so
 * consumers dedupe by (queue id, seq). One owner per file (see AppendLog).
 */
export class DurableQueue {
  readonly path: string;
  /** Random id of this queue file (32 hex digits): seqs restart only with a new id. */
  readonly id: string;
  /** What opening the log found; a torn tail from a crash is cut and reported here. */
  readonly recovery: RecoveryReport;
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly maxRecordBytes: number;
  readonly #slack: number;
  readonly #state: QueueState;
  #log: AppendLog;
  /** Bytes the log file will have once every append made so far lands. */
  #fileBytes: number;
  /** Records made while compaction runs, appended to the new file once it is in place. */
  #held: Held[] | null = null;
  #compaction: Promise<void> | null = null;
  #compactions = 0;
  /** After a failed compaction, wait for this much more growth before trying again. */
  #retryAt = 0;
  #failure: LogError | null = null;
  #closing: Promise<void> | null = null;
  /**
   * Highest seq whose PUSH is durable. peek() shows nothing above it: a push lost in a
   * crash gives its seq to the next push after the restart, so it must never have been
   * published under that seq.
   */
  #durableSeq: number;

  private constructor(path: string, log: AppendLog, recovery: RecoveryReport, state: QueueState, limits: Required<DurableQueueOptions>) {
    this.path = path;
    this.#log = log;
    this.recovery = recovery;
    this.#state = state;
    this.id = Buffer.from(state.id).toString('hex');
    this.maxEntries = limits.maxEntries;
    this.maxBytes = limits.maxBytes;
    this.maxRecordBytes = limits.maxRecordBytes;
    this.#slack = limits.compactSlackBytes;
    this.#fileBytes = log.bytes;
    this.#durableSeq = state.nextSeq - 1;
  }

  /**
   * Opens the queue at `path`, creating it if absent, and replays it. A torn tail is
   * cut (see `recovery`); a record that passed the log's checksum but is not a valid
   * queue record is refused with LogError('CORRUPT') naming its index. Entries beyond
   * the limits (if they shrank) are dropped at once, by the usual policy.
   */
  static async open(path: string, opts: DurableQueueOptions): Promise<DurableQueue> {
    if (typeof path !== 'string' || path === '') throw new LogError('BAD_ARGUMENT', 'DurableQueue.open: path must be a non-empty string');
    if (typeof opts !== 'object' || opts === null) throw new LogError('BAD_ARGUMENT', 'DurableQueue.open: options must be an object');
    const maxEntries = positiveInt(opts.maxEntries, 'maxEntries', MAX_QUEUE_ENTRIES);
    const maxBytes = positiveInt(opts.maxBytes, 'maxBytes', MAX_RECORD_LIMIT - PUSH_HEADER_BYTES);
    const maxRecordBytes = opts.maxRecordBytes === undefined ? maxBytes : positiveInt(opts.maxRecordBytes, 'maxRecordBytes (at most maxBytes)', maxBytes);
    const slack = opts.compactSlackBytes ?? DEFAULT_COMPACT_SLACK_BYTES;
    if (!Number.isInteger(slack) || slack < 0 || slack > MAX_RECORD_LIMIT) {
      throw new LogError('BAD_ARGUMENT', `DurableQueue.open: compactSlackBytes must be an integer from 0 to ${MAX_RECORD_LIMIT}, got ${String(slack)}`);
    }
    const limits = { maxEntries, maxBytes, maxRecordBytes, compactSlackBytes: slack };

    const abs = resolve(path);
    await removeLeftover(compactPath(abs)); // a compaction cut short by a crash: the old file is still the queue
    // Read with the largest bound: records written under a larger maxRecordBytes stay readable.
    const { log, recovery } = await AppendLog.open(abs, { maxRecordBytes: MAX_RECORD_LIMIT });
    try {
      const state = new QueueState();
      let index = 0;
      for await (const bytes of log.records()) {
        const decoded = decodeQueueRecord(bytes);
        const fault = 'fault' in decoded ? decoded.fault : state.apply(decoded.record, index);
        if (fault !== null) {
          const code = 'version' in decoded ? 'VERSION' : 'CORRUPT';
          throw new LogError(code, `queue ${abs}: record ${index} passed the log's checksum but is not a valid queue record: ${fault}`, { index });
        }
        index += 1;
      }
      if (index === 0) {
        // New, or created by a crash before its first record landed.
        state.id = randomBytes(ID_BYTES);
        await log.append(encodeQueueRecord(state.snapshot()[0]!));
      }
      const drops = state.fit(limits);
      await Promise.all(drops.map((r) => log.append(encodeQueueRecord(r))));
      const queue = new DurableQueue(abs, log, recovery, state, limits);
      queue.#maybeCompact();
      return queue;
    } catch (err) {
      await log.close().catch(() => {});
      throw err;
    }
  }

  /** Live entries. */
  get size(): number {
    return this.#state.size;
  }

  /** Live payload bytes. */
  get bytes(): number {
    return this.#state.bytes;
  }

  /** Entries dropped to stay within the limits, since the queue file was created. */
  get dropped(): DroppedCounts {
    return { droppable: this.#state.droppedDroppable, kept: this.#state.droppedKept };
  }

  /** Compactions since open (for metrics and tests). */
  get compactions(): number {
    return this.#compactions;
  }

  /**
   * Appends `payload` (copied) and resolves once it is durable. When the limits would
   * be passed, the oldest droppable entries are dropped first, then the oldest kept
   * ones; a droppable payload meeting a queue full of kept entries is dropped itself
   * (`stored: false`). A payload over maxRecordBytes is refused with TOO_LARGE.
   */
  push(payload: Uint8Array, opts: { readonly droppable: boolean }): Promise<PushResult> {
    if (!(payload instanceof Uint8Array)) return Promise.reject(new LogError('BAD_ARGUMENT', `queue ${this.path}: push takes a Uint8Array`));
    if (typeof opts !== 'object' || opts === null || typeof opts.droppable !== 'boolean') {
      return Promise.reject(new LogError('BAD_ARGUMENT', `queue ${this.path}: push needs { droppable: true | false }`));
    }
    const refusal = this.#refusal();
    if (refusal !== null) return Promise.reject(refusal);
    if (payload.length > this.maxRecordBytes) {
      return Promise.reject(new LogError('TOO_LARGE', `queue ${this.path}: a ${payload.length}-byte record exceeds maxRecordBytes (${this.maxRecordBytes})`));
    }
    const { records, result } = this.#state.push(payload.slice(), opts.droppable, this);
    return this.#write(records).then(() => {
      this.#durableSeq = Math.max(this.#durableSeq, result.seq);
      return result;
    });
  }

  /** The oldest `n` live entries whose push is durable, in order (payloads are copies). */
  peek(n: number): QueueEntry[] {
    if (!Number.isSafeInteger(n) || n < 0) throw new LogError('BAD_ARGUMENT', `queue ${this.path}: peek takes a whole number, got ${String(n)}`);
    if (this.#closing !== null) throw new LogError('CLOSED', `queue ${this.path}: closed`);
    return this.#state.peek(n, this.#durableSeq).map((e) => ({ seq: e.seq, droppable: e.droppable, payload: e.payload.slice() }));
  }

  /**
   * Removes every entry up to and including `seq` (call it once the broker has
   * confirmed delivery) and resolves with how many were removed, once that is
   * durable. Acking an old seq again removes nothing; a seq never handed out is
   * refused with BAD_ARGUMENT.
   */
  ack(seq: number): Promise<number> {
    if (!Number.isSafeInteger(seq) || seq < 0) return Promise.reject(new LogError('BAD_ARGUMENT', `queue ${this.path}: ack takes a seq (a whole number), got ${String(seq)}`));
    const refusal = this.#refusal();
    if (refusal !== null) return Promise.reject(refusal);
    if (seq >= this.#state.nextSeq) {
      return Promise.reject(new LogError('BAD_ARGUMENT', `queue ${this.path}: ack of seq ${seq}, which was never handed out (next is ${this.#state.nextSeq})`));
    }
    const { removed, record } = this.#state.ack(seq);
    if (record === null) return Promise.resolve(0);
    return this.#write([record]).then(() => removed);
  }

  /** Waits for pending writes and any compaction, then closes the file. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      while (this.#compaction !== null) await this.#compaction;
      await this.#log.close();
    })();
    return this.#closing;
  }

  #refusal(): LogError | null {
    if (this.#closing !== null) return new LogError('CLOSED', `queue ${this.path}: closed`);
    if (this.#failure !== null) return new LogError('FAILED', `queue ${this.path}: ${this.#failure.message}; reopen the queue to recover`, { cause: this.#failure });
    return null;
  }

  /** Appends records in order; resolves when the last is durable. */
  #write(records: readonly QueueRecord[]): Promise<void> {
    const encoded = records.map(encodeQueueRecord);
    for (const r of encoded) this.#fileBytes += RECORD_HEADER_BYTES + r.length;
    let done: Promise<void>;
    if (this.#held !== null) {
      const held = this.#held;
      done = new Promise((resolve, reject) => held.push({ records: encoded, resolve, reject }));
    } else {
      done = appendAll(this.#log, encoded);
    }
    this.#maybeCompact();
    return done;
  }

  /** Compacts once the file passes twice the live data plus the slack. */
  #maybeCompact(): void {
    if (this.#compaction !== null || this.#closing !== null || this.#failure !== null) return;
    const threshold = Math.max(2 * this.#state.compactBytes() + this.#slack, this.#retryAt);
    if (this.#fileBytes <= threshold) return;
    this.#compaction = this.#compact().finally(() => {
      this.#compaction = null;
      this.#maybeCompact();
    });
  }

  /**
   * Writes the live entries to a fresh file and renames it over the queue. The state
   * copied is the state after every record already handed to the old log, so those
   * are in the new file whether or not the old log finished writing them; records
   * made meanwhile are held and appended to the new file. Never rejects.
   */
  async #compact(): Promise<void> {
    const held: Held[] = (this.#held = []);
    const snapshot = this.#state.snapshot().map(encodeQueueRecord);
    const old = this.#log;
    const tmp = compactPath(this.path);
    try {
      await removeLeftover(tmp);
      const { log: fresh } = await AppendLog.open(tmp, { maxRecordBytes: MAX_RECORD_LIMIT });
      try {
        await appendAll(fresh, snapshot);
      } finally {
        await fresh.close();
      }
      await rename(tmp, this.path).catch((err: unknown) => {
        throw ioError(this.path, 'renaming the compacted queue into place', err);
      });
    } catch {
      // The queue file is untouched: carry on with it, and try again after more growth.
      // (A persistent error will show on the next append to the old log as well.)
      await unlink(tmp).catch(() => {});
      this.#retryAt = this.#fileBytes + Math.max(this.#slack, 4096);
      this.#held = null;
      for (const h of held) appendAll(old, h.records).then(h.resolve, h.reject);
      return;
    }
    // The compacted file is the queue now; any failure from here leaves no usable log.
    try {
      await fsyncDir(dirname(this.path));
      const { log } = await AppendLog.open(this.path, { maxRecordBytes: MAX_RECORD_LIMIT });
      await old.close().catch(() => {}); // its last appends went to the replaced file; their effect is in the new one
      this.#log = log;
      this.#fileBytes = log.bytes;
      this.#held = null;
      this.#compactions += 1;
      this.#retryAt = 0;
      for (const h of held) {
        for (const r of h.records) this.#fileBytes += RECORD_HEADER_BYTES + r.length;
        appendAll(log, h.records).then(h.resolve, h.reject);
      }
    } catch (err) {
      this.#failure = err instanceof LogError ? err : ioError(this.path, 'reopening after compaction', err);
      this.#held = null;
      for (const h of held) h.reject(this.#refusal());
      await old.close().catch(() => {});
    }
  }
}

function compactPath(path: string): string {
  return `${path}.compact`;
}

async function removeLeftover(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(path, 'removing a leftover compaction file', err);
  }
}

/** Appends in order; resolves when all are durable, rejects with the first failure. */
function appendAll(log: AppendLog, records: readonly Uint8Array[]): Promise<void> {
  return Promise.all(records.map((r) => log.append(r))).then(() => undefined);
}
