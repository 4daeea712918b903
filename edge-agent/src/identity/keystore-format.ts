/**
 * The keystore file, version 1 (all integers big-endian):
 *
 *   offset size
 *        0    4  magic "EAKS"
 *        4    1  format version (1)
 *        5    1  scrypt log2(N)
 *        6    1  scrypt r
 *        7    1  scrypt p
 *        8   16  salt (fresh on every write)
 *       24   12  AES-GCM nonce (fresh on every write)
 *       36    4  ciphertext length
 *       40   32  key check = HMAC-SHA256(check key, bytes 0..39)
 *       72    n  AES-256-GCM ciphertext, bytes 0..39 as additional data
 *     72+n   16  GCM tag
 *
 * scrypt(device secret ‖ passphrase, salt) gives 64 bytes: the AES key, then the
 * check key. The check value lets a reader tell a wrong key (check fails) from
 * damaged contents (check passes, GCM fails) before trusting anything; since it
 * covers the header, a damaged header also reads as a wrong key.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { KeystoreError } from './errors.js';

const MAGIC = Buffer.from('EAKS', 'latin1');
const FORMAT_VERSION = 1;
const SALT_OFFSET = 8;
const SALT_LENGTH = 16;
const NONCE_OFFSET = 24;
const NONCE_LENGTH = 12;
const LENGTH_OFFSET = 36;
const HEADER_LENGTH = 40;
const CHECK_LENGTH = 32;
const TAG_LENGTH = 16;
const BODY_OFFSET = HEADER_LENGTH + CHECK_LENGTH;
const KEY_LENGTH = 32;

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

/**
 * ~76 ms per derivation here (Xeon VM at 2.0 GHz) and 128·N·r = 16 MiB of
 * memory, which a Pi Zero 2 W with 512 MB affords (est. 0.5-1 s there).
 * N = 2^15 took ~155 ms here, over the 50-100 ms budget.
 */
export const DEFAULT_SCRYPT: ScryptParams = { logN: 14, r: 8, p: 1 };

// Bounds on what a header may ask for, so a damaged or hostile file cannot make
// a small board allocate or compute without limit: 64 MiB, 8x the default work.
const MAX_SCRYPT_MEMORY = 64 * 2 ** 20;
const MAX_SCRYPT_WORK = 2 ** 20; // N·r·p
export const MAX_CIPHERTEXT_LENGTH = 2 * 2 ** 20;
export const MAX_FILE_LENGTH = BODY_OFFSET + MAX_CIPHERTEXT_LENGTH + TAG_LENGTH;

const scryptAsync = promisify(scrypt) as (
  password: Uint8Array,
  salt: Uint8Array,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

/** Null when the parameters are acceptable, else what is wrong with them. */
export function scryptParamsProblem(params: ScryptParams): string | null {
  const { logN, r, p } = params;
  const isInt = (x: unknown, min: number, max: number): boolean => Number.isInteger(x) && (x as number) >= min && (x as number) <= max;
  if (!isInt(logN, 1, 30) || !isInt(r, 1, 255) || !isInt(p, 1, 255)) return `scrypt parameters logN=${logN} r=${r} p=${p} are out of range`;
  if (128 * 2 ** logN * r > MAX_SCRYPT_MEMORY) return `scrypt parameters logN=${logN} r=${r} need more than ${MAX_SCRYPT_MEMORY >> 20} MiB`;
  if (2 ** logN * r * p > MAX_SCRYPT_WORK) return `scrypt parameters logN=${logN} r=${r} p=${p} cost more than 8x the default`;
  return null;
}

export interface SealedKeystore {
  readonly params: ScryptParams;
  readonly header: Buffer;
  readonly salt: Buffer;
  readonly nonce: Buffer;
  readonly check: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

/**
 * Checks everything that can be checked without the key, in the order that
 * gives the most telling error: magic, version, length, parameter bounds.
 */
export function parseKeystore(bytes: Buffer, file: string): SealedKeystore {
  const magicSeen = bytes.subarray(0, MAGIC.length);
  if (!magicSeen.equals(MAGIC.subarray(0, magicSeen.length))) {
    throw new KeystoreError('NOT_A_KEYSTORE', `${file} is not a keystore: it does not start with the keystore magic`);
  }
  if (bytes.length <= MAGIC.length) throw new KeystoreError('TRUNCATED', `keystore ${file} is cut off after ${bytes.length} bytes`);
  const version = bytes[MAGIC.length]!;
  if (version !== FORMAT_VERSION) {
    throw new KeystoreError('UNSUPPORTED_VERSION', `keystore ${file} has format version ${version}; this agent reads version ${FORMAT_VERSION}`);
  }
  if (bytes.length < BODY_OFFSET + TAG_LENGTH) {
    throw new KeystoreError('TRUNCATED', `keystore ${file} is cut off after ${bytes.length} bytes, inside its header`);
  }
  const params: ScryptParams = { logN: bytes[5]!, r: bytes[6]!, p: bytes[7]! };
  const problem = scryptParamsProblem(params);
  if (problem !== null) throw new KeystoreError('TAMPERED', `keystore ${file} is damaged or tampered with: ${problem}`);
  return {
    params,
    header: bytes.subarray(0, HEADER_LENGTH),
    salt: bytes.subarray(SALT_OFFSET, SALT_OFFSET + SALT_LENGTH),
    nonce: bytes.subarray(NONCE_OFFSET, NONCE_OFFSET + NONCE_LENGTH),
    check: bytes.subarray(HEADER_LENGTH, BODY_OFFSET),
    ciphertext: bytes.subarray(BODY_OFFSET, bytes.length - TAG_LENGTH),
    tag: bytes.subarray(bytes.length - TAG_LENGTH),
  };
}

async function deriveKeys(password: Uint8Array, salt: Uint8Array, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.logN;
  // OpenSSL counts 128·r·(N + 2 + p) bytes; the bound above keeps that under 2x the cap.
  return scryptAsync(password, salt, 2 * KEY_LENGTH, { N, r: params.r, p: params.p, maxmem: 2 * MAX_SCRYPT_MEMORY });
}

function keyCheck(checkKey: Uint8Array, header: Uint8Array): Buffer {
  return createHmac('sha256', checkKey).update(header).digest();
}

/**
 * Seals `plaintext` under `password` with a fresh salt and nonce. The password
 * is handed to scrypt before the first await, so the caller may wipe its copy
 * as soon as this returns a promise.
 */
export async function sealKeystore(plaintext: Uint8Array, password: Uint8Array, params: ScryptParams): Promise<Buffer> {
  const header = Buffer.alloc(HEADER_LENGTH);
  MAGIC.copy(header, 0);
  header[4] = FORMAT_VERSION;
  header[5] = params.logN;
  header[6] = params.r;
  header[7] = params.p;
  randomBytes(SALT_LENGTH).copy(header, SALT_OFFSET);
  randomBytes(NONCE_LENGTH).copy(header, NONCE_OFFSET);
  header.writeUInt32BE(plaintext.length, LENGTH_OFFSET); // GCM: ciphertext length = plaintext length
  const keys = await deriveKeys(password, header.subarray(SALT_OFFSET, SALT_OFFSET + SALT_LENGTH), params);
  try {
    const check = keyCheck(keys.subarray(KEY_LENGTH), header);
    const cipher = createCipheriv('aes-256-gcm', keys.subarray(0, KEY_LENGTH), header.subarray(NONCE_OFFSET, NONCE_OFFSET + NONCE_LENGTH), {
      authTagLength: TAG_LENGTH,
    });
    cipher.setAAD(header);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([header, check, ciphertext, cipher.getAuthTag()]);
  } finally {
    keys.fill(0);
  }
}

/** Opens a parsed keystore; the returned plaintext is the caller's to wipe. */
export async function openKeystore(sealed: SealedKeystore, password: Uint8Array, file: string): Promise<Buffer> {
  const keys = await deriveKeys(password, sealed.salt, sealed.params);
  try {
    const expected = keyCheck(keys.subarray(KEY_LENGTH), sealed.header);
    if (!timingSafeEqual(expected, sealed.check)) {
      throw new KeystoreError(
        'WRONG_KEY',
        `cannot open keystore ${file}: wrong passphrase or device secret for ${file} (or its header is damaged)`,
      );
    }
    const declared = sealed.header.readUInt32BE(LENGTH_OFFSET);
    if (sealed.ciphertext.length < declared) {
      throw new KeystoreError('TRUNCATED', `keystore ${file} is cut off: ${declared - sealed.ciphertext.length} bytes are missing`);
    }
    if (sealed.ciphertext.length > declared) {
      throw new KeystoreError('TAMPERED', `keystore ${file} is damaged or tampered with: it has bytes beyond its declared end`);
    }
    const decipher = createDecipheriv('aes-256-gcm', keys.subarray(0, KEY_LENGTH), sealed.nonce, { authTagLength: TAG_LENGTH });
    decipher.setAAD(sealed.header);
    decipher.setAuthTag(sealed.tag);
    const plaintext = decipher.update(sealed.ciphertext);
    try {
      decipher.final();
    } catch (err) {
      plaintext.fill(0); // unauthenticated: never let it out
      throw new KeystoreError('TAMPERED', `keystore ${file} is damaged or tampered with: its contents fail authentication`, { cause: err });
    }
    return plaintext;
  } finally {
    keys.fill(0);
  }
}
