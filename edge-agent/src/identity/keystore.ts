/**
 * A small encrypted store of named secrets at rest: `<dir>/keystore.bin`
 * (format in keystore-format.ts), sealed under scrypt(device secret ‖ passphrase)
 * and rewritten atomically, with a fresh salt and nonce, on every change.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readSmallFile, writeFileAtomic } from '../store/index.js';
import { decodeBounded, encodeCanonical } from '../wire/index.js';
import { createDeviceSecret, readDeviceSecret } from './device-secret.js';
import { KeystoreError } from './errors.js';
import {
  DEFAULT_SCRYPT,
  MAX_CIPHERTEXT_LENGTH,
  MAX_FILE_LENGTH,
  openKeystore,
  parseKeystore,
  scryptParamsProblem,
  sealKeystore,
  type ScryptParams,
} from './keystore-format.js';

export const KEYSTORE_FILE = 'keystore.bin';
export const DEVICE_SECRET_FILE = 'device.secret';
export const MAX_SECRETS = 64;
export const MAX_SECRET_BYTES = 16 * 1024;
const MAX_PASSPHRASE_BYTES = 1024;
// Short and printable; a leading letter or digit also keeps out '__proto__', which CBOR decoding refuses.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface KeystoreOptions {
  /** Mixed into the key after the device secret; copied, and wiped by close(). */
  passphrase?: Uint8Array;
  /** Create the directory, device secret and an empty keystore when there is no keystore yet. */
  create?: boolean;
  /**
   * scrypt cost for the writes this instance makes. FOR TESTS ONLY, to keep them
   * fast: leave it out everywhere else, the default is the real cost. Reads always
   * use the parameters recorded in the file.
   */
  scrypt?: ScryptParams;
}

function requireName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new KeystoreError(
      'BAD_ARGUMENT',
      `secret name ${JSON.stringify(String(name)).slice(0, 80)} must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit`,
    );
  }
  return name;
}

/** The file's bytes, or undefined if it does not exist; refuses files larger than any keystore. */
function readKeystoreFile(path: string): Promise<Buffer | undefined> {
  return readSmallFile(path, {
    maxBytes: MAX_FILE_LENGTH,
    tooLarge: (size) => new KeystoreError('TOO_LARGE', `keystore ${path} is ${size} bytes, more than any keystore (${MAX_FILE_LENGTH})`),
  });
}

/** Authenticated plaintext → name → secret, each secret a fresh copy; wipes what the decoder produced. */
function decodeSecrets(plaintext: Uint8Array, file: string): Map<string, Uint8Array> {
  const corrupt = (why: string, cause?: unknown): KeystoreError =>
    new KeystoreError('CORRUPT', `keystore ${file} decrypted but ${why}`, { cause });
  let decoded: unknown;
  try {
    decoded = decodeBounded(plaintext, { maxBytes: MAX_CIPHERTEXT_LENGTH, maxDepth: 1, maxItems: MAX_SECRETS, maxStringBytes: MAX_SECRET_BYTES });
  } catch (err) {
    throw corrupt('its contents are not valid CBOR within the keystore limits', err);
  }
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded) || decoded instanceof Uint8Array) {
    throw corrupt('its contents are not a map of names to secrets');
  }
  const entries = Object.entries(decoded);
  const secrets = new Map<string, Uint8Array>();
  try {
    for (const [name, value] of entries) {
      if (!NAME.test(name)) throw corrupt(`it holds a secret with the invalid name ${JSON.stringify(name).slice(0, 80)}`);
      if (!(value instanceof Uint8Array)) throw corrupt(`its secret "${name}" is not a byte string`);
      secrets.set(name, Uint8Array.from(value));
    }
  } catch (err) {
    for (const secret of secrets.values()) secret.fill(0);
    throw err;
  } finally {
    for (const [, value] of entries) if (value instanceof Uint8Array) value.fill(0);
  }
  return secrets;
}

export class Keystore {
  /** Path of the keystore file. */
  readonly path: string;
  readonly #params: ScryptParams;
  /** device secret ‖ passphrase: the scrypt password. */
  readonly #password: Buffer;
  #secrets: Map<string, Uint8Array>;
  #closed = false;
  /** Writes run one after another, so the file always ends with the latest state. */
  #tail: Promise<void> = Promise.resolve();

  private constructor(path: string, password: Buffer, secrets: Map<string, Uint8Array>, params: ScryptParams) {
    this.path = path;
    this.#password = password;
    this.#secrets = secrets;
    this.#params = params;
  }

  /**
   * Opens the keystore in `dir`. Without `create`, a missing keystore is
   * KeystoreError('NOT_FOUND'); with it, the directory (0700), the device
   * secret and an empty keystore are created as needed.
   */
  static async open(dir: string, opts: KeystoreOptions = {}): Promise<Keystore> {
    if (typeof dir !== 'string' || dir === '') throw new KeystoreError('BAD_ARGUMENT', 'keystore directory must be a non-empty string');
    const { passphrase, create = false, scrypt = DEFAULT_SCRYPT } = opts;
    if (passphrase !== undefined && (!(passphrase instanceof Uint8Array) || passphrase.length > MAX_PASSPHRASE_BYTES)) {
      throw new KeystoreError('BAD_ARGUMENT', `passphrase for keystore in ${dir} must be a Uint8Array of at most ${MAX_PASSPHRASE_BYTES} bytes`);
    }
    if (typeof create !== 'boolean') throw new KeystoreError('BAD_ARGUMENT', `option create for keystore in ${dir} must be true or false`);
    const problem = typeof scrypt === 'object' && scrypt !== null ? scryptParamsProblem(scrypt) : 'scrypt option is not an object';
    if (problem !== null) throw new KeystoreError('BAD_ARGUMENT', `keystore in ${dir}: ${problem}`);
    const params: ScryptParams = { logN: scrypt.logN, r: scrypt.r, p: scrypt.p };

    const path = join(dir, KEYSTORE_FILE);
    const secretPath = join(dir, DEVICE_SECRET_FILE);
    const bytes = await readKeystoreFile(path);
    if (bytes !== undefined) {
      const sealed = parseKeystore(bytes, path);
      const deviceSecret = await readDeviceSecret(secretPath);
      if (deviceSecret === undefined) {
        throw new KeystoreError('DEVICE_SECRET_MISSING', `keystore ${path} exists but its device secret ${secretPath} is missing, so it cannot be opened`);
      }
      const password = passwordOf(deviceSecret, passphrase);
      try {
        const plaintext = await openKeystore(sealed, password, path);
        try {
          return new Keystore(path, password, decodeSecrets(plaintext, path), params);
        } finally {
          plaintext.fill(0);
        }
      } catch (err) {
        password.fill(0);
        throw err;
      }
    }
    if (!create) throw new KeystoreError('NOT_FOUND', `there is no keystore at ${path}`);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const deviceSecret = (await readDeviceSecret(secretPath)) ?? (await createDeviceSecret(secretPath));
    const store = new Keystore(path, passwordOf(deviceSecret, passphrase), new Map(), params);
    try {
      await store.#write(new Map());
    } catch (err) {
      store.close();
      throw err;
    }
    return store;
  }

  /** A copy of the secret called `name`, or undefined. */
  get(name: string): Uint8Array | undefined {
    this.#requireOpen();
    const secret = this.#secrets.get(requireName(name));
    return secret === undefined ? undefined : Uint8Array.from(secret);
  }

  has(name: string): boolean {
    this.#requireOpen();
    return this.#secrets.has(requireName(name));
  }

  /** Names of all secrets, sorted. */
  names(): string[] {
    this.#requireOpen();
    return [...this.#secrets.keys()].sort();
  }

  /** Stores a copy of `secret` under `name` and persists; resolves once the file is durable. */
  async set(name: string, secret: Uint8Array): Promise<void> {
    this.#requireOpen();
    requireName(name);
    if (!(secret instanceof Uint8Array) || secret.length > MAX_SECRET_BYTES) {
      throw new KeystoreError('BAD_ARGUMENT', `secret "${name}" for ${this.path} must be a Uint8Array of at most ${MAX_SECRET_BYTES} bytes`);
    }
    return this.#commit(name, Uint8Array.from(secret));
  }

  /** Removes `name` (nothing to do if absent) and persists. */
  async delete(name: string): Promise<void> {
    this.#requireOpen();
    requireName(name);
    return this.#commit(name, undefined);
  }

  /**
   * Wipes every secret held in memory and the password (device secret and
   * passphrase copy). Derived keys and plaintexts are never kept: they are
   * wiped as soon as each read or write is done. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const secret of this.#secrets.values()) secret.fill(0);
    this.#secrets = new Map();
    this.#password.fill(0);
  }

  #requireOpen(): void {
    if (this.#closed) throw new KeystoreError('CLOSED', `keystore ${this.path} was closed`);
  }

  /** Queues a change: write the new state, then adopt it and wipe what it replaced. `value` is ours to wipe on failure. */
  #commit(name: string, value: Uint8Array | undefined): Promise<void> {
    const run = this.#tail.then(async () => {
      if (this.#closed) {
        value?.fill(0);
        throw new KeystoreError('CLOSED', `keystore ${this.path} was closed before "${name}" could be saved`);
      }
      if (value === undefined && !this.#secrets.has(name)) return;
      if (value !== undefined && !this.#secrets.has(name) && this.#secrets.size >= MAX_SECRETS) {
        value.fill(0);
        throw new KeystoreError('FULL', `keystore ${this.path} already holds the maximum of ${MAX_SECRETS} secrets`);
      }
      const next = new Map(this.#secrets);
      if (value === undefined) next.delete(name);
      else next.set(name, value);
      try {
        await this.#write(next);
      } catch (err) {
        value?.fill(0);
        throw err;
      }
      if (this.#closed) {
        value?.fill(0); // saved, but close() came first and has wiped the rest
        return;
      }
      const replaced = this.#secrets.get(name);
      this.#secrets = next;
      replaced?.fill(0);
    });
    this.#tail = run.catch(() => {});
    return run;
  }

  async #write(secrets: Map<string, Uint8Array>): Promise<void> {
    const plaintext = encodeCanonical(secrets);
    try {
      const sealed = await sealKeystore(plaintext, this.#password, this.#params);
      await writeFileAtomic(this.path, sealed, { mode: 0o600 });
    } finally {
      plaintext.fill(0); // also clears it from the encoder's reused buffer
    }
  }
}

/** device secret ‖ passphrase in a buffer of its own (not Node's shared pool); wipes the device secret it was given. */
function passwordOf(deviceSecret: Buffer, passphrase: Uint8Array | undefined): Buffer {
  const password = Buffer.alloc(deviceSecret.length + (passphrase?.length ?? 0));
  password.set(deviceSecret, 0);
  if (passphrase !== undefined) password.set(passphrase, deviceSecret.length);
  deviceSecret.fill(0);
  return password;
}
