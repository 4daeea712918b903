import { mkdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Clock } from '../clock/index.js';
import { AppendLog, LogError, type RecoveryReport, fsyncDir } from '../store/index.js';
import { ChainVerifier } from './chain.js';
import { type Checkpoint, EMPTY, HEAD_FILE, LOG_FILE, readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { type AuditEntry, MAX_ENTRY_BYTES, encodeEntry, entryHash, isEntryData, isValidKind } from './entry.js';
import { AuditError } from './errors.js';

export interface AuditTrailOptions {
  readonly clock: Clock;
  /**
   * Write the head checkpoint after this many appends (default 16), and always on
   * close. After a crash, up to this many entries at the end are not covered by the
   * checkpoint, and cutting them would not be noticed.
   */
  readonly checkpointEvery?: number;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Log errors met while opening, as audit errors naming the seq at fault. */
function fromLogError(err: unknown, path: string): AuditError {
  if (!(err instanceof LogError)) return new AuditError('IO', `audit log ${path}: ${message(err)}`, { cause: err });
  switch (err.code) {
    case 'CORRUPT':
    case 'TOO_LARGE':
    case 'BAD_MAGIC':
    case 'VERSION':
      return new AuditError('CORRUPT', `audit trail ${dirname(path)} broken at seq ${err.index ?? 0}: corrupt: ${err.message}`, { seq: err.index ?? 0, cause: err });
    case 'LOCKED':
      return new AuditError('LOCKED', `audit trail ${dirname(path)} is already open in this process`, { cause: err });
    default:
      return new AuditError('IO', err.message, { cause: err });
  }
}

/**
 * The tamper-evident audit trail: a hash chain of entries on an append-only log,
 * plus a head checkpoint. See docs/audit.md for what it proves and what it cannot.
 */
export class AuditTrail {
  readonly dir: string;
  /** What opening the log found: a torn tail from a crash is cut, reported here, and recorded as an entry. */
  readonly recovery: RecoveryReport;
  readonly #log: AppendLog;
  readonly #clock: Clock;
  readonly #every: number;
  #head: Checkpoint;
  #checkpointed: number;
  #headWrites: Promise<void> = Promise.resolve();
  readonly #inFlight = new Set<Promise<unknown>>();
  #failure: AuditError | null = null;
  #closing: Promise<void> | null = null;

  private constructor(dir: string, log: AppendLog, recovery: RecoveryReport, clock: Clock, every: number, head: Checkpoint, checkpointed: number) {
    this.dir = dir;
    this.#log = log;
    this.recovery = recovery;
    this.#clock = clock;
    this.#every = every;
    this.#head = head;
    this.#checkpointed = checkpointed;
  }

  /**
   * Opens the trail in `dir`, creating it if there is none, and verifies the whole
   * chain against the head checkpoint; a broken chain is refused with an AuditError
   * whose code is the fault and whose `seq` is the first bad seq.
   */
  static async open(dir: string, opts: AuditTrailOptions): Promise<AuditTrail> {
    if (typeof dir !== 'string' || dir === '') throw new AuditError('BAD_ARGUMENT', 'AuditTrail.open: dir must be a non-empty string');
    const clock = opts?.clock;
    if (typeof clock?.now !== 'function') throw new AuditError('BAD_ARGUMENT', 'AuditTrail.open: options.clock must be a Clock');
    const every = opts.checkpointEvery ?? 16;
    if (!Number.isInteger(every) || every < 1 || every > 1_000_000) {
      throw new AuditError('BAD_ARGUMENT', `AuditTrail.open: checkpointEvery must be an integer from 1 to 1000000, got ${String(every)}`);
    }
    const abs = resolve(dir);
    const logPath = join(abs, LOG_FILE);
    const checkpoint = await prepare(abs, logPath);

    let opened: { log: AppendLog; recovery: RecoveryReport };
    try {
      opened = await AppendLog.open(logPath, { maxRecordBytes: MAX_ENTRY_BYTES });
    } catch (err) {
      throw fromLogError(err, logPath);
    }
    const { log, recovery } = opened;
    try {
      const verifier = new ChainVerifier(checkpoint);
      for await (const record of log.records()) verifier.add(record);
      const report = verifier.report();
      if (!report.ok) throw new AuditError(report.fault, `audit trail ${abs} broken at seq ${report.firstBadSeq}: ${report.reason}`, { seq: report.firstBadSeq });
      const checkpointed = (checkpoint as Checkpoint).seq; // verification fails without a usable checkpoint
      const trail = new AuditTrail(abs, log, recovery, clock, every, { seq: report.lastSeq, hash: report.headHash }, checkpointed);
      if (recovery.dropped !== null) {
        const { offset, bytes, fault } = recovery.dropped;
        await trail.append('audit.torn-tail', { offset, bytes, fault });
      }
      return trail;
    } catch (err) {
      await log.close().catch(() => {}); // the error being thrown says more
      throw err instanceof AuditError ? err : fromLogError(err, logPath);
    }
  }

  /** The last entry appended (seq -1 and the zero hash while the trail is empty). */
  get head(): Checkpoint {
    return { seq: this.#head.seq, hash: this.#head.hash.slice() };
  }

  /**
   * Appends an entry and resolves with it once it is on disk. Concurrent appends are
   * chained in call order and share the log's group commit.
   */
  append(kind: string, data: Record<string, unknown>): Promise<AuditEntry> {
    const pending = this.#append(kind, data);
    this.#inFlight.add(pending);
    const forget = (): void => void this.#inFlight.delete(pending);
    pending.then(forget, forget);
    return pending;
  }

  async #append(kind: string, data: Record<string, unknown>): Promise<AuditEntry> {
    if (this.#failure !== null) throw new AuditError('FAILED', `audit trail ${this.dir}: an earlier write failed; reopen the trail`, { cause: this.#failure });
    if (this.#closing !== null) throw new AuditError('CLOSED', `audit trail ${this.dir}: closed`);
    if (!isValidKind(kind)) throw new AuditError('BAD_ARGUMENT', `audit append: kind must be 1 to 64 characters like "agent.start", got ${JSON.stringify(kind)}`);
    if (!isEntryData(data)) throw new AuditError('BAD_ARGUMENT', `audit append (${kind}): data must be a plain object`);
    const ts = this.#clock.now();
    if (!Number.isFinite(ts)) throw new AuditError('BAD_ARGUMENT', `audit append (${kind}): the clock returned ${ts}`);

    const seq = this.#head.seq + 1;
    // Copies: the entry goes to the caller, who must not be able to change the chain through it.
    const fields = { seq, ts, kind, data, prev: this.#head.hash.slice() };
    let entry: AuditEntry;
    let record: Uint8Array;
    try {
      entry = { ...fields, hash: entryHash(fields) };
      record = encodeEntry(entry);
    } catch (err) {
      throw new AuditError('BAD_ARGUMENT', `audit append (${kind}): data cannot be recorded: ${message(err)}`, { cause: err });
    }
    if (record.length > MAX_ENTRY_BYTES) {
      throw new AuditError('TOO_LARGE', `audit append (${kind}): seq ${seq} would take ${record.length} bytes, more than ${MAX_ENTRY_BYTES}`, { seq });
    }
    // The head moves now, before the write, so that concurrent appends chain in call order.
    this.#head = { seq, hash: entry.hash.slice() };
    try {
      await this.#log.append(record);
      if (seq - this.#checkpointed >= this.#every) await this.#checkpoint({ seq, hash: entry.hash });
    } catch (err) {
      this.#failure ??= new AuditError('IO', `audit trail ${this.dir}: writing seq ${seq} failed: ${message(err)}`, { seq, cause: err });
      throw this.#failure;
    }
    return entry;
  }

  /** Writes checkpoints one at a time, never replacing a newer one with an older. */
  #checkpoint(head: Checkpoint): Promise<void> {
    const write = this.#headWrites.then(async () => {
      if (head.seq <= this.#checkpointed) return;
      await writeCheckpoint(this.dir, head);
      this.#checkpointed = head.seq;
    });
    this.#headWrites = write.catch(() => {}); // the failure reaches the append that asked
    return write;
  }

  /** Waits for pending appends, writes the head checkpoint and closes the log. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#closeOnce();
    return this.#closing;
  }

  async #closeOnce(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
    try {
      if (this.#failure === null) await this.#checkpoint(this.#head);
    } finally {
      await this.#log.close();
    }
  }
}

/**
 * Creates the directory and the empty checkpoint for a new trail; for an existing
 * one, reads the checkpoint, or says why it cannot be used. The checkpoint is written
 * before the log exists, so a log without a checkpoint means the checkpoint was removed.
 */
async function prepare(dir: string, logPath: string): Promise<Checkpoint | string> {
  try {
    const created = await mkdir(dir, { recursive: true, mode: 0o700 });
    if (created !== undefined) await fsyncDir(dirname(created));
  } catch (err) {
    throw new AuditError('IO', `audit trail ${dir}: creating the directory failed: ${message(err)}`, { cause: err });
  }
  const logExists = await stat(logPath).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw new AuditError('IO', `audit log ${logPath}: ${err.message}`, { cause: err });
    },
  );
  const checkpoint = await readCheckpoint(dir);
  if (logExists) return checkpoint ?? `${HEAD_FILE} is missing`;
  if (typeof checkpoint === 'string' || (checkpoint !== null && checkpoint.seq >= 0)) {
    throw new AuditError('TRUNCATED', `audit trail ${dir} broken at seq 0: ${LOG_FILE} is missing but ${HEAD_FILE} exists`, { seq: 0 });
  }
  if (checkpoint === null) await writeCheckpoint(dir, EMPTY);
  return EMPTY;
}
