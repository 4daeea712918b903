/**
 * A board's state directory in the output (DIR/boards/<hostname>/state): what
 * an earlier run left there, read from identity.json alone (the keystore's
 * secret is never opened), and the temporary directories new identities are
 * made in before they are renamed into place.
 */
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DEVICE_SECRET_FILE,
  IDENTITY_FILE,
  KEYSTORE_FILE,
  isValidPublicKey,
  peerIdOf,
  toHex,
  verifyPow,
} from '../identity/index.js';
import { readSmallFile } from '../store/index.js';
import { ProvisionError } from './errors.js';
import type { PublicIdentity } from './inventory.js';

export const BOARDS_DIR = 'boards';
export const STATE_DIR = 'state';
export const CONFIG_FILE = 'config.json';
/** mkdtemp prefix of an identity being made; such a directory never holds an identity anyone uses. */
export const TEMP_STATE_PREFIX = '.state-';
const TEMP_STATE = /^\.state-[A-Za-z0-9]{6}$/;
const MAX_IDENTITY_FILE_BYTES = 4096;

export interface BoardPaths {
  readonly dir: string;
  readonly state: string;
  readonly config: string;
}

export function boardPaths(out: string, hostname: string): BoardPaths {
  const dir = join(out, BOARDS_DIR, hostname);
  return { dir, state: join(dir, STATE_DIR), config: join(dir, CONFIG_FILE) };
}

export interface ExistingIdentity extends PublicIdentity {
  /** The difficulty its proof of work was made at (it may be below the fleet's current one). */
  readonly powDifficulty: number;
}

async function kindOf(path: string): Promise<'absent' | 'file' | 'dir' | 'other'> {
  try {
    const st = await lstat(path);
    return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
}

function corrupt(stateDir: string, why: string): ProvisionError {
  return new ProvisionError(
    'CORRUPT_STATE',
    `${stateDir}: ${why}; nothing was changed: fix it, or move the directory away to give the board a new identity`,
  );
}

/**
 * The identity an earlier run left in `stateDir`, or undefined if there is no
 * such directory. Anything else there (no identity.json, one that does not
 * hold together, a missing keystore or device secret) is CORRUPT_STATE: it is
 * never repaired or replaced, since it may be the only copy of a key.
 */
export async function readExistingIdentity(stateDir: string): Promise<ExistingIdentity | undefined> {
  const kind = await kindOf(stateDir);
  if (kind === 'absent') return undefined;
  if (kind !== 'dir') throw corrupt(stateDir, 'expected a directory');
  const file = join(stateDir, IDENTITY_FILE);
  const bytes = await readSmallFile(file, {
    maxBytes: MAX_IDENTITY_FILE_BYTES,
    tooLarge: (size) => corrupt(stateDir, `${IDENTITY_FILE} is ${size} bytes, too large for an identity file`),
  });
  if (bytes === undefined) throw corrupt(stateDir, `there is no ${IDENTITY_FILE} (a keygen that did not finish, or files removed by hand)`);
  let record: unknown;
  try {
    record = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw corrupt(stateDir, `${IDENTITY_FILE} is not JSON`);
  }
  const r = (typeof record === 'object' && record !== null ? record : {}) as Record<string, unknown>;
  const { publicKey, peerId, powNonce, powDifficulty } = r;
  if (typeof publicKey !== 'string' || !/^0[23][0-9a-f]{64}$/.test(publicKey)) throw corrupt(stateDir, `${IDENTITY_FILE} has no valid publicKey`);
  if (typeof powNonce !== 'string' || !/^[0-9a-f]{16}$/.test(powNonce)) throw corrupt(stateDir, `${IDENTITY_FILE} has no valid powNonce`);
  if (typeof powDifficulty !== 'number' || !Number.isInteger(powDifficulty) || powDifficulty < 0 || powDifficulty > 256) {
    throw corrupt(stateDir, `${IDENTITY_FILE} has no valid powDifficulty`);
  }
  const key = Uint8Array.from(Buffer.from(publicKey, 'hex'));
  if (!isValidPublicKey(key)) throw corrupt(stateDir, `the publicKey in ${IDENTITY_FILE} is not a point on secp256k1`);
  const derived = toHex(peerIdOf(key));
  if (peerId !== derived) throw corrupt(stateDir, `the peerId in ${IDENTITY_FILE} is not the hash of its publicKey`);
  if (!verifyPow(key, Uint8Array.from(Buffer.from(powNonce, 'hex')), powDifficulty)) {
    throw corrupt(stateDir, `the proof of work in ${IDENTITY_FILE} does not reach its difficulty ${powDifficulty}`);
  }
  for (const name of [KEYSTORE_FILE, DEVICE_SECRET_FILE]) {
    if ((await kindOf(join(stateDir, name))) !== 'file') throw corrupt(stateDir, `${IDENTITY_FILE} is there but ${name} is not`);
  }
  return { publicKey, peerId: derived, powDifficulty };
}

/**
 * Removes what an interrupted run (power cut, kill -9) left half made in a
 * board's directory. Only names of our temporary pattern are touched. The
 * caller holds the output's lock, so no other run is making them.
 */
export async function removeStaleTemps(boardDir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(boardDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const stale = names.filter((n) => TEMP_STATE.test(n));
  for (const name of stale) await rm(join(boardDir, name), { recursive: true, force: true });
  return stale.length;
}
