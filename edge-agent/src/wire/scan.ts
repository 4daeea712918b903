import { MAX_NESTING } from './canonical.js';
import { WireError, type WireErrorCode } from './errors.js';
import type { DecodeLimits } from './limits.js';
import { isUtf8Range } from './utf8.js';

/**
 * The header walk: one pass over the item heads of untrusted CBOR that enforces the
 * limits before cbor-x sees the bytes. It allocates nothing sized by the input: every
 * declared length is compared with the limit and with the bytes left before anything
 * relies on it, so a 9-byte frame declaring a 4 GiB string costs nine byte reads.
 *
 * With `canonical`, it also accepts only what encodeCanonical produces, item by item:
 * shortest heads, float64 only for numbers that are not safe integers, keys in strictly
 * ascending encoded order, no tags. Decoding such bytes and encoding the result again
 * therefore gives the same bytes without paying for the re-encoding.
 */

const ARRAY = 0;
const MAP = 1;
const TAG = 2;

// One slot per nesting level (0 is the top level). The walk is synchronous and never
// calls out, so these fixed-size scratch arrays can be shared by every call.
// Int32 slots keep the loop in integer arithmetic; limits keep every value below 2^31.
const left = new Int32Array(MAX_NESTING + 1); // items still expected (a map counts keys and values)
const kind = new Int32Array(MAX_NESTING + 1);
const keyAt = new Int32Array(MAX_NESTING + 1); // offset of the previous key's bytes
const keyLen = new Int32Array(MAX_NESTING + 1); // its length, -1 before the first key

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function readDouble(b: Uint8Array, at: number): number {
  for (let i = 0; i < 8; i++) f64Bytes[littleEndian ? 7 - i : i] = b[at + i]!;
  return f64[0]!;
}

const PROTO = [0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f]; // "__proto__"

function isProto(b: Uint8Array, at: number, len: number): boolean {
  if (len !== PROTO.length) return false;
  for (let i = 0; i < len; i++) if (b[at + i] !== PROTO[i]) return false;
  return true;
}

/** Order of two keys' contents: by length, then bytewise (the order of their canonical encodings). */
function compareKeys(b: Uint8Array, a: number, aLen: number, c: number, cLen: number): number {
  if (aLen !== cLen) return aLen - cLen;
  for (let i = 0; i < aLen; i++) {
    const d = b[a + i]! - b[c + i]!;
    if (d !== 0) return d;
  }
  return 0;
}

function fail(code: WireErrorCode, message: string, at: number): never {
  throw new WireError(code, `${message} (item at byte ${at})`);
}

const MAJOR = ['unsigned integer', 'negative integer', 'byte string', 'text string', 'array', 'map', 'tag', 'simple value'];

/**
 * Checks the item in b[0, end) against `limits` (and canonical form if asked). Returns -1
 * when every map's keys were in strictly ascending order, which proves them unique; otherwise the total
 * number of map entries, for the caller to compare with the keys decoding produced
 * (a repeated key collapses into one property).
 */
export function scan(b: Uint8Array, end: number, limits: DecodeLimits, canonical: boolean): number {
  if (end > limits.maxBytes) fail('FRAME_TOO_LARGE', `${end} bytes exceed the limit of ${limits.maxBytes}`, 0);
  const { maxDepth, maxItems, maxStringBytes, allowedTags } = limits;
  let pos = 0;
  let depth = 0;
  let entries = 0;
  let unsorted = false;
  left[0] = 1;
  kind[0] = ARRAY;
  for (;;) {
    while (left[depth] === 0) {
      if (depth === 0) {
        if (pos !== end) fail('TRAILING', `${end - pos} bytes follow the top-level item`, pos);
        return unsorted ? entries : -1;
      }
      depth--;
    }
    if (pos >= end) fail('TRUNCATED', 'the bytes end where another item was expected', pos);
    const at = pos;
    const head = b[pos++]!;
    const major = head >> 5;
    const info = head & 0x1f;
    const isKey = kind[depth] === MAP && (left[depth]! & 1) === 0;
    left[depth] = left[depth]! - 1;

    // The argument: a count, length, value or tag number (for major 7, the simple value or float bits).
    let arg = info;
    if (info >= 24) {
      if (info > 27) {
        if (info === 31 && major >= 2 && major <= 5) fail('INDEFINITE', `indefinite-length ${MAJOR[major]}`, at);
        fail('MALFORMED', `reserved additional information ${info} in a ${MAJOR[major]} head`, at);
      }
      const size = 1 << (info - 24);
      if (end - pos < size) fail('TRUNCATED', `the bytes end inside a ${MAJOR[major]} head`, at);
      // Shortest form: a 1-byte argument is at least 24, a 2-byte one 2^8, a 4-byte one 2^16, an 8-byte one 2^32.
      let least: number;
      if (size === 1) {
        arg = b[pos]!;
        least = 24;
      } else if (size === 2) {
        arg = (b[pos]! << 8) | b[pos + 1]!;
        least = 0x100;
      } else if (size === 4) {
        arg = ((b[pos]! << 24) >>> 0) + ((b[pos + 1]! << 16) | (b[pos + 2]! << 8) | b[pos + 3]!);
        least = 0x10000;
      } else {
        const hi = ((b[pos]! << 24) >>> 0) + ((b[pos + 1]! << 16) | (b[pos + 2]! << 8) | b[pos + 3]!);
        const lo = ((b[pos + 4]! << 24) >>> 0) + ((b[pos + 5]! << 16) | (b[pos + 6]! << 8) | b[pos + 7]!);
        arg = hi * 0x100000000 + lo; // exact up to 2^53, and never rounds below it
        least = 0x100000000;
      }
      pos += size;
      if (canonical && major !== 7 && arg < least) fail('NOT_CANONICAL', `${MAJOR[major]} head is longer than needed`, at);
    }
    if (isKey && major !== 3) fail('BAD_KEY', `map key is a ${MAJOR[major]}, not a text string`, at);

    switch (major) {
      case 0:
        if (arg > Number.MAX_SAFE_INTEGER) fail('INT_RANGE', 'unsigned integer above 2^53 - 1', at);
        break;
      case 1:
        if (arg > Number.MAX_SAFE_INTEGER - 1) fail('INT_RANGE', 'negative integer below -(2^53 - 1)', at);
        break;
      case 2:
      case 3: {
        if (arg > maxStringBytes) fail('TOO_LONG', `${MAJOR[major]} of ${arg} bytes exceeds the limit of ${maxStringBytes}`, at);
        if (arg > end - pos) fail('TOO_LONG', `${MAJOR[major]} of ${arg} bytes is longer than the ${end - pos} bytes left`, at);
        if (major === 3) {
          if (!isUtf8Range(b, pos, pos + arg)) fail('MALFORMED', 'text string is not valid UTF-8', at);
          if (isKey) {
            if (isProto(b, pos, arg)) fail('BAD_KEY', 'map key __proto__ is reserved', at);
            if (keyLen[depth]! >= 0) {
              const order = compareKeys(b, keyAt[depth]!, keyLen[depth]!, pos, arg);
              if (order === 0) fail('BAD_KEY', 'map key repeats the one before it', at);
              if (order > 0) {
                if (canonical) fail('NOT_CANONICAL', 'map keys are not in canonical order', at);
                unsorted = true;
              }
            }
            keyAt[depth] = pos;
            keyLen[depth] = arg;
          }
        }
        pos += arg;
        break;
      }
      case 4:
      case 5: {
        // Every element takes at least one byte; a map entry is two items.
        const slots = major === 4 ? arg : arg * 2;
        if (arg > maxItems) fail('TOO_LONG', `${MAJOR[major]} of ${arg} items exceeds the limit of ${maxItems}`, at);
        if (slots > end - pos) fail('TOO_LONG', `${MAJOR[major]} of ${arg} items cannot fit in the ${end - pos} bytes left`, at);
        if (depth >= maxDepth) fail('TOO_DEEP', `nesting exceeds the limit of ${maxDepth}`, at);
        if (arg > 0) {
          depth++;
          left[depth] = slots;
          kind[depth] = major === 4 ? ARRAY : MAP;
          keyLen[depth] = -1;
        }
        if (major === 5) entries += arg;
        break;
      }
      case 6:
        if (!allowedTags.has(arg)) fail('BAD_TAG', `tag ${arg} is not allowed`, at);
        if (canonical) fail('NOT_CANONICAL', `tag ${arg} has no canonical encoding`, at);
        if (depth >= maxDepth) fail('TOO_DEEP', `nesting exceeds the limit of ${maxDepth}`, at);
        depth++;
        left[depth] = 1;
        kind[depth] = TAG;
        break;
      default:
        if (info < 20 || info === 23 || info === 24) fail('BAD_SIMPLE', `simple value ${info === 24 ? b[at + 1] : info} is not false, true or null`, at);
        if (info >= 25) {
          // Exponent bits all ones: an infinity or a NaN.
          const infinite =
            info === 25
              ? (b[at + 1]! & 0x7c) === 0x7c
              : info === 26
                ? (b[at + 1]! & 0x7f) === 0x7f && (b[at + 2]! & 0x80) === 0x80
                : (b[at + 1]! & 0x7f) === 0x7f && (b[at + 2]! & 0xf0) === 0xf0;
          if (infinite) fail('BAD_SIMPLE', 'floats must be finite', at);
          if (canonical && (info !== 27 || Number.isSafeInteger(readDouble(b, at + 1)))) {
            fail('NOT_CANONICAL', 'numbers are float64 only when they are not safe integers', at);
          }
        }
    }
  }
}
