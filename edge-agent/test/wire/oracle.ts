/**
 * Reference oracle for encodeCanonical: the cbor-x based encoder the project shipped before
 * the direct writer, kept verbatim (apart from its name) so property tests can check that
 * the direct writer produces the very same bytes and refusals.
 * Known divergence: an Array subclass (or an array with an own "constructor") whose items
 * need no normalising reaches cbor-x as is and comes out as an indefinite-length array,
 * which is not canonical; the direct writer gives it a definite length.
 */
import { Encoder } from 'cbor-x';
import { MAX_NESTING, WireError } from '../../src/wire/index.js';

/**
 * Deterministic CBOR (RFC 8949 §4.2.1, core deterministic encoding) for everything
 * that is signed or hashed: the same value always gives the same bytes.
 * - map keys are text strings, sorted by encoded length then bytewise, which is
 *   the bytewise order of their encodings; properties whose value is undefined are left out
 * - integers in their shortest form (all safe integers, not only 32-bit ones), other
 *   numbers as float64 (a deliberate departure from §4.2.1, which asks for the shortest float)
 * - definite lengths only, no tags, no records, no structured clone
 * Accepted values: null, booleans, finite numbers, well-formed strings, Uint8Array, arrays,
 * plain objects and Maps with string keys other than '__proto__'. Anything else is refused, not coerced.
 */
// useTag259ForMaps is a real cbor-x option its typings lack: without it Maps get tag 259.
const options: ConstructorParameters<typeof Encoder>[0] & { useTag259ForMaps: boolean } = {
  useRecords: false,
  mapsAsObjects: true,
  tagUint8Array: false,
  variableMapSize: true,
  structuredClone: false,
  pack: false,
  useToJSON: false,
  useTag259ForMaps: false,
};
const encoder = new Encoder(options);

const TWO_POW_32 = 2 ** 32;

/** Thrown inside the walk; collects the path on the way out so the success path builds no strings. */
class PathError extends Error {
  readonly segments: (string | number)[] = [];
}

function formatPath(segments: readonly (string | number)[]): string {
  let path = '$';
  for (const s of segments) path += typeof s === 'number' ? `[${s}]` : `.${s}`;
  return path;
}

// String.prototype.isWellFormed exists in Node 20 but not in the ES2023 typings.
function isWellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

/**
 * Orders keys as the bytes of their UTF-8 encodings would sort after a CBOR header:
 * shorter encodings first, then by code point (UTF-8 preserves code point order).
 * Works on the strings directly so sorting allocates nothing.
 */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) n += c < 0x800 || (c & 0xf800) === 0xd800 ? 1 : 2;
  }
  return n;
}

function compareKeys(a: string, b: string): number {
  const la = utf8Length(a);
  const lb = utf8Length(b);
  if (la !== lb) return la - lb;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    // A surrogate stands for a code point above U+FFFF, so it sorts after every BMP unit.
    const sa = (ca & 0xf800) === 0xd800;
    const sb = (cb & 0xf800) === 0xd800;
    return sa === sb ? ca - cb : sa ? 1 : -1;
  }
  return 0;
}

/** For ASCII keys (the usual case) UTF-8 length is string length and code units are bytes. */
function compareAsciiKeys(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** 1 if `key` is ASCII, 0 if it is other well-formed Unicode; throws for anything else. */
function checkKey(key: unknown): number {
  if (typeof key !== 'string') throw new PathError('map keys must be strings');
  if (key === '__proto__') throw new PathError('the key __proto__ is reserved');
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) >= 0x80) {
      if (!isWellFormed(key)) throw new PathError('map key is not well-formed Unicode');
      return 0;
    }
  }
  return 1;
}

/** Insertion sort for the few keys messages have: several times faster there than Array#sort. */
function sortKeys(keys: string[], compare: (a: string, b: string) => number): void {
  if (keys.length > 16) {
    keys.sort(compare);
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    for (; j >= 0 && compare(keys[j]!, key) > 0; j--) keys[j + 1] = keys[j]!;
    keys[j + 1] = key;
  }
}

const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,9})$/;

/**
 * True for keys a plain object cannot carry in sorted order to cbor-x: array indices
 * ("0", "42") are enumerated before all other keys whatever the insertion order, and an
 * own "constructor" would shadow the property cbor-x uses to choose how to write a value.
 */
function needsMap(key: string): boolean {
  if (key === 'constructor') return true;
  const c = key.charCodeAt(0);
  return c >= 0x30 && c <= 0x39 && ARRAY_INDEX.test(key) && Number(key) < 0xffffffff;
}

/**
 * The entries with defined values, normalised and in canonical key order: a plain object
 * (which cbor-x writes in insertion order, and faster than a Map), or a Map when needed.
 */
function sortedEntries(keys: string[], get: (key: string) => unknown, depth: number): object {
  let ascii = 1;
  let asMap = false;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    ascii &= checkKey(key);
    if (!asMap) asMap = needsMap(key);
  }
  sortKeys(keys, ascii ? compareAsciiKeys : compareKeys);
  const out = asMap ? new Map<string, unknown>() : ({} as Record<string, unknown>);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const value = get(key);
    if (value === undefined) continue;
    let next: unknown;
    try {
      next = normalise(value, depth + 1);
    } catch (err) {
      if (err instanceof PathError) err.segments.unshift(key);
      throw err;
    }
    if (out instanceof Map) out.set(key, next);
    else out[key] = next;
  }
  return out;
}

function normaliseArray(value: readonly unknown[], depth: number): unknown[] {
  // Copy only when an element changes, so arrays of plain scalars are passed through.
  let out: unknown[] | undefined;
  for (let i = 0; i < value.length; i++) {
    const item = value[i];
    let next: unknown;
    try {
      next = normalise(item, depth + 1);
    } catch (err) {
      if (err instanceof PathError) err.segments.unshift(i);
      throw err;
    }
    if (next !== item && out === undefined) out = value.slice(0, i);
    if (out !== undefined) out.push(next);
  }
  return out ?? (value as unknown[]);
}

function normalise(value: unknown, depth: number): unknown {
  if (depth > MAX_NESTING) throw new PathError(`nested deeper than ${MAX_NESTING}`);
  switch (typeof value) {
    case 'boolean':
      return value;
    case 'string':
      if (!isWellFormed(value)) throw new PathError('string is not well-formed Unicode (lone surrogate)');
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new PathError(`${value} cannot be encoded canonically`);
      if (Object.is(value, -0)) return 0;
      // cbor-x writes integers beyond 32 bits as float64; a bigint makes it use the 8-byte integer form.
      if (Number.isSafeInteger(value) && (value >= TWO_POW_32 || value < -TWO_POW_32)) return BigInt(value);
      return value;
    case 'object': {
      if (value === null || value instanceof Uint8Array) return value;
      if (Array.isArray(value)) return normaliseArray(value, depth);
      if (value instanceof Map) return sortedEntries(Array.from(value.keys()), (k) => value.get(k), depth);
      const proto = Object.getPrototypeOf(value);
      if (proto === Object.prototype || proto === null) {
        const record = value as Record<string, unknown>;
        return sortedEntries(Object.keys(record), (k) => record[k], depth);
      }
      throw new PathError(`cannot encode ${Object.prototype.toString.call(value).slice(8, -1)} canonically`);
    }
    default:
      throw new PathError(`cannot encode ${value === undefined ? 'undefined' : typeof value} canonically`);
  }
}

/** The former encodeCanonical: normalise, then cbor-x. */
export function encodeCanonicalOracle(value: unknown): Uint8Array {
  let normalised: unknown;
  try {
    normalised = normalise(value, 0);
  } catch (err) {
    if (err instanceof PathError) throw new WireError('ENCODE', `${formatPath(err.segments)}: ${err.message}`);
    throw err;
  }
  const out = encoder.encode(normalised);
  // A plain Uint8Array view, not cbor-x's Buffer, so callers see one byte type everywhere.
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
