/**
 * Shared helpers for the audit tests (not a test file itself), including the
 * attacker's tools: rewriting the log with valid record checksums, so that only
 * the hash chain and the checkpoint stand between an edit and its acceptance.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock/index.js';
import { AuditTrail } from '../../src/audit/index.js';
import { type AuditEntry, decodeEntry, encodeEntry, entryHash } from '../../src/audit/entry.js';
import { AppendLog, scanLog } from '../../src/store/index.js';

export { tempDir } from '../store/helpers.js';

export const LOG = 'audit.log';
export const HEAD = 'audit.head';

/** A trail in `dir` holding `n` entries, closed (so its checkpoint covers them all). */
export async function trailWith(dir: string, n: number, checkpointEvery = 16): Promise<void> {
  const trail = await AuditTrail.open(dir, { clock: new ManualClock(1_700_000_000_000), checkpointEvery });
  for (let i = 0; i < n; i++) await trail.append(i % 2 ? 'config.change' : 'agent.start', { i, note: `entry ${i}`, raw: Uint8Array.of(i & 0xff) });
  await trail.close();
}

/** The log's records, raw. */
export async function records(dir: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  await scanLog(join(dir, LOG), (r) => void out.push(r));
  return out;
}

export async function entries(dir: string): Promise<AuditEntry[]> {
  return (await records(dir)).map(decodeEntry);
}

/** Replaces the log with these records, framed and checksummed like any honest log. */
export async function rewrite(dir: string, recs: readonly Uint8Array[]): Promise<void> {
  await rm(join(dir, LOG), { force: true });
  const { log } = await AppendLog.open(join(dir, LOG));
  for (const r of recs) await log.append(r);
  await log.close();
}

/** Rewrites the entries through `change`, which may edit, drop, reorder or add them. */
export async function tamper(dir: string, change: (entries: AuditEntry[]) => AuditEntry[]): Promise<void> {
  await rewrite(dir, change(await entries(dir)).map(encodeEntry));
}

/** The entry with its hash recomputed, as an attacker who knows the format would. */
export function rehash(entry: Omit<AuditEntry, 'hash'>): AuditEntry {
  return { ...entry, hash: entryHash(entry) };
}
