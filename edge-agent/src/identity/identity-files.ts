/**
 * The board's identity on disk: the secret key sealed in the keystore under
 * "identity", the public part in `<dir>/identity.json` for anyone to read.
 */
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock, type Clock } from '../clock/index.js';
import { SchemaError, int, object, refine, text } from '../schema/index.js';
import { readSmallFile, writeFileAtomic } from '../store/index.js';
import { IdentityError } from './errors.js';
import { toHex } from './format.js';
import { generateKeyPair, isValidPublicKey, peerIdOf, publicKeyOf } from './keys.js';
import { Keystore } from './keystore.js';
import type { ScryptParams } from './keystore-format.js';
import { localIdentity, type LocalIdentity } from './local-identity.js';
import { MAX_POW_DIFFICULTY, solvePow, verifyPow } from './pow.js';

export const IDENTITY_FILE = 'identity.json';
/** Name of the secret key in the keystore. */
export const IDENTITY_KEY_NAME = 'identity';
const MAX_IDENTITY_FILE_BYTES = 4096;

export interface CreateIdentityOptions {
  /** Leading zero bits the proof of work must reach (see DEFAULT_POW_DIFFICULTY). */
  difficulty: number;
  passphrase?: Uint8Array;
  onProgress?(attempts: number, hashesPerSec: number): void;
  signal?: AbortSignal;
  /** Source of createdAt; the system clock by default. */
  clock?: Clock;
  /** FOR TESTS ONLY: cheaper scrypt for the keystore write (see KeystoreOptions.scrypt). */
  scrypt?: ScryptParams;
}

export interface LoadIdentityOptions {
  passphrase?: Uint8Array;
}

const identityRecord = object({
  publicKey: text({ pattern: /^0[23][0-9a-f]{64}$/, hint: 'a compressed public key as 66 lowercase hex characters' }),
  peerId: text({ pattern: /^[0-9a-f]{64}$/, hint: '64 lowercase hex characters' }),
  powNonce: text({ pattern: /^[0-9a-f]{16}$/, hint: '16 lowercase hex characters' }),
  powDifficulty: int({ min: 0, max: MAX_POW_DIFFICULTY }),
  createdAt: refine(text({ max: 40 }), 'an ISO 8601 date and time', (s) => Number.isFinite(Date.parse(s))),
});

function requireDir(dir: unknown): string {
  if (typeof dir !== 'string' || dir === '') throw new IdentityError('BAD_ARGUMENT', 'identity directory must be a non-empty string');
  return dir;
}

/** Contents of `file` as text, or undefined if it does not exist. */
async function readSmallText(file: string): Promise<string | undefined> {
  const bytes = await readSmallFile(file, {
    maxBytes: MAX_IDENTITY_FILE_BYTES,
    tooLarge: (size) => new IdentityError('CORRUPT', `${file} is ${size} bytes, too large for an identity file`),
  });
  return bytes?.toString('utf8');
}

async function refuseExisting(file: string): Promise<void> {
  try {
    await lstat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  throw new IdentityError('EXISTS', `an identity already exists at ${file}; refusing to replace it`);
}

/**
 * Generates a key pair, solves its proof of work, seals the secret key in the
 * keystore (created if needed) and writes identity.json. Refuses with
 * IdentityError('EXISTS') if either already holds an identity.
 */
export async function createIdentity(dir: string, opts: CreateIdentityOptions): Promise<LocalIdentity> {
  requireDir(dir);
  if (typeof opts !== 'object' || opts === null) throw new IdentityError('BAD_ARGUMENT', 'createIdentity: options are required');
  const { difficulty, passphrase, onProgress, signal, clock = systemClock, scrypt } = opts;
  if (typeof clock?.now !== 'function') throw new IdentityError('BAD_ARGUMENT', 'createIdentity: clock must have a now() method');
  const file = join(dir, IDENTITY_FILE);
  await refuseExisting(file); // before the search, not to waste it
  const { secretKey, publicKey } = generateKeyPair();
  try {
    const nonce = await solvePow(publicKey, difficulty, { onProgress, signal });
    const store = await Keystore.open(dir, { passphrase, create: true, scrypt });
    try {
      if (store.has(IDENTITY_KEY_NAME)) {
        throw new IdentityError('EXISTS', `keystore ${store.path} already holds an identity key; refusing to replace it`);
      }
      await refuseExisting(file);
      await store.set(IDENTITY_KEY_NAME, secretKey);
      const record = {
        publicKey: toHex(publicKey),
        peerId: toHex(peerIdOf(publicKey)),
        powNonce: toHex(nonce),
        powDifficulty: difficulty,
        createdAt: new Date(clock.now()).toISOString(),
      };
      try {
        await writeFileAtomic(file, Buffer.from(`${JSON.stringify(record, null, 2)}\n`, 'utf8'), { mode: 0o644 });
      } catch (err) {
        // Leave no key behind that no identity.json describes.
        await store.delete(IDENTITY_KEY_NAME).catch(() => {});
        throw err;
      }
    } finally {
      store.close();
    }
    return localIdentity(secretKey, publicKey, { nonce, difficulty });
  } catch (err) {
    secretKey.fill(0);
    throw err;
  }
}

/**
 * Reads identity.json and the identity key, and checks that they agree: the
 * peer id is the hash of the public key, the proof of work holds, and the
 * secret key is the public key's.
 */
export async function loadIdentity(dir: string, opts: LoadIdentityOptions = {}): Promise<LocalIdentity> {
  requireDir(dir);
  const file = join(dir, IDENTITY_FILE);
  const json = await readSmallText(file);
  if (json === undefined) throw new IdentityError('NOT_FOUND', `there is no identity at ${file}`);
  let record;
  try {
    record = identityRecord.parse(JSON.parse(json));
  } catch (err) {
    if (!(err instanceof SyntaxError || err instanceof SchemaError)) throw err;
    throw new IdentityError('CORRUPT', `${file} is not a valid identity file: ${err.message}`, { cause: err });
  }
  const publicKey = new Uint8Array(Buffer.from(record.publicKey, 'hex'));
  if (!isValidPublicKey(publicKey)) throw new IdentityError('CORRUPT', `publicKey in ${file} is not a point on secp256k1`);
  if (toHex(peerIdOf(publicKey)) !== record.peerId) throw new IdentityError('CORRUPT', `peerId in ${file} is not the hash of its publicKey`);
  const nonce = new Uint8Array(Buffer.from(record.powNonce, 'hex'));
  if (!verifyPow(publicKey, nonce, record.powDifficulty)) {
    throw new IdentityError('BAD_POW', `the proof of work in ${file} does not reach its difficulty ${record.powDifficulty}`);
  }

  const store = await Keystore.open(dir, { passphrase: opts.passphrase });
  let secretKey: Uint8Array | undefined;
  try {
    secretKey = store.get(IDENTITY_KEY_NAME);
  } finally {
    store.close();
  }
  if (secretKey === undefined) throw new IdentityError('NOT_FOUND', `keystore ${store.path} holds no identity key for ${file}`);
  let derived: Uint8Array;
  try {
    derived = publicKeyOf(secretKey);
  } catch (err) {
    secretKey.fill(0);
    throw new IdentityError('CORRUPT', `the identity key in keystore ${store.path} is not a valid secret key`, { cause: err });
  }
  if (!Buffer.from(derived).equals(publicKey)) {
    secretKey.fill(0);
    throw new IdentityError('KEY_MISMATCH', `the identity key in keystore ${store.path} does not belong to the publicKey in ${file}`);
  }
  return localIdentity(secretKey, publicKey, { nonce, difficulty: record.powDifficulty });
}
