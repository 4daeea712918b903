import { type FileHandle, open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createFileAtomic } from './atomic.js';
import { LogError, ioError } from './errors.js';
import { encodeRecord, fileHeader, maxRecordBytesOption } from './format.js';
import { type RecoveryReport, recover } from './recover.js';
import { corruptError, walkRecords } from './scan.js';
import { fileSource } from './source.js';

export interface AppendLogOptions {
  /** Largest payload append() accepts and the reader believes (default 16 MiB). */
  readonly maxRecordBytes?: number;
  /** Cut a corrupt log at its first bad record, reporting the loss, instead of refusing to open it. */
  readonly repair?: boolean;
  /** Permissions of a newly created log file (default 0o600). */
  readonly mode?: number;
}

/** Files open for writing in this process, by device and inode, so that two names for one file still clash. */
const writers = new Set<string>();

/** Largest single write a commit issues; records queued beyond it go in the next one. */
const BATCH_BYTES = 4 * 1024 * 1024;

interface Pending {
  readonly record: Uint8Array;
  readonly index: number;
  readonly resolve: (index: number) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * A file of length-prefixed, checksummed records that only ever grows.
 * append() resolves once its record is on disk (fdatasync); appends made while a
 * commit is in flight are written together with one write and one fdatasync
 * (group commit), in the order they were made. One writer per file per process;
 * other processes are not locked out (Node has no flock), so give each log one owner.
 */
export class AppendLog {
  readonly path: string;
  readonly maxRecordBytes: number;
  readonly #handle: FileHandle;
  readonly #key: string;
  #end: number;
  #count: number;
  #next: number;
  readonly #queue: Pending[] = [];
  #committing: Promise<void> | null = null;
  #failure: LogError | null = null;
  #closing: Promise<void> | null = null;

  private constructor(path: string, handle: FileHandle, key: string, maxRecordBytes: number, records: number, bytes: number) {
    this.path = path;
    this.#handle = handle;
    this.#key = key;
    this.maxRecordBytes = maxRecordBytes;
    this.#end = bytes;
    this.#count = records;
    this.#next = records;
  }

  /**
   * Opens the log at `path`, creating it if absent. Every record is checked; a torn
   * tail left by a crash is cut away and reported in `recovery.dropped`; corruption
   * (a bad record with more data after it) is refused with LogError('CORRUPT') unless
   * `repair` is set.
   */
  static async open(path: string, opts: AppendLogOptions = {}): Promise<{ log: AppendLog; recovery: RecoveryReport }> {
    if (typeof path !== 'string' || path === '') throw new LogError('BAD_ARGUMENT', 'AppendLog.open: path must be a non-empty string');
    if (typeof opts !== 'object' || opts === null) throw new LogError('BAD_ARGUMENT', 'AppendLog.open: options must be an object');
    const maxRecordBytes = maxRecordBytesOption(opts.maxRecordBytes, 'AppendLog.open');
    const repair = opts.repair ?? false;
    if (typeof repair !== 'boolean') throw new LogError('BAD_ARGUMENT', 'AppendLog.open: repair must be true or false');
    const mode = opts.mode ?? 0o600;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new LogError('BAD_ARGUMENT', `AppendLog.open: mode must be a permission number, got ${String(mode)}`);

    const abs = resolve(path);
    const { handle, created } = await openOrCreate(abs, mode);
    let key: string | null = null;
    try {
      const stat = await handle.stat({ bigint: true });
      if (!stat.isFile()) throw new LogError('BAD_ARGUMENT', `log ${abs}: not a regular file`);
      const id = `${stat.dev}:${stat.ino}`;
      if (writers.has(id)) throw new LogError('LOCKED', `log ${abs}: already open for writing in this process`);
      writers.add((key = id));
      const found = await recover(handle, abs, Number(stat.size), repair, maxRecordBytes);
      return { log: new AppendLog(abs, handle, id, maxRecordBytes, found.records, found.bytes), recovery: { created, ...found } };
    } catch (err) {
      if (key !== null) writers.delete(key);
      await handle.close().catch(() => {}); // the error being thrown says more than a failed close
      throw err instanceof LogError ? err : ioError(abs, 'opening', err);
    }
  }

  /** Records on disk (appends not yet resolved are not counted). */
  get count(): number {
    return this.#count;
  }

  /** Length of the file up to the last durable record. */
  get bytes(): number {
    return this.#end;
  }

  /**
   * Appends one record and resolves with its index once it is durable. If it rejects
   * with an I/O error, the record may or may not be found after a reopen (as with any
   * write the disk failed to confirm), and the log refuses further appends.
   */
  append(payload: Uint8Array): Promise<number> {
    if (!(payload instanceof Uint8Array)) return Promise.reject(new LogError('BAD_ARGUMENT', `log ${this.path}: append takes a Uint8Array`));
    const refusal = this.#refusal();
    if (refusal !== null) return Promise.reject(refusal);
    if (payload.length > this.maxRecordBytes) {
      return Promise.reject(
        new LogError('TOO_LARGE', `log ${this.path}: a ${payload.length}-byte record at index ${this.#next} exceeds maxRecordBytes (${this.maxRecordBytes})`, { index: this.#next }),
      );
    }
    const record = encodeRecord(payload); // a private copy: the caller may reuse its buffer at once
    const index = this.#next++;
    return new Promise((resolve, reject) => {
      this.#queue.push({ record, index, resolve, reject });
      this.#committing ??= this.#commit();
    });
  }

  /** Reads back, in order, the records that were durable when it was called. */
  async *records(): AsyncGenerator<Uint8Array, void, undefined> {
    if (this.#closing !== null) throw new LogError('CLOSED', `log ${this.path}: closed`);
    const size = this.#end;
    const count = this.#count;
    let handle: FileHandle;
    try {
      handle = await open(this.path, 'r');
    } catch (err) {
      throw ioError(this.path, 'opening for reading', err);
    }
    try {
      const src = fileSource(handle, this.path, size);
      const walk = walkRecords(src, this.maxRecordBytes);
      for (;;) {
        const step = await walk.next();
        if (!step.done) {
          yield step.value.slice();
          continue;
        }
        const { records, fault } = step.value;
        if (fault !== null) throw corruptError(src, fault, 'the file changed on disk after it was opened');
        if (records !== count) {
          throw new LogError('CORRUPT', `log ${this.path}: its first ${size} bytes hold ${records} records where ${count} were written; the file was replaced`, {
            offset: size,
            index: records,
          });
        }
        return;
      }
    } finally {
      await handle.close();
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    return this.records();
  }

  /** Waits for pending appends, then closes the file. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#closeOnce();
    return this.#closing;
  }

  async #closeOnce(): Promise<void> {
    while (this.#committing !== null) await this.#committing;
    writers.delete(this.#key);
    try {
      await this.#handle.close();
    } catch (err) {
      throw ioError(this.path, 'closing', err);
    }
  }

  #refusal(): LogError | null {
    if (this.#failure !== null) {
      return new LogError('FAILED', `log ${this.path}: a write at byte ${this.#end} failed earlier, so nothing more is appended; reopen the log to recover`, {
        cause: this.#failure,
      });
    }
    if (this.#closing !== null) return new LogError('CLOSED', `log ${this.path}: closed`);
    return null;
  }

  /** Writes and syncs queued records batch by batch until the queue is empty. Never rejects. */
  async #commit(): Promise<void> {
    // Start after the current job's microtasks, so appends made together share a write and an fsync.
    await new Promise<void>((resolve) => queueMicrotask(resolve));
    while (this.#queue.length > 0) {
      const batch = this.#takeBatch();
      const bytes = batch.length === 1 ? batch[0]!.record : Buffer.concat(batch.map((p) => p.record));
      try {
        await this.#writeAt(bytes, this.#end);
        await this.#handle.datasync();
      } catch (err) {
        this.#fail(err, batch);
        break;
      }
      this.#end += bytes.length;
      this.#count += batch.length;
      for (const p of batch) p.resolve(p.index);
    }
    this.#committing = null;
  }

  #takeBatch(): Pending[] {
    let n = 0;
    let bytes = 0;
    for (const p of this.#queue) {
      if (n > 0 && bytes + p.record.length > BATCH_BYTES) break;
      bytes += p.record.length;
      n += 1;
    }
    return this.#queue.splice(0, n);
  }

  async #writeAt(bytes: Uint8Array, position: number): Promise<void> {
    for (let done = 0; done < bytes.length; ) {
      const { bytesWritten } = await this.#handle.write(bytes, done, bytes.length - done, position + done);
      if (bytesWritten <= 0) throw new Error(`write made no progress at byte ${position + done}`);
      done += bytesWritten;
    }
  }

  /** After a failed write or fsync the page cache cannot be trusted: refuse everything until reopened. */
  #fail(err: unknown, batch: readonly Pending[]): void {
    this.#failure = ioError(this.path, `appending records ${batch[0]!.index}.. at byte ${this.#end}`, err);
    for (const p of [...batch, ...this.#queue.splice(0)]) p.reject(this.#failure);
  }
}

async function openOrCreate(path: string, mode: number): Promise<{ handle: FileHandle; created: boolean }> {
  try {
    return { handle: await open(path, 'r+'), created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(path, 'opening', err);
  }
  try {
    const created = await createFileAtomic(path, fileHeader(), { mode });
    return { handle: await open(path, 'r+'), created };
  } catch (err) {
    throw ioError(path, 'creating', err);
  }
}
