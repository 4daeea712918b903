import { Decoder, Tag } from 'cbor-x';
import { describe } from '../schema/index.js';
import { WireError } from './errors.js';
import { resolveLimits, type DecodeLimits } from './limits.js';
import { scan } from './scan.js';

// int64AsNumber is a real cbor-x option its typings lack: without it 8-byte integers decode as bigint.
// copyBuffers makes byte strings copies, so no result shares memory with the reused scratch array below.
const options: ConstructorParameters<typeof Decoder>[0] & { int64AsNumber: boolean } = {
  useRecords: false,
  mapsAsObjects: true,
  structuredClone: false,
  bundleStrings: false,
  copyBuffers: true,
  int64AsNumber: true,
};
// decode(source, end) reads source[0, end): a real cbor-x signature its typings lack.
const decoder = new Decoder(options) as Decoder & { decode(source: Uint8Array, end: number): unknown };

/** Own properties of every map in a decoded value (a repeated key leaves one property). */
function countKeys(value: unknown): number {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return 0;
  if (Array.isArray(value)) {
    let n = 0;
    for (const item of value) n += countKeys(item);
    return n;
  }
  if (value instanceof Tag) return countKeys(value.value);
  let n = 0;
  for (const item of Object.values(value)) n += 1 + countKeys(item);
  return n;
}

/** Frames up to this size are copied into one reused array; larger ones get a copy of their own. */
const SCRATCH_BYTES = 64 * 1024;
const scratch = new Uint8Array(SCRATCH_BYTES);
let scratchInUse = false;

function decodeChecked(bytes: Uint8Array, limits: Partial<DecodeLimits> | undefined, canonical: boolean): unknown {
  if (!(bytes instanceof Uint8Array)) throw new WireError('ARGUMENT', `expected a Uint8Array of CBOR, got ${describe(bytes)}`);
  const resolved = resolveLimits(limits);
  const n = bytes.length;
  // The walk and cbor-x read one private copy, made only once the size is within the limit:
  // the caller's array (a reused receive buffer, shared memory) cannot change between them,
  // byte strings come out as Uint8Array even from a Buffer, and cbor-x caches its DataView
  // on our reused array instead of building one per call and adding it to the caller's.
  // The nested case (a cbor-x extension decoding again) takes a fresh copy.
  const pooled = n <= SCRATCH_BYTES && !scratchInUse;
  let source = bytes;
  if (n <= resolved.maxBytes) {
    source = pooled ? scratch : new Uint8Array(n);
    source.set(bytes);
  }
  let entries: number;
  let value: unknown;
  if (pooled) scratchInUse = true;
  try {
    entries = scan(source, n, resolved, canonical);
    try {
      value = decoder.decode(source, n);
    } catch (err) {
      // Not expected once the walk has passed; kept so no foreign error type escapes.
      throw new WireError('MALFORMED', `cbor-x refused bytes the header walk accepted: ${err instanceof Error ? err.message : String(err)}`);
    }
  } finally {
    if (pooled) scratchInUse = false;
    // The copy may hold secrets (the keystore decodes its plaintext here): leave nothing behind.
    if (source !== bytes) source.fill(0, 0, n);
  }
  if (entries >= 0 && countKeys(value) !== entries) throw new WireError('BAD_KEY', 'a map repeats a key');
  return value;
}

/**
 * Decodes one CBOR item from untrusted bytes within `limits` (defaults in DEFAULT_LIMITS).
 * Results hold only null, booleans, safe integers, finite numbers, strings, Uint8Array
 * copies, arrays, plain objects and, for allowed tags, Tag objects. Integers beyond
 * ±(2^53 - 1) are refused (INT_RANGE) rather than rounded or turned into bigints.
 * Map keys are unique text strings other than '__proto__' (refused, BAD_KEY), so a
 * decoded object keeps Object.prototype and keys such as "constructor" are ordinary own
 * properties that cannot reach it. Every failure is a WireError.
 */
export function decodeBounded(bytes: Uint8Array, limits?: Partial<DecodeLimits>): unknown {
  return decodeChecked(bytes, limits, false);
}

/**
 * decodeBounded, and the bytes must be exactly encodeCanonical(result), else
 * WireError('NOT_CANONICAL'): each message has one encoding, which is what gets signed.
 * The header walk checks this item by item, so nothing is re-encoded.
 */
export function decodeCanonical(bytes: Uint8Array, limits?: Partial<DecodeLimits>): unknown {
  return decodeChecked(bytes, limits, true);
}

/** What the scratch array holds between calls; internal, for the test that proves no secret stays in it. */
export function scratchBuffer(): Uint8Array {
  return scratch;
}
