import { WireError } from './errors.js';
import { shapeOf } from './keys.js';
import { PathError, formatPath } from './path-error.js';
import { collect, fillHead, reserveHead, writeByte, writeBytes, writeFloat64, writeHead, writeInt, writeRaw, writeText } from './writer.js';

/**
 * Deterministic CBOR (RFC 8949 §4.2.1, core deterministic encoding) for everything
 * that is signed or hashed: the same value always gives the same bytes.
 * - map keys are text strings, sorted by encoded length then bytewise, which is
 *   the bytewise order of their encodings; properties whose value is undefined are left out
 * - integers in their shortest form (all safe integers, not only 32-bit ones), other
 *   numbers as float64 (a deliberate departure from §4.2.1, which asks for the shortest float)
 * - definite lengths only, no tags
 * Accepted values: null, booleans, finite numbers, well-formed strings, Uint8Array, arrays,
 * plain objects and Maps with string keys other than '__proto__'. Anything else is refused, not coerced.
 *
 * Written directly in one pass (cbor-x has no canonical mode), so nothing is copied or
 * sorted twice; test/wire/oracle.ts keeps the former cbor-x based encoder as a reference.
 */

/** Containers nested deeper than this are refused; the bounded decoder never accepts more. */
export const MAX_NESTING = 64;

/** Entries whose value is undefined are skipped, so the head is written once they are counted. */
function writeMap(keys: readonly unknown[], container: object, isMap: boolean, depth: number): void {
  const n = keys.length;
  if (n === 0) {
    writeByte(0xa0);
    return;
  }
  const { sorted, encoded } = shapeOf(keys);
  const at = reserveHead(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const key = sorted[i]!;
    // Each value is read once, so a getter cannot show the count one value and the writer another.
    const value = isMap ? (container as Map<string, unknown>).get(key) : (container as Record<string, unknown>)[key];
    if (value === undefined) continue;
    writeRaw(encoded[i]!);
    try {
      writeValue(value, depth + 1);
    } catch (err) {
      if (err instanceof PathError) err.segments.unshift(key);
      throw err;
    }
    count++;
  }
  fillHead(0xa0, at, n, count);
}

function writeArray(items: readonly unknown[], depth: number): void {
  // Read once: the head and the number of items written must agree even if a getter changes the array.
  const n = items.length;
  writeHead(0x80, n);
  for (let i = 0; i < n; i++) {
    try {
      writeValue(items[i], depth + 1);
    } catch (err) {
      if (err instanceof PathError) err.segments.unshift(i);
      throw err;
    }
  }
}

function writeValue(value: unknown, depth: number): void {
  if (depth > MAX_NESTING) throw new PathError(`nested deeper than ${MAX_NESTING}`);
  switch (typeof value) {
    case 'boolean':
      writeByte(value ? 0xf5 : 0xf4);
      return;
    case 'string':
      if (!writeText(value)) throw new PathError('string is not well-formed Unicode (lone surrogate)');
      return;
    case 'number':
      // -0 is a safe integer and is written as 0.
      if (Number.isSafeInteger(value)) writeInt(value);
      else if (Number.isFinite(value)) writeFloat64(value);
      else throw new PathError(`${value} cannot be encoded canonically`);
      return;
    case 'object': {
      if (value === null) {
        writeByte(0xf6);
        return;
      }
      if (value instanceof Uint8Array) {
        writeBytes(value);
        return;
      }
      if (Array.isArray(value)) {
        writeArray(value, depth);
        return;
      }
      if (value instanceof Map) {
        writeMap(Array.from(value.keys()), value, true, depth);
        return;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto === Object.prototype || proto === null) {
        writeMap(Object.keys(value), value, false, depth);
        return;
      }
      throw new PathError(`cannot encode ${Object.prototype.toString.call(value).slice(8, -1)} canonically`);
    }
    default:
      throw new PathError(`cannot encode ${value === undefined ? 'undefined' : typeof value} canonically`);
  }
}

function writeTop(value: unknown): void {
  writeValue(value, 0);
}

/** `prefix` followed by the canonical encoding of `value`, in a fresh array. */
export function encodeCanonicalAfter(prefix: Uint8Array | undefined, value: unknown): Uint8Array {
  try {
    return collect(prefix, writeTop, value);
  } catch (err) {
    if (err instanceof PathError) throw new WireError('ENCODE', `${formatPath(err.segments)}: ${err.message}`);
    throw err;
  }
}

/** Encodes `value` deterministically; throws WireError('ENCODE') for values outside the canonical subset. */
export function encodeCanonical(value: unknown): Uint8Array {
  return encodeCanonicalAfter(undefined, value);
}
