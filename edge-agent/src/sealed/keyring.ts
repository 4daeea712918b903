/**
 * A record's storage keys on disk, one per epoch: `<dir>/epoch-<n>.key`, 32
 * random bytes, mode 0600, created atomically (never replaced). The newest
 * epoch is the current one; older ones stay until no entry uses them.
 */
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createFileAtomic, fsyncDir, readSmallFile } from '../store/index.js';
import { SealedError } from './errors.js';
import { KEY_BYTES, freshBytes, wipe } from './primitives.js';

const KEY_FILE = /^epoch-(\d{1,9})\.key$/;
export const MAX_EPOCH = 999_999_999;

function keyFile(dir: string, epoch: number): string {
  return join(dir, `epoch-${epoch}.key`);
}

async function readKey(path: string): Promise<Uint8Array> {
  const bytes = await readSmallFile(path, {
    maxBytes: KEY_BYTES,
    tooLarge: (size) => new SealedError('STORAGE', `${path}: ${size} bytes, a storage key is ${KEY_BYTES}`),
    inspect: (stat) => {
      if (!stat.isFile()) throw new SealedError('STORAGE', `${path} is not a regular file`);
      // A key others can read is a key that leaked: refuse rather than keep using it.
      if ((stat.mode & 0o077) !== 0) throw new SealedError('STORAGE', `${path} is readable by group or others (mode ${(stat.mode & 0o777).toString(8)}), want 0600`);
    },
  });
  if (bytes === undefined || bytes.length !== KEY_BYTES) {
    bytes?.fill(0);
    throw new SealedError('STORAGE', `${path}: missing or not ${KEY_BYTES} bytes`);
  }
  const key = new Uint8Array(bytes);
  bytes.fill(0);
  return key;
}

export class Keyring {
  readonly #dir: string;
  readonly #keys = new Map<number, Uint8Array>();
  #closed = false;

  private constructor(dir: string) {
    this.#dir = dir;
  }

  /** Loads every epoch key in `dir` (which must exist), creating epoch 0 when there is none. */
  static async open(dir: string): Promise<Keyring> {
    const ring = new Keyring(dir);
    for (const name of await readdir(dir)) {
      const m = KEY_FILE.exec(name);
      if (m === null) continue;
      ring.#keys.set(Number(m[1]), await readKey(join(dir, name)));
    }
    if (ring.#keys.size === 0) await ring.#create(0);
    return ring;
  }

  get current(): number {
    this.#requireOpen();
    return Math.max(...this.#keys.keys());
  }

  /** Epochs whose keys are held, ascending. */
  get epochs(): number[] {
    return [...this.#keys.keys()].sort((a, b) => a - b);
  }

  /** The key of `epoch` (not a copy: callers derive from it and never keep it). */
  key(epoch: number): Uint8Array {
    this.#requireOpen();
    const key = this.#keys.get(epoch);
    if (key === undefined) throw new SealedError('UNKNOWN_EPOCH', `no storage key for epoch ${epoch} in ${this.#dir}`);
    return key;
  }

  /** Starts a new epoch: writes its key and makes it current. */
  async rotate(): Promise<number> {
    this.#requireOpen();
    const next = this.current + 1;
    if (next > MAX_EPOCH) throw new SealedError('STORAGE', 'storage-key epochs exhausted');
    await this.#create(next);
    return next;
  }

  /** Deletes the key of an old epoch (the caller checked no entry uses it); its data is then unreadable. */
  async drop(epoch: number): Promise<void> {
    this.#requireOpen();
    if (epoch === this.current) throw new SealedError('BAD_ARGUMENT', 'the current epoch key cannot be dropped');
    const key = this.#keys.get(epoch);
    if (key === undefined) return;
    await unlink(keyFile(this.#dir, epoch));
    await fsyncDir(this.#dir);
    wipe(key);
    this.#keys.delete(epoch);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const key of this.#keys.values()) wipe(key);
    this.#keys.clear();
  }

  async #create(epoch: number): Promise<void> {
    const key = freshBytes(KEY_BYTES);
    if (!(await createFileAtomic(keyFile(this.#dir, epoch), key, { mode: 0o600 }))) {
      wipe(key);
      throw new SealedError('STORAGE', `${keyFile(this.#dir, epoch)} already exists`);
    }
    this.#keys.set(epoch, key);
  }

  #requireOpen(): void {
    if (this.#closed) throw new SealedError('CLOSED', 'the keyring was closed');
  }
}
