import { PathError } from './path-error.js';
import { encodeText } from './writer.js';

/**
 * Map keys in canonical order (RFC 8949 §4.2.1: bytewise order of their encodings, which
 * for text keys is shorter first, then bytewise UTF-8), with their encodings. Messages of
 * one kind share their key list, so shapes are cached by that list: an encoding then only
 * compares a few strings (interned, for Object.keys) instead of checking, sorting and
 * encoding every key.
 */
export interface KeyShape {
  /** The keys in the order the container listed them, which identifies the shape. */
  readonly listed: readonly unknown[];
  /** The same keys in canonical order. */
  readonly sorted: readonly string[];
  /** Each sorted key's encoding: text head and UTF-8 bytes. */
  readonly encoded: readonly Uint8Array[];
}

// Bounds on the cache, so that objects used as dictionaries (many distinct key lists)
// cannot make it grow without limit: it is emptied when full and refilled by use.
const MAX_SHAPES = 256;
const MAX_CACHED_KEYS = 32;
const MAX_CACHED_KEY_BYTES = 1024;

const shapes = new Map<unknown, KeyShape[]>();
let cachedShapes = 0;

// String.prototype.isWellFormed exists in Node 20 but not in the ES2023 typings.
function isWellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

/** The same refusals, in the same order, as the former encoder. */
function checkKey(key: unknown): string {
  if (typeof key !== 'string') throw new PathError('map keys must be strings');
  if (key === '__proto__') throw new PathError('the key __proto__ is reserved');
  if (!isWellFormed(key)) throw new PathError('map key is not well-formed Unicode');
  return key;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

function build(listed: readonly unknown[]): KeyShape {
  const entries = listed.map((key) => {
    const text = checkKey(key);
    return { text, bytes: encodeText(text) };
  });
  entries.sort((a, b) => compareBytes(a.bytes, b.bytes));
  return { listed: listed.slice(), sorted: entries.map((e) => e.text), encoded: entries.map((e) => e.bytes) };
}

function sameList(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function remember(shape: KeyShape): void {
  const { listed, encoded } = shape;
  if (listed.length > MAX_CACHED_KEYS) return;
  let bytes = 0;
  for (const e of encoded) bytes += e.length;
  if (bytes > MAX_CACHED_KEY_BYTES) return;
  if (cachedShapes >= MAX_SHAPES) {
    shapes.clear();
    cachedShapes = 0;
  }
  const bucket = shapes.get(listed[0]);
  if (bucket === undefined) shapes.set(listed[0], [shape]);
  else bucket.push(shape);
  cachedShapes++;
}

/**
 * The shape of a non-empty key list (from Object.keys or a Map), which is not kept.
 * Throws PathError for a key that is not a well-formed string or is '__proto__'.
 */
export function shapeOf(keys: readonly unknown[]): KeyShape {
  const bucket = shapes.get(keys[0]);
  if (bucket !== undefined) {
    for (let i = 0; i < bucket.length; i++) {
      if (sameList(bucket[i]!.listed, keys)) return bucket[i]!;
    }
  }
  const shape = build(keys);
  remember(shape);
  return shape;
}
