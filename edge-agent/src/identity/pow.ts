/**
 * Proof of work on an identity key: an 8-byte nonce such that
 * SHA-256(publicKey ‖ nonce) starts with at least `difficulty` zero bits.
 * It makes minting many identities costly; checking one costs a single hash.
 */
import { hash, randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { IdentityError } from './errors.js';
import { PUBLIC_KEY_LENGTH, requirePublicKey } from './keys.js';

export const POW_NONCE_LENGTH = 8;
export const MAX_POW_DIFFICULTY = 256;

/**
 * About one second of expected search on a Raspberry Pi 4 (Cortex-A72, 1.5 GHz,
 * no SHA extensions): 2^17 = 131072 expected attempts.
 * Measured here (Xeon, KVM, 2.0 GHz, SHA-NI, Node 20.20): this loop does
 * ~500 k attempts/s (450-560 k over quiet runs), so D=17 costs ~0.26 s here.
 * Scaled by PI4_POW_SLOWDOWN that is ~137 k/s on a Pi 4, and D=17 ~0.96 s
 * (16 would be ~0.5 s, 18 ~1.9 s). docs/identity.md has the measurements and
 * the reasoning.
 */
export const DEFAULT_POW_DIFFICULTY = 17;

/**
 * How many times slower one PoW attempt is on a Pi 4 core than on the machine
 * DEFAULT_POW_DIFFICULTY was measured on (an estimate, not a measurement).
 * Of ~2.0 µs per attempt here, ~0.06 µs is the SHA-256 block (SHA-NI) and
 * ~1.94 µs Node/OpenSSL call overhead. Overhead scaled by ~3.5 (A72 at 1.5 GHz
 * against this core at 2.0 GHz on branchy integer code) is ~6.8 µs; the block
 * in software on an A72 is ~64 B × 11.6 cycles/B / 1.5 GHz ≈ 0.5 µs (OpenSSL's
 * sha256-armv8 figure for the A57, the A72's predecessor). 7.3 / 2.0 ≈ 3.6.
 */
export const PI4_POW_SLOWDOWN = 3.6;

export interface SolvePowOptions {
  /** Called about every 50 ms and once on success with attempts so far and the mean rate. */
  onProgress?(attempts: number, hashesPerSec: number): void;
  /** Aborting rejects the search with IdentityError('ABORTED') at the next yield. */
  signal?: AbortSignal;
}

// Attempts between clock reads, and time between yields to the event loop:
// a batch is ~2 ms here and ~7 ms on a Pi 4; 50 ms slices keep Ctrl-C prompt.
const BATCH = 1024;
const SLICE_MS = 50;

function requireDifficulty(difficulty: unknown): number {
  if (typeof difficulty !== 'number' || !Number.isInteger(difficulty) || difficulty < 0 || difficulty > MAX_POW_DIFFICULTY) {
    throw new IdentityError('BAD_ARGUMENT', `PoW difficulty must be an integer from 0 to ${MAX_POW_DIFFICULTY}, got ${String(difficulty)}`);
  }
  return difficulty;
}

function requireRate(hashesPerSec: unknown): number {
  if (typeof hashesPerSec !== 'number' || !Number.isFinite(hashesPerSec) || hashesPerSec <= 0) {
    throw new IdentityError('BAD_ARGUMENT', `hash rate must be a positive finite number, got ${String(hashesPerSec)}`);
  }
  return hashesPerSec;
}

/** Number of leading zero bits of `bytes` (8 × length when all are zero). */
export function leadingZeroBits(bytes: Uint8Array): number {
  if (!(bytes instanceof Uint8Array)) throw new IdentityError('BAD_ARGUMENT', 'leadingZeroBits: bytes must be a Uint8Array');
  let bits = 0;
  for (const byte of bytes) {
    if (byte !== 0) return bits + Math.clz32(byte) - 24;
    bits += 8;
  }
  return bits;
}

/**
 * The search state: one buffer holding publicKey ‖ nonce, hashed in place with
 * the one-shot crypto.hash (measured fastest here: ~1.5x createHash per attempt,
 * createHash().copy() and noble's sha256; see benchmarks/pow.ts), the nonce
 * counting up as a big-endian 64-bit integer from a random start.
 */
class PowSearch {
  readonly #input = Buffer.alloc(PUBLIC_KEY_LENGTH + POW_NONCE_LENGTH);
  readonly #zeroBytes: number;
  readonly #lastMask: number;

  constructor(publicKey: Uint8Array, difficulty: number) {
    this.#input.set(publicKey, 0);
    randomBytes(POW_NONCE_LENGTH).copy(this.#input, PUBLIC_KEY_LENGTH);
    this.#zeroBytes = difficulty >> 3;
    this.#lastMask = (0xff00 >> (difficulty & 7)) & 0xff;
  }

  /** Tries up to `count` nonces; returns how many it used if one succeeded (the nonce stays in place), else -1. */
  run(count: number): number {
    const input = this.#input;
    const zeroBytes = this.#zeroBytes;
    const lastMask = this.#lastMask;
    for (let n = 1; n <= count; n++) {
      const digest = hash('sha256', input, 'buffer');
      let i = 0;
      while (i < zeroBytes && digest[i] === 0) i++;
      if (i === zeroBytes && (lastMask === 0 || (digest[i]! & lastMask) === 0)) return n;
      for (let j = input.length - 1; j >= PUBLIC_KEY_LENGTH; j--) {
        input[j] = (input[j]! + 1) & 0xff;
        if (input[j] !== 0) break;
      }
    }
    return -1;
  }

  nonce(): Uint8Array {
    return new Uint8Array(this.#input.subarray(PUBLIC_KEY_LENGTH));
  }
}

/**
 * Costs one hash. A malformed key or nonce (they come off the wire) is simply
 * invalid; only a bad difficulty (the caller's own policy) throws. The key is
 * not checked to be a curve point here: whoever uses it as a key checks that.
 */
export function verifyPow(publicKey: Uint8Array, nonce: Uint8Array, difficulty: number): boolean {
  requireDifficulty(difficulty);
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) return false;
  if (!(nonce instanceof Uint8Array) || nonce.length !== POW_NONCE_LENGTH) return false;
  const input = Buffer.concat([publicKey, nonce]);
  return leadingZeroBits(hash('sha256', input, 'buffer')) >= difficulty;
}

/** Searches for a nonce in slices, yielding to the event loop between them so progress can be drawn and aborts heard. */
export async function solvePow(publicKey: Uint8Array, difficulty: number, opts: SolvePowOptions = {}): Promise<Uint8Array> {
  requirePublicKey(publicKey);
  requireDifficulty(difficulty);
  const { onProgress, signal } = opts;
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new IdentityError('BAD_ARGUMENT', 'solvePow: onProgress must be a function');
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new IdentityError('BAD_ARGUMENT', 'solvePow: signal must be an AbortSignal');
  }
  const search = new PowSearch(publicKey, difficulty);
  const start = performance.now();
  const rate = (attempts: number): number => attempts / Math.max((performance.now() - start) / 1000, 1e-9);
  let attempts = 0;
  for (;;) {
    if (signal?.aborted) {
      throw new IdentityError('ABORTED', `proof-of-work search at difficulty ${difficulty} was aborted after ${attempts} attempts`, {
        cause: signal.reason,
      });
    }
    const sliceEnd = performance.now() + SLICE_MS;
    do {
      const used = search.run(BATCH);
      if (used > 0) {
        attempts += used;
        onProgress?.(attempts, rate(attempts));
        return search.nonce();
      }
      attempts += BATCH;
    } while (performance.now() < sliceEnd);
    onProgress?.(attempts, rate(attempts));
    await nextTurn();
  }
}

/** Attempts per second of the search loop, run synchronously for about `ms` milliseconds. */
export function measureHashRate(ms: number): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0 || ms > 60_000) {
    throw new IdentityError('BAD_ARGUMENT', `measureHashRate: ms must be in (0, 60000], got ${String(ms)}`);
  }
  // Any 33 bytes hash alike; difficulty 256 never succeeds, so every batch runs in full.
  const search = new PowSearch(randomBytes(PUBLIC_KEY_LENGTH), MAX_POW_DIFFICULTY);
  const start = performance.now();
  let now = start;
  let attempts = 0;
  do {
    search.run(BATCH);
    attempts += BATCH;
    now = performance.now();
  } while (now - start < ms);
  return attempts / ((now - start) / 1000);
}

/** Expected search time: 2^difficulty attempts at `hashesPerSec`. */
export function expectedPowSeconds(difficulty: number, hashesPerSec: number): number {
  return 2 ** requireDifficulty(difficulty) / requireRate(hashesPerSec);
}

/** The difficulty whose expected search time is nearest `seconds` (on a log scale) at `hashesPerSec`. */
export function difficultyForSeconds(seconds: number, hashesPerSec: number): number {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new IdentityError('BAD_ARGUMENT', `difficultyForSeconds: seconds must be a positive finite number, got ${String(seconds)}`);
  }
  const d = Math.round(Math.log2(seconds * requireRate(hashesPerSec)));
  return Math.min(Math.max(d, 0), MAX_POW_DIFFICULTY);
}
