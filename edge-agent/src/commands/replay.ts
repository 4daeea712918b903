/**
 * ReplayGuard: the nonces of accepted commands, remembered until they expire, on disk
 * before the command runs, so a command that restarts the agent cannot be replayed after
 * the restart.
 *
 * - Each accepted nonce stays until expiresAt + maxSkewMs: by then the command is refused as
 *   EXPIRED anyway, with a margin for a clock stepped back a little.
 * - A clock stepped back further (a board without a real-time clock restoring an old time after
 *   a power cut) would make a forgotten command look unexpired again. So the guard keeps a
 *   horizon, the latest now - maxSkewMs it pruned at, in the file too: a command expiring at or
 *   before it may have been forgotten and is refused. A right clock is past it anyway.
 * - The cache is bounded (capacity). Expired entries are pruned at each admission; if it is still
 *   full the new command is refused (REPLAY_CACHE_FULL): evicting an unexpired nonce would allow its replay.
 * - Lost memory: a damaged file cannot say which nonces it held. Those commands were accepted at
 *   some agent time t < T (T: now, at recovery), so issuedAt <= t + skew and they expire within
 *   maxLifetime of issuedAt. Refusing every command issued before W = T + maxLifetime + maxSkew
 *   refuses them all, even if the clock stepped back by up to maxLifetime across the restart.
 *   W is kept in the new file. The price: no command is accepted for about maxLifetime after a recovery.
 * - A missing file is a first start (empty cache). Removing the file is therefore as good as
 *   removing the protection; it lives in the state directory, writable only by the agent.
 * Admissions are checked and reserved synchronously, then written in batches (one write at a
 * time, each writing everything reserved before it started), so two copies of one command
 * arriving together cannot both pass and an older snapshot never overwrites a newer one.
 */
import { rename } from 'node:fs/promises';
import type { Clock } from '../clock/index.js';
import { toHex } from '../identity/index.js';
import { readSmallFile, writeFileAtomic } from '../store/index.js';
import { CommandError } from './errors.js';
import { NONCE_LENGTH } from './format.js';
import { intOption, lifetimeOption, skewOption } from './policy.js';
import { MAX_REPLAY_CAPACITY, MAX_REPLAY_FILE_BYTES, decodeReplayFile, encodeReplayFile } from './replay-file.js';

export const DEFAULT_REPLAY_CAPACITY = 10_000;
/** A damaged replay file is kept beside the new one under this suffix, for inspection. */
export const CORRUPT_SUFFIX = '.corrupt';
const FILE_MODE = 0o600;

export interface ReplayGuardOptions {
  readonly clock: Clock;
  /** The replay file; absent: memory only (tests, tools), nothing survives a restart. */
  readonly path?: string;
  /** Most unexpired nonces remembered; default 10,000. */
  readonly capacity?: number;
  /** The longest lifetime the verifier accepts; sets the recovery watermark. Default 10 min. */
  readonly maxLifetimeMs?: number;
  /** The verifier's allowed skew; entries are kept this long past their expiry. Default 30 s. */
  readonly maxSkewMs?: number;
  /** On a damaged file: 'recover' (default) with a watermark, or 'throw' CORRUPT_REPLAY_FILE. */
  readonly onCorrupt?: 'recover' | 'throw';
}

/** What open() did about a damaged replay file. */
export interface ReplayRecovery {
  /** Why the file was not trusted (code CORRUPT_REPLAY_FILE). */
  readonly error: CommandError;
  /** Commands issued before this time are refused as REPLAYED. */
  readonly watermark: number;
  /** Where the damaged file was moved. */
  readonly movedTo: string;
}

export type Admission =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'REPLAYED' | 'REPLAY_CACHE_FULL' | 'REPLAY_STORE_FAILED'; readonly message: string };

function ioError(path: string, action: string, err: unknown): CommandError {
  if (err instanceof CommandError) return err;
  return new CommandError('IO', `replay file ${path}: ${action} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

export class ReplayGuard {
  readonly clock: Clock;
  readonly path: string | undefined;
  readonly capacity: number;
  readonly maxLifetimeMs: number;
  readonly maxSkewMs: number;
  #watermark = 0;
  #horizon = 0;
  /** Nonce (lowercase hex) → expiresAt. */
  #entries = new Map<string, number>();
  #closed = false;
  /** The write new admissions join: queued, not yet started. */
  #queued: Promise<void> | null = null;
  /** The last write started; the next one waits for it. */
  #tail: Promise<void> = Promise.resolve();

  private constructor(opts: ReplayGuardOptions) {
    this.clock = opts.clock;
    this.path = opts.path;
    this.capacity = intOption('capacity', opts.capacity, DEFAULT_REPLAY_CAPACITY, 1, MAX_REPLAY_CAPACITY);
    this.maxLifetimeMs = lifetimeOption(opts.maxLifetimeMs);
    this.maxSkewMs = skewOption(opts.maxSkewMs);
  }

  /**
   * Loads the guard from its file (creating the file on first start, so a directory that
   * cannot be written fails here rather than at the first command). Throws CommandError:
   * IO, BAD_ARGUMENT, or CORRUPT_REPLAY_FILE when onCorrupt is 'throw'.
   */
  static async open(opts: ReplayGuardOptions): Promise<{ guard: ReplayGuard; recovery: ReplayRecovery | null }> {
    if (typeof opts !== 'object' || opts === null) throw new CommandError('BAD_ARGUMENT', 'ReplayGuard.open: options must be an object');
    const { clock, path, onCorrupt = 'recover' } = opts;
    if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') {
      throw new CommandError('BAD_ARGUMENT', 'ReplayGuard.open: clock must be a Clock');
    }
    if (path !== undefined && (typeof path !== 'string' || path === '')) {
      throw new CommandError('BAD_ARGUMENT', 'ReplayGuard.open: path must be a non-empty string');
    }
    if (onCorrupt !== 'recover' && onCorrupt !== 'throw') {
      throw new CommandError('BAD_ARGUMENT', `ReplayGuard.open: onCorrupt must be 'recover' or 'throw', got ${String(onCorrupt)}`);
    }
    const guard = new ReplayGuard(opts);
    if (path === undefined) return { guard, recovery: null };

    let error: CommandError;
    try {
      const data = await readSmallFile(path, {
        maxBytes: MAX_REPLAY_FILE_BYTES,
        tooLarge: (size) => new CommandError('CORRUPT_REPLAY_FILE', `replay file ${path}: ${size} bytes, larger than any replay file`),
        inspect: (stat) => {
          if (!stat.isFile()) throw new CommandError('IO', `replay file ${path}: not a regular file`);
        },
      });
      if (data === undefined) {
        await guard.#write();
        return { guard, recovery: null };
      }
      const state = decodeReplayFile(data, path);
      guard.#watermark = state.watermark;
      guard.#horizon = state.horizon;
      guard.#entries = new Map(state.entries);
      guard.#prune(clock.now());
      return { guard, recovery: null };
    } catch (err) {
      if (!(err instanceof CommandError && err.code === 'CORRUPT_REPLAY_FILE')) throw ioError(path, 'reading', err);
      error = err;
    }
    if (onCorrupt === 'throw') throw error;
    const movedTo = path + CORRUPT_SUFFIX;
    try {
      await rename(path, movedTo);
    } catch (err) {
      throw ioError(path, `moving the damaged file to ${movedTo}`, err);
    }
    guard.#watermark = Math.ceil(clock.now()) + guard.maxLifetimeMs + guard.maxSkewMs;
    guard.#prune(clock.now());
    await guard.#write();
    return { guard, recovery: { error, watermark: guard.#watermark, movedTo } };
  }

  /** Commands issued before this time are refused (0: none); set by a recovery. */
  get watermark(): number {
    return this.#watermark;
  }

  /** Commands expiring at or before this time are refused: their nonces may have been pruned. */
  get horizon(): number {
    return this.#horizon;
  }

  /** Nonces remembered, expired ones not yet pruned included. */
  get size(): number {
    return this.#entries.size;
  }

  has(nonce: Uint8Array): boolean {
    return this.#entries.has(toHex(requireNonce(nonce)));
  }

  /**
   * Accepts the nonce of a command that passed every other check, and resolves once it is
   * durable; refuses it if seen (or possibly seen) before, or if the cache is full. A write
   * that fails forgets the nonce again (the command is not run, so it may be sent again).
   */
  async admit(nonce: Uint8Array, issuedAt: number, expiresAt: number): Promise<Admission> {
    if (this.#closed) throw new CommandError('CLOSED', 'the replay guard is closed');
    const key = toHex(requireNonce(nonce));
    time('issuedAt', issuedAt);
    time('expiresAt', expiresAt);
    if (this.#entries.has(key)) return { ok: false, reason: 'REPLAYED', message: `nonce ${key} was accepted before` };
    if (issuedAt < this.#watermark) {
      return {
        ok: false,
        reason: 'REPLAYED',
        message: `issued at ${issuedAt}, before ${this.#watermark}: the replay file was lost, so a command issued before then may have run already`,
      };
    }
    this.#prune(this.clock.now());
    if (expiresAt <= this.#horizon) {
      return {
        ok: false,
        reason: 'REPLAYED',
        message: `expires at ${expiresAt}, but this agent's clock already read ${this.#horizon + this.maxSkewMs} (it has gone back since), so its nonce may have been forgotten`,
      };
    }
    if (this.#entries.size >= this.capacity) {
      return { ok: false, reason: 'REPLAY_CACHE_FULL', message: `the replay cache holds ${this.capacity} unexpired nonces` };
    }
    this.#entries.set(key, expiresAt);
    if (this.path === undefined) return { ok: true };
    try {
      await this.#persist();
      return { ok: true };
    } catch (err) {
      this.#entries.delete(key);
      return { ok: false, reason: 'REPLAY_STORE_FAILED', message: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Waits for writes under way; admit() throws CLOSED afterwards. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#tail.catch(() => {});
  }

  #prune(now: number): void {
    this.#horizon = Math.max(this.#horizon, Math.floor(now) - this.maxSkewMs);
    for (const [key, expiresAt] of this.#entries) {
      if (expiresAt <= this.#horizon) this.#entries.delete(key);
    }
  }

  #persist(): Promise<void> {
    if (this.#queued !== null) return this.#queued;
    const previous = this.#tail;
    const run = async (): Promise<void> => {
      await previous.catch(() => {});
      this.#queued = null; // from here on, new admissions wait for the next write
      await this.#write();
    };
    const write = run();
    this.#queued = write;
    this.#tail = write;
    return write;
  }

  async #write(): Promise<void> {
    const path = this.path!;
    const data = encodeReplayFile({ watermark: this.#watermark, horizon: this.#horizon, entries: this.#entries });
    try {
      await writeFileAtomic(path, data, { mode: FILE_MODE });
    } catch (err) {
      throw ioError(path, 'writing', err);
    }
  }
}

function requireNonce(nonce: unknown): Uint8Array {
  if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_LENGTH) {
    throw new CommandError('BAD_ARGUMENT', `a nonce must be ${NONCE_LENGTH} bytes`);
  }
  return nonce;
}

function time(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new CommandError('BAD_ARGUMENT', `${name} must be a whole number of milliseconds, got ${String(value)}`);
  }
}
