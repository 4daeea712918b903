/**
 * Encrypted key-value storage for one record, as in Phala's confidential
 * contracts: the record's storage key (one per epoch, see keyring.ts) derives
 * one key per stored key, HKDF-SHA256(storageKey, salt = record id, info =
 * (record, epoch, entry key)), and each write seals the value under it with
 * AES-256-GCM and a fresh nonce. Rotation starts a new epoch; entries move to
 * it lazily, when read or written (or through migrate()), and epochsInUse()
 * says which old keys are still needed.
 *
 * Layout: `<dir>/keys/epoch-<n>.key` (0600) and `<dir>/entries/<sha256(key)>.entry`
 * (0600), each entry canonical CBOR { v, epoch, key, box } replaced atomically.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import * as s from '../schema/index.js';
import { fsyncDir, readSmallFile, writeFileAtomic } from '../store/index.js';
import { decodeCanonical, encodeCanonical, WireError } from '../wire/index.js';
import { storageInfo } from './context.js';
import { SealedError } from './errors.js';
import { Keyring, MAX_EPOCH } from './keyring.js';
import { MAX_ATTRIBUTE_BYTES, RECORD_ID_BYTES, requireBytes } from './limits.js';
import { SEAL_OVERHEAD, hkdf, open, seal, wipe } from './primitives.js';

const ENTRY_VERSION = 1;
/** Entry keys: short printable names such as `blob/<hex>` or `state/7`. */
const ENTRY_KEY = /^[A-Za-z0-9_.\-/]{1,200}$/;
const MAX_VALUE_BYTES = MAX_ATTRIBUTE_BYTES + 4096;
const MAX_ENTRY_FILE = MAX_VALUE_BYTES + SEAL_OVERHEAD + 512;

const entrySchema = s.object({
  v: s.oneOf([ENTRY_VERSION] as const),
  epoch: s.int({ min: 0, max: MAX_EPOCH }),
  key: s.text({ min: 1, max: 200, pattern: ENTRY_KEY }),
  box: s.bytes({ min: SEAL_OVERHEAD, max: MAX_VALUE_BYTES + SEAL_OVERHEAD }),
});
type Entry = s.Infer<typeof entrySchema>;

function requireEntryKey(key: unknown): string {
  if (typeof key !== 'string' || !ENTRY_KEY.test(key)) throw new SealedError('BAD_ARGUMENT', 'an entry key is 1 to 200 characters of A-Z a-z 0-9 _ . - /');
  return key;
}

function fileName(key: string): string {
  return `${createHash('sha256').update(key).digest('hex')}.entry`;
}

export class RecordStorage {
  readonly #record: Uint8Array;
  readonly #entriesDir: string;
  readonly #keyring: Keyring;
  /** Entry key → the epoch its stored value is sealed under. */
  readonly #index = new Map<string, number>();

  private constructor(record: Uint8Array, entriesDir: string, keyring: Keyring) {
    this.#record = record;
    this.#entriesDir = entriesDir;
    this.#keyring = keyring;
  }

  /** Opens (creating when absent) the storage of `record` in `dir`. */
  static async open(dir: string, record: Uint8Array): Promise<RecordStorage> {
    if (typeof dir !== 'string' || dir === '') throw new SealedError('BAD_ARGUMENT', 'storage dir must be a non-empty path');
    requireBytes(record, RECORD_ID_BYTES, 'record id');
    const keysDir = join(dir, 'keys');
    const entriesDir = join(dir, 'entries');
    await mkdir(keysDir, { recursive: true, mode: 0o700 });
    await mkdir(entriesDir, { recursive: true, mode: 0o700 });
    const storage = new RecordStorage(new Uint8Array(record), entriesDir, await Keyring.open(keysDir));
    for (const name of await readdir(entriesDir)) {
      if (!name.endsWith('.entry') || name.startsWith('.')) continue;
      const entry = await storage.#readFile(join(entriesDir, name));
      if (entry !== undefined) storage.#index.set(entry.key, entry.epoch);
    }
    return storage;
  }

  get currentEpoch(): number {
    return this.#keyring.current;
  }

  /** Entry keys held, sorted. */
  keys(): string[] {
    return [...this.#index.keys()].sort();
  }

  has(key: string): boolean {
    return this.#index.has(requireEntryKey(key));
  }

  /** Stores `value` under `key`, sealed under the current epoch. */
  async put(key: string, value: Uint8Array): Promise<void> {
    requireEntryKey(key);
    if (!(value instanceof Uint8Array) || value.length > MAX_VALUE_BYTES) throw new SealedError('BAD_ARGUMENT', `a stored value is a Uint8Array of at most ${MAX_VALUE_BYTES} bytes`);
    const epoch = this.#keyring.current;
    const k = this.#entryKey(epoch, key);
    let box: Uint8Array;
    try {
      box = seal(k, value, storageInfo(this.#record, epoch, key));
    } finally {
      wipe(k);
    }
    await writeFileAtomic(join(this.#entriesDir, fileName(key)), encodeCanonical({ v: ENTRY_VERSION, epoch, key, box }), { mode: 0o600 });
    this.#index.set(key, epoch);
  }

  /** The value under `key`, or undefined; an entry of an old epoch is re-sealed under the current one first. */
  async get(key: string): Promise<Uint8Array | undefined> {
    requireEntryKey(key);
    if (!this.#index.has(key)) return undefined;
    const entry = await this.#readFile(join(this.#entriesDir, fileName(key)));
    if (entry === undefined) {
      this.#index.delete(key);
      return undefined;
    }
    if (entry.key !== key) throw new SealedError('STORAGE', `the entry file for ${key} holds ${entry.key}`);
    const k = this.#entryKey(entry.epoch, key);
    let value: Uint8Array;
    try {
      value = open(k, entry.box, storageInfo(this.#record, entry.epoch, key), `stored entry ${key}`);
    } finally {
      wipe(k);
    }
    if (entry.epoch !== this.#keyring.current) await this.put(key, value); // lazy rotation
    return value;
  }

  async delete(key: string): Promise<void> {
    requireEntryKey(key);
    if (!this.#index.has(key)) return;
    await unlink(join(this.#entriesDir, fileName(key))).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await fsyncDir(this.#entriesDir);
    this.#index.delete(key);
  }

  /** Starts a new storage-key epoch; entries follow lazily. */
  rotate(): Promise<number> {
    return this.#keyring.rotate();
  }

  /** Epochs some entry is still sealed under, plus the current one, ascending. */
  epochsInUse(): number[] {
    const used = new Set(this.#index.values());
    used.add(this.#keyring.current);
    return [...used].sort((a, b) => a - b);
  }

  /** Epochs whose keys are held on disk, ascending. */
  epochsHeld(): number[] {
    return this.#keyring.epochs;
  }

  /** Re-seals up to `limit` entries of old epochs now (the "over time" half of rotation); returns how many. */
  async migrate(limit = Infinity): Promise<number> {
    let done = 0;
    const current = this.#keyring.current;
    for (const [key, epoch] of [...this.#index]) {
      if (done >= limit) break;
      if (epoch === current) continue;
      const value = await this.get(key);
      wipe(value);
      done++;
    }
    return done;
  }

  /** Deletes the keys of old epochs no entry uses any more; returns the epochs dropped. */
  async dropUnusedEpochs(): Promise<number[]> {
    const used = new Set(this.epochsInUse());
    const dropped: number[] = [];
    for (const epoch of this.#keyring.epochs) {
      if (used.has(epoch)) continue;
      await this.#keyring.drop(epoch);
      dropped.push(epoch);
    }
    return dropped;
  }

  /** Wipes the storage keys held in memory. */
  close(): void {
    this.#keyring.close();
  }

  #entryKey(epoch: number, key: string): Uint8Array {
    // salt = record id: the derivation must be the same on every read (one key per stored key),
    // the randomness of each write is its AEAD nonce.
    return hkdf(this.#keyring.key(epoch), this.#record, storageInfo(this.#record, epoch, key));
  }

  async #readFile(path: string): Promise<Entry | undefined> {
    const bytes = await readSmallFile(path, {
      maxBytes: MAX_ENTRY_FILE,
      tooLarge: (size) => new SealedError('STORAGE', `${path}: ${size} bytes is more than an entry may hold`),
    });
    if (bytes === undefined) return undefined;
    try {
      return entrySchema.parse(decodeCanonical(bytes, { maxBytes: MAX_ENTRY_FILE, maxDepth: 2, maxItems: 8, maxStringBytes: MAX_ENTRY_FILE }), 'entry');
    } catch (err) {
      if (err instanceof WireError || err instanceof s.SchemaError) throw new SealedError('STORAGE', `${path}: ${err.message}`, { cause: err });
      throw err;
    }
  }
}
