/**
 * The replay guard's file: canonical CBOR { v: 1, watermark, horizon, entries, check } where
 * - watermark: commands issued before it are refused (0: none), see replay.ts;
 * - horizon: commands that expire at or before it are refused (nonces up to it were forgotten);
 * - entries: n records of 24 bytes, a 16-byte nonce then its expiresAt as a big-endian uint64;
 * - check: SHA-256 of a domain prefix and the canonical { v, watermark, horizon, entries }, so a damaged
 *   file (a flipped bit in a nonce would silently forget it) is seen, not trusted.
 */
import { createHash } from 'node:crypto';
import { decodeCanonical, encodeCanonical, WireError } from '../wire/index.js';
import { SchemaError, bytes, int, object, oneOf } from '../schema/index.js';
import { CommandError } from './errors.js';
import { NONCE_LENGTH } from './format.js';

export const REPLAY_FILE_VERSION = 1;
/** Largest capacity a guard may be given; bounds what a replay file may hold and how large it may be. */
export const MAX_REPLAY_CAPACITY = 1_000_000;
const RECORD = NONCE_LENGTH + 8;
export const MAX_REPLAY_FILE_BYTES = 256 + RECORD * MAX_REPLAY_CAPACITY;
const CHECK_DOMAIN = new TextEncoder().encode('edge-agent/replay-file/v1\0');

export interface ReplayState {
  readonly watermark: number;
  readonly horizon: number;
  /** Nonce (lowercase hex) → expiresAt. */
  readonly entries: ReadonlyMap<string, number>;
}

const fileSchema = object({
  v: oneOf([REPLAY_FILE_VERSION]),
  watermark: int({ min: 0 }),
  horizon: int({ min: 0 }),
  entries: bytes({ max: RECORD * MAX_REPLAY_CAPACITY }),
  check: bytes({ len: 32 }),
});

function checksum(v: number, watermark: number, horizon: number, entries: Uint8Array): Uint8Array {
  const hash = createHash('sha256');
  hash.update(CHECK_DOMAIN);
  hash.update(encodeCanonical({ v, watermark, horizon, entries }));
  return new Uint8Array(hash.digest());
}

export function encodeReplayFile(state: ReplayState): Uint8Array {
  const entries = new Uint8Array(state.entries.size * RECORD);
  const view = new DataView(entries.buffer);
  let at = 0;
  for (const [nonce, expiresAt] of state.entries) {
    entries.set(Buffer.from(nonce, 'hex'), at);
    view.setBigUint64(at + NONCE_LENGTH, BigInt(expiresAt));
    at += RECORD;
  }
  const { watermark, horizon } = state;
  const check = checksum(REPLAY_FILE_VERSION, watermark, horizon, entries);
  return encodeCanonical({ v: REPLAY_FILE_VERSION, watermark, horizon, entries, check });
}

/** Throws CommandError('CORRUPT_REPLAY_FILE') naming `path` for anything but a file encodeReplayFile wrote. */
export function decodeReplayFile(data: Uint8Array, path: string): ReplayState {
  const corrupt = (why: string): CommandError => new CommandError('CORRUPT_REPLAY_FILE', `replay file ${path}: ${why}`);
  let file;
  try {
    file = fileSchema.parse(
      decodeCanonical(data, { maxBytes: MAX_REPLAY_FILE_BYTES, maxDepth: 1, maxItems: 8, maxStringBytes: RECORD * MAX_REPLAY_CAPACITY }),
    );
  } catch (err) {
    if (err instanceof WireError || err instanceof SchemaError) throw corrupt(err.message);
    throw err;
  }
  const { v, watermark, horizon, entries, check } = file;
  if (!Buffer.from(checksum(v, watermark, horizon, entries)).equals(check)) throw corrupt('checksum mismatch');
  if (entries.length % RECORD !== 0) throw corrupt(`entries are ${entries.length} bytes, not a whole number of ${RECORD}-byte records`);
  const view = new DataView(entries.buffer, entries.byteOffset, entries.byteLength);
  const out = new Map<string, number>();
  for (let at = 0; at < entries.length; at += RECORD) {
    const expiresAt = view.getBigUint64(at + NONCE_LENGTH);
    if (expiresAt > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`record ${at / RECORD} has an expiry beyond 2^53`);
    const nonce = Buffer.from(entries.buffer, entries.byteOffset + at, NONCE_LENGTH).toString('hex');
    out.set(nonce, Math.max(out.get(nonce) ?? 0, Number(expiresAt)));
  }
  return { watermark, horizon, entries: out };
}
