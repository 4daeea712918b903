/**
 * Signing nonces, used at most once, ever.
 *
 * A FROST nonce pair signed twice (two messages, one nonce) gives away the
 * signer's share. Nonces here are random (never derived), live only in memory
 * and are zeroed once used, evicted or closed: a restart cannot bring one back,
 * so every commitment issued before a crash is dead after it.
 *
 * What is persisted is the commitment's id (a hash of its public points),
 * durably, BEFORE the commitment is returned to be sent: the store then knows
 * every commitment it ever gave out, and a coordinator that comes back with one
 * from before a restart gets NONCE_REUSE ("burned by restart"), not a signature.
 * The nonce itself is never written anywhere.
 */
import { createHash } from 'node:crypto';
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { AppendLog, fsyncDir, readSmallFile, writeFileAtomic } from '../store/index.js';
import { ThresholdError } from './errors.js';
import { type MemberShare, type SigningCommitment, type SigningNonces, commit as frostCommit, wipeNonces } from './frost.js';

/** What a signer needs from a nonce store. */
export interface NonceSource {
  /** A fresh commitment for `share`; resolves once it may leave (its id is durable). */
  commit(share: MemberShare): Promise<SigningCommitment>;
  /**
   * The nonces behind `commitment`, handed out once: the commitment is marked used
   * before this returns. The caller signs with them and wipes them (frost.signShare does).
   * NONCE_REUSE for a used, burned or unknown commitment.
   */
  take(commitment: SigningCommitment): SigningNonces;
  /** Burns an unused commitment (the caller will not sign with it). */
  burn(commitment: SigningCommitment): void;
  /** Commitments issued and not yet used or burned. */
  readonly outstanding: number;
}

export interface NonceBookOptions {
  /** Unused commitments kept at most; the oldest is burned when one more is issued (default 64). */
  readonly maxOutstanding?: number;
}

const ID_BYTES = 16;
const DEFAULT_MAX_OUTSTANDING = 64;

/** The id persisted for a commitment: SHA-256 of member, hiding and binding points, first 16 bytes. */
export function commitmentId(c: SigningCommitment): Uint8Array {
  const h = createHash('sha256');
  h.update(Uint8Array.of(c.member & 0xff, (c.member >>> 8) & 0xff));
  h.update(c.hiding);
  h.update(c.binding);
  return new Uint8Array(h.digest().subarray(0, ID_BYTES));
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

interface Entry {
  readonly commitment: SigningCommitment;
  nonces: SigningNonces;
}

/** The in-memory part, shared by MemoryNonceStore and NonceStore. */
class NonceBook {
  readonly #live = new Map<string, Entry>(); // insertion order = issue order, for eviction
  readonly #dead = new Map<string, 'used' | 'burned' | 'restart'>();
  readonly #maxOutstanding: number;
  static readonly MAX_DEAD = 4096;

  constructor(opts: NonceBookOptions) {
    const max = opts.maxOutstanding ?? DEFAULT_MAX_OUTSTANDING;
    if (!Number.isInteger(max) || max < 1 || max > 65536) throw new ThresholdError('BAD_ARGUMENT', `nonce store: maxOutstanding must be an integer in 1..65536, got ${String(max)}`);
    this.#maxOutstanding = max;
  }

  get outstanding(): number {
    return this.#live.size;
  }

  retire(id: string): void {
    this.#markDead(id, 'restart');
  }

  issue(share: MemberShare): { id: Uint8Array; key: string; commitment: SigningCommitment } {
    const { nonces, commitment } = frostCommit(share);
    const id = commitmentId(commitment);
    const key = hex(id);
    if (this.#live.has(key) || this.#dead.has(key)) {
      wipeNonces(nonces); // a repeated commitment means a broken RNG: never sign with it
      throw new ThresholdError('NONCE_REUSE', 'nonce store: the RNG produced a commitment seen before');
    }
    while (this.#live.size >= this.#maxOutstanding) {
      const oldest = this.#live.keys().next().value!;
      this.#kill(oldest, 'burned');
    }
    this.#live.set(key, { commitment, nonces });
    return { id, key, commitment };
  }

  /** Drops a commitment whose id could not be made durable. */
  discard(key: string): void {
    this.#kill(key, 'burned');
  }

  take(commitment: SigningCommitment): { key: string; nonces: SigningNonces } {
    const key = this.#keyOf(commitment, 'take');
    const entry = this.#live.get(key);
    if (entry === undefined) throw this.#refusal(key, commitment.member);
    if (!sameBytes(entry.commitment.hiding, commitment.hiding) || !sameBytes(entry.commitment.binding, commitment.binding)) {
      throw this.#refusal(key, commitment.member); // unreachable short of a hash collision; refuse rather than trust the id
    }
    this.#live.delete(key);
    this.#markDead(key, 'used');
    return { key, nonces: entry.nonces };
  }

  burn(commitment: SigningCommitment): string | undefined {
    const key = this.#keyOf(commitment, 'burn');
    if (!this.#live.has(key)) return undefined;
    this.#kill(key, 'burned');
    return key;
  }

  /** Wipes every unused nonce (close). */
  burnAll(): void {
    for (const key of [...this.#live.keys()]) this.#kill(key, 'burned');
  }

  #keyOf(commitment: SigningCommitment, what: string): string {
    if (typeof commitment !== 'object' || commitment === null || !Number.isInteger(commitment.member)) {
      throw new ThresholdError('BAD_ARGUMENT', `nonce store ${what}: expected a SigningCommitment`);
    }
    if (!(commitment.hiding instanceof Uint8Array) || !(commitment.binding instanceof Uint8Array)) {
      throw new ThresholdError('BAD_ARGUMENT', `nonce store ${what}: commitment points must be Uint8Arrays`);
    }
    return hex(commitmentId(commitment));
  }

  #kill(key: string, why: 'burned'): void {
    const entry = this.#live.get(key);
    if (entry !== undefined) wipeNonces(entry.nonces);
    this.#live.delete(key);
    this.#markDead(key, why);
  }

  #markDead(key: string, why: 'used' | 'burned' | 'restart'): void {
    this.#dead.set(key, why);
    // Bounded memory: forgetting an old dead id is safe, its nonce is gone; it just reads "unknown" then.
    if (this.#dead.size > NonceBook.MAX_DEAD) this.#dead.delete(this.#dead.keys().next().value!);
  }

  #refusal(key: string, member: number): ThresholdError {
    const why = this.#dead.get(key);
    const text =
      why === 'used'
        ? 'was already used'
        : why === 'burned'
          ? 'was burned unused'
          : why === 'restart'
            ? 'was burned by a restart (issued before it)'
            : 'is unknown to this signer';
    return new ThresholdError('NONCE_REUSE', `nonce store: member ${member}'s commitment ${key.slice(0, 12)}… ${text}`);
  }
}

/** Nonces in memory only: for simulations and tests (nothing survives the object). */
export class MemoryNonceStore implements NonceSource {
  readonly #book: NonceBook;

  constructor(opts: NonceBookOptions = {}) {
    this.#book = new NonceBook(opts);
  }

  get outstanding(): number {
    return this.#book.outstanding;
  }

  async commit(share: MemberShare): Promise<SigningCommitment> {
    return this.#book.issue(share).commitment;
  }

  take(commitment: SigningCommitment): SigningNonces {
    return this.#book.take(commitment).nonces;
  }

  burn(commitment: SigningCommitment): void {
    this.#book.burn(commitment);
  }

  close(): void {
    this.#book.burnAll();
  }
}

const KIND_ISSUED = 1;
const KIND_USED = 2;
const LOG_NAME = 'nonces.log';
const RETIRED_NAME = 'retired.bin';
const RETIRED_KEEP = 4096;

export interface NonceStoreOpen {
  readonly store: NonceStore;
  /** Commitments issued before the restart and never used: burned now. */
  readonly burned: number;
}

/**
 * The durable nonce store of one signer: a directory (0700) with an append-only
 * log of issued and used commitment ids (0600) and, at each open, a snapshot of
 * the ids from earlier runs (all retired: their nonces died with the process).
 */
export class NonceStore implements NonceSource {
  readonly dir: string;
  readonly #book: NonceBook;
  readonly #log: AppendLog;
  #failure: ThresholdError | null = null;
  #closed = false;

  private constructor(dir: string, book: NonceBook, log: AppendLog) {
    this.dir = dir;
    this.#book = book;
    this.#log = log;
  }

  /**
   * Opens (or creates) the store in `dir`. Every commitment recorded by an
   * earlier run is retired; the ones issued and never used are counted in `burned`.
   */
  static async open(dir: string, opts: NonceBookOptions = {}): Promise<NonceStoreOpen> {
    if (typeof dir !== 'string' || dir === '') throw new ThresholdError('BAD_ARGUMENT', 'NonceStore.open: dir must be a non-empty string');
    const book = new NonceBook(opts);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const logPath = join(dir, LOG_NAME);
    const retiredPath = join(dir, RETIRED_NAME);

    const retired: string[] = [];
    const before = await readSmallFile(retiredPath, {
      maxBytes: RETIRED_KEEP * ID_BYTES,
      tooLarge: (size) => new ThresholdError('MALFORMED', `${retiredPath}: ${size} bytes, more than a retired-id snapshot holds`),
    });
    if (before !== undefined) {
      if (before.length % ID_BYTES !== 0) throw new ThresholdError('MALFORMED', `${retiredPath}: length ${before.length} is not a multiple of ${ID_BYTES}`);
      for (let i = 0; i < before.length; i += ID_BYTES) retired.push(hex(before.subarray(i, i + ID_BYTES)));
    }

    // The previous run's log: torn tails and corruption are cut (repair), since
    // safety does not rest on it: a commitment it forgot is "unknown", refused all the same.
    let burned = 0;
    {
      const { log } = await AppendLog.open(logPath, { repair: true, mode: 0o600, maxRecordBytes: 64 });
      try {
        const issued = new Set<string>();
        for await (const rec of log.records()) {
          if (rec.length !== 1 + ID_BYTES || (rec[0] !== KIND_ISSUED && rec[0] !== KIND_USED)) continue;
          const key = hex(rec.subarray(1));
          if (rec[0] === KIND_ISSUED) {
            issued.add(key);
            retired.push(key);
          } else issued.delete(key);
        }
        burned = issued.size;
      } finally {
        await log.close();
      }
    }

    // Snapshot the retired ids (newest kept), then start a fresh log. A crash in
    // between leaves both files, and the next open takes the union: nothing is lost.
    const keep = [...new Set(retired)].slice(-RETIRED_KEEP);
    const snapshot = new Uint8Array(keep.length * ID_BYTES);
    keep.forEach((k, i) => snapshot.set(Buffer.from(k, 'hex'), i * ID_BYTES));
    await writeFileAtomic(retiredPath, snapshot, { mode: 0o600 });
    await unlink(logPath).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await fsyncDir(dir);
    for (const k of keep) book.retire(k);
    const { log } = await AppendLog.open(logPath, { mode: 0o600, maxRecordBytes: 64 });
    return { store: new NonceStore(dir, book, log), burned };
  }

  get outstanding(): number {
    return this.#book.outstanding;
  }

  /** A fresh commitment; its id is on disk before this resolves. */
  async commit(share: MemberShare): Promise<SigningCommitment> {
    this.#usable();
    const { id, key, commitment } = this.#book.issue(share);
    try {
      await this.#log.append(record(KIND_ISSUED, id));
    } catch (err) {
      this.#book.discard(key);
      this.#fail(err);
      throw this.#failure!;
    }
    return commitment;
  }

  take(commitment: SigningCommitment): SigningNonces {
    this.#usable();
    const { key, nonces } = this.#book.take(commitment);
    // The "used" record is bookkeeping, not safety (the nonce is gone from memory
    // either way), so the share is not held back for its fsync.
    this.#log.append(record(KIND_USED, Buffer.from(key, 'hex'))).catch((err: unknown) => this.#fail(err));
    return nonces;
  }

  burn(commitment: SigningCommitment): void {
    this.#book.burn(commitment);
  }

  /** Wipes every unused nonce and closes the log. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#book.burnAll();
    await this.#log.close();
  }

  #usable(): void {
    if (this.#closed) throw new ThresholdError('ABORTED', `nonce store ${this.dir}: closed`);
    if (this.#failure !== null) throw this.#failure;
  }

  #fail(err: unknown): void {
    this.#failure ??= new ThresholdError('ABORTED', `nonce store ${this.dir}: the log failed, no more commitments`, undefined, { cause: err });
  }
}

function record(kind: number, id: Uint8Array): Uint8Array {
  const r = new Uint8Array(1 + ID_BYTES);
  r[0] = kind;
  r.set(id, 1);
  return r;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
