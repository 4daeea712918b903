/**
 * The overlay's map across restarts: the signed reports the gossip core holds,
 * saved at stop (atomic replace, mode 0600) and handed back to the core at the
 * next start. The file is not trusted: every report is verified again like a
 * catch-up, and reports that went stale meanwhile fall out. The PeerStore is
 * rebuilt from what the core accepts, so map and core cannot disagree.
 * Format: canonical CBOR, one array of byte strings.
 */
import { readSmallFile, writeFileAtomic } from '../store/index.js';
import { decodeCanonical, encodeCanonical } from '../wire/index.js';
import { MeshError } from './errors.js';

/** Reports a snapshot may hold: two per edge, 16 neighbours per peer, 100,000 peers. */
export const MAX_SNAPSHOT_REPORTS = 100_000 * 16;
/** A report frame is well under this. */
const MAX_FRAME_BYTES = 1024;

export async function saveReports(path: string, frames: readonly Uint8Array[]): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new MeshError('BAD_ARGUMENT', 'saveReports: path must be a non-empty string');
  if (!Array.isArray(frames) || frames.length > MAX_SNAPSHOT_REPORTS) throw new MeshError('BAD_ARGUMENT', `saveReports: at most ${MAX_SNAPSHOT_REPORTS} frames`);
  await writeFileAtomic(path, encodeCanonical(frames.map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength))), { mode: 0o600 });
}

/** The frames saved at `path`; none when there is no file; MeshError BAD_SNAPSHOT when it is not a snapshot. */
export async function loadReports(path: string): Promise<Uint8Array[]> {
  if (typeof path !== 'string' || path === '') throw new MeshError('BAD_ARGUMENT', 'loadReports: path must be a non-empty string');
  const maxBytes = MAX_SNAPSHOT_REPORTS * (MAX_FRAME_BYTES + 5) + 16;
  const bytes = await readSmallFile(path, {
    maxBytes,
    tooLarge: (size) => new MeshError('BAD_SNAPSHOT', `${path}: ${size} bytes, more than a snapshot can hold`),
  });
  if (bytes === undefined) return [];
  let value: unknown;
  try {
    value = decodeCanonical(bytes, { maxBytes, maxItems: MAX_SNAPSHOT_REPORTS, maxDepth: 2, maxStringBytes: MAX_FRAME_BYTES });
  } catch (err) {
    throw new MeshError('BAD_SNAPSHOT', `${path}: not an overlay snapshot (${(err as Error).message})`);
  }
  if (!Array.isArray(value) || !value.every((f) => f instanceof Uint8Array)) throw new MeshError('BAD_SNAPSHOT', `${path}: not an array of report frames`);
  return value as Uint8Array[];
}
