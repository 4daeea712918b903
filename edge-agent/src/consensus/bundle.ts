import { decodeCanonical, encodeCanonical } from '../wire/index.js';

/**
 * The checkpointed state: the state machine's snapshot and the last reply to every client,
 * as one canonical CBOR value {s, r: [[client, t, result], …]} whose sha256 replicas sign.
 * Its bytes travel in STATE messages and in `stable` persist records.
 */

export type ReplyRow = readonly [client: number, t: number, result: Uint8Array];

export interface Bundle {
  readonly state: Uint8Array;
  readonly replies: readonly ReplyRow[];
}

/** `replies` must be sorted by client (equal states must give equal bytes). */
export function encodeBundle(state: Uint8Array, replies: readonly ReplyRow[]): Uint8Array {
  return encodeCanonical({ s: state, r: replies.map((x) => [...x]) });
}

/** The bundle in `bytes`, or undefined for anything that is not one (never throws). */
export function parseBundle(bytes: Uint8Array, maxBytes: number): Bundle | undefined {
  let decoded: unknown;
  try {
    decoded = decodeCanonical(bytes, { maxBytes, maxDepth: 3, maxItems: 1 << 20, maxStringBytes: maxBytes });
  } catch {
    return undefined;
  }
  if (typeof decoded !== 'object' || decoded === null) return undefined;
  const b = decoded as { s?: unknown; r?: unknown };
  if (!(b.s instanceof Uint8Array) || !Array.isArray(b.r)) return undefined;
  const rows = b.r as unknown[];
  const ok = rows.every((x) => Array.isArray(x) && x.length === 3 && Number.isSafeInteger(x[0]) && Number.isSafeInteger(x[1]) && x[2] instanceof Uint8Array);
  return ok ? { state: b.s, replies: rows as ReplyRow[] } : undefined;
}
