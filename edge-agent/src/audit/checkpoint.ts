import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { bytes, int, object } from '../schema/index.js';
import { writeFileAtomic } from '../store/index.js';
import { decodeCanonical, encodeCanonical } from '../wire/index.js';
import { HASH_BYTES, ZERO_HASH, sameBytes } from './entry.js';
import { AuditError } from './errors.js';

export const LOG_FILE = 'audit.log';
export const HEAD_FILE = 'audit.head';

/**
 * The head checkpoint: the last seq known durable and its hash (seq -1 and zero
 * bytes for an empty trail). The chain alone cannot show that entries were cut from
 * its end; a chain that ends before its checkpoint can.
 */
export interface Checkpoint {
  readonly seq: number;
  readonly hash: Uint8Array;
}

export const EMPTY: Checkpoint = Object.freeze({ seq: -1, hash: ZERO_HASH });

const VERSION = 1;
const MAX_BYTES = 256; // the encoding is about 50 bytes; anything longer is not ours
const schema = object({ v: int({ min: VERSION, max: VERSION }), seq: int({ min: -1 }), hash: bytes({ len: HASH_BYTES }) });

/** The checkpoint in `dir`, null if there is none, or why it cannot be used. */
export async function readCheckpoint(dir: string): Promise<Checkpoint | string | null> {
  const path = join(dir, HEAD_FILE);
  let raw: Uint8Array;
  try {
    const handle = await open(path, 'r');
    try {
      const buf = new Uint8Array(MAX_BYTES + 1);
      const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
      raw = buf.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new AuditError('IO', `audit checkpoint ${path}: reading failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  try {
    if (raw.length > MAX_BYTES) throw new Error(`longer than ${MAX_BYTES} bytes`);
    const { seq, hash } = schema.parse(decodeCanonical(raw));
    if (seq === -1 && !sameBytes(hash, ZERO_HASH)) throw new Error('an empty trail must have the zero hash');
    return { seq, hash };
  } catch (err) {
    return `${HEAD_FILE} is unreadable (${err instanceof Error ? err.message : String(err)})`;
  }
}

/** Replaces the checkpoint atomically: after a power cut it is the old one or the new one. */
export async function writeCheckpoint(dir: string, checkpoint: Checkpoint): Promise<void> {
  const path = join(dir, HEAD_FILE);
  try {
    await writeFileAtomic(path, encodeCanonical({ v: VERSION, seq: checkpoint.seq, hash: checkpoint.hash }), { mode: 0o600 });
  } catch (err) {
    throw new AuditError('IO', `audit checkpoint ${path}: writing seq ${checkpoint.seq} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

