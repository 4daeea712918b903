import { MAX_NESTING } from './canonical.js';
import { WireError } from './errors.js';

/** What a decoder accepts from untrusted bytes; everything beyond is refused before any allocation. */
export interface DecodeLimits {
  /** Largest input accepted, in bytes. */
  readonly maxBytes: number;
  /** Deepest nesting of arrays, maps and tags (at most MAX_NESTING). */
  readonly maxDepth: number;
  /** Most elements of one array, or entries (key/value pairs) of one map. */
  readonly maxItems: number;
  /** Longest text or byte string, in bytes. */
  readonly maxStringBytes: number;
  /** Tag numbers allowed; an allowed tag decodes as a cbor-x `Tag { tag, value }`. */
  readonly allowedTags: ReadonlySet<number>;
}

const MiB = 1024 * 1024;
/** Below cbor-x's own ceiling on object size (16 710 000 keys), so cbor-x never refuses what the walk accepted. */
const MAX_ITEMS_CEILING = 16_000_000;
/** Frames and strings stay below 2 GiB, so the header walk can count in 32-bit integers. */
const MAX_BYTES_CEILING = 0x7fffffff;

export const DEFAULT_LIMITS: DecodeLimits = Object.freeze({
  maxBytes: MiB,
  maxDepth: 16,
  maxItems: 4096,
  maxStringBytes: MiB,
  allowedTags: new Set<number>(),
});

/**
 * Tags cbor-x gives a process-wide meaning (dates, bignums, typed arrays, Sets and Maps,
 * records, shared references, packed tables, constructors). Allowing them would build
 * objects that are not plain data, or let cbor-x read more than the one item the header
 * walk accounted for, so they are refused even when asked for.
 */
const CLAIMED_BY_CBORX: readonly (readonly [number, number])[] = [
  [0, 6],
  [14, 15],
  [25, 29],
  [51, 51],
  [64, 87],
  [105, 105],
  [216, 259],
  [27647, 32767],
  [55799, 55799],
  [0xdff9, 0xffff],
  [0x53687264, 0x53687264],
  [1811939328, 2147483647],
];

function isClaimed(tag: number): boolean {
  return CLAIMED_BY_CBORX.some(([lo, hi]) => tag >= lo && tag <= hi);
}

function count(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new WireError('ARGUMENT', `decode limit ${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

function tags(value: unknown): ReadonlySet<number> {
  if (!(value instanceof Set)) throw new WireError('ARGUMENT', 'decode limit allowedTags must be a Set of tag numbers');
  // Copied so that a caller changing its Set later cannot widen what was checked here.
  const out = new Set<number>();
  for (const tag of value as Set<unknown>) {
    if (typeof tag !== 'number' || !Number.isInteger(tag) || tag < 0 || tag > 0xffffffff) {
      throw new WireError('ARGUMENT', `allowedTags: ${String(tag)} is not a tag number from 0 to 2^32 - 1`);
    }
    if (isClaimed(tag)) throw new WireError('ARGUMENT', `allowedTags: tag ${tag} has a built-in cbor-x meaning and cannot be allowed`);
    out.add(tag);
  }
  return out;
}

/** Fills in defaults for missing (or undefined) limits and checks every limit. */
export function resolveLimits(limits?: Partial<DecodeLimits>): DecodeLimits {
  if (limits === undefined) return DEFAULT_LIMITS;
  if (typeof limits !== 'object' || limits === null) throw new WireError('ARGUMENT', 'decode limits must be an object');
  const d = DEFAULT_LIMITS;
  return {
    maxBytes: count('maxBytes', limits.maxBytes ?? d.maxBytes, 1, MAX_BYTES_CEILING),
    maxDepth: count('maxDepth', limits.maxDepth ?? d.maxDepth, 1, MAX_NESTING),
    maxItems: count('maxItems', limits.maxItems ?? d.maxItems, 0, MAX_ITEMS_CEILING),
    maxStringBytes: count('maxStringBytes', limits.maxStringBytes ?? d.maxStringBytes, 0, MAX_BYTES_CEILING),
    allowedTags: limits.allowedTags === undefined ? d.allowedTags : tags(limits.allowedTags),
  };
}
