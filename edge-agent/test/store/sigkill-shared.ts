/** What the SIGKILL test and its child share: the payloads, and how the child behaves. */
import { createHash } from 'node:crypto';

/** Appends the child keeps in flight at once, so that group commit has something to group. */
export const IN_FLIGHT = 4;

/** Writes this large span several folios and take milliseconds: aimed kills wait for one. */
export const BIG_WRITE = 4 * 1024 * 1024;

/** Aimed kills: SIGKILL `micros` microseconds after starting the `nth` big write. */
export interface Aim {
  readonly nth: number;
  readonly micros: number;
}

/**
 * Payload `index` of the log seeded `seed`: its size and content follow from the two
 * alone, and its first bytes spell out both, so a record in the wrong place shows.
 * Sizes: mostly small, some medium, one in ten above 64 KiB, and a few of several
 * megabytes. Those matter most: Linux copies a write into the page cache a folio
 * (up to 2 MiB) at a time and only checks for SIGKILL between folios, so only a
 * write spanning several folios can be cut short by a kill.
 */
export function payloadFor(seed: number, index: number): Uint8Array {
  const digest = createHash('sha256').update(`${seed}:${index}`).digest();
  const pick = digest.readUInt32LE(0) / 2 ** 32;
  const spread = digest.readUInt32LE(4);
  const size =
    pick < 0.6 ? 8 + (spread % 600) : pick < 0.88 ? 600 + (spread % 20_000) : pick < 0.985 ? 65_537 + (spread % 150_000) : BIG_WRITE + (spread % BIG_WRITE);
  const out = Buffer.alloc(size).fill(digest);
  out.writeUInt32LE(index, 0);
  out.writeUInt32LE(seed, 4);
  return out;
}
