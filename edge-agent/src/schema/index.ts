/**
 * A small validator for data that crosses a trust boundary (wire messages, config
 * files, board profiles). Each schema parses `unknown` into a typed value or throws
 * a SchemaError naming the path, what was expected and what was found.
 */
export class SchemaError extends Error {
  override readonly name = 'SchemaError';
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly got: string,
    message = `${path === '' ? 'top level' : path}: expected ${expected}, got ${got}`,
  ) {
    super(message);
  }

  /** A property the schema does not know: most often a typo, so the message lists the known ones. */
  static unknownProperty(path: string, known: readonly string[]): SchemaError {
    const expected = known.length === 0 ? 'no properties' : `one of ${known.join(', ')}`;
    return new SchemaError(path, expected, 'an unknown property', `${path}: unknown property (known: ${known.join(', ')})`);
  }
}

export interface Schema<T> {
  /** Human description of an acceptable value, used in error messages. */
  readonly expected: string;
  parse(value: unknown, path?: string): T;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

/** A property that may be absent; with a fallback, absence yields the fallback. */
interface OptionalSchema<T> extends Schema<T | undefined> {
  readonly optional: true;
  readonly inner: Schema<T>;
}
interface DefaultSchema<T> extends Schema<T> {
  readonly fallback: T;
  readonly inner: Schema<T>;
}

/** Short description of a value for error messages; never dumps large or secret data. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  switch (typeof value) {
    case 'string':
      return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(value);
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

function make<T>(expected: string, check: (v: unknown, path: string) => T): Schema<T> {
  return {
    expected,
    parse(value: unknown, path = ''): T {
      return check(value, path);
    },
  };
}

function fail(path: string, expected: string, value: unknown): never {
  throw new SchemaError(path, expected, describe(value));
}

function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

function rangeText(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` >= ${min}`;
  if (max !== undefined) return ` <= ${max}`;
  return '';
}

export function text(opts: { min?: number; max?: number; pattern?: RegExp; hint?: string } = {}): Schema<string> {
  const { min = 0, max = 4096, pattern, hint } = opts;
  const expected = hint ?? `a string of ${min} to ${max} characters${pattern ? ` matching ${pattern}` : ''}`;
  return make(expected, (v, path) => {
    if (typeof v !== 'string' || v.length < min || v.length > max || (pattern && !pattern.test(v))) {
      fail(path, expected, v);
    }
    return v;
  });
}

export function int(opts: { min?: number; max?: number } = {}): Schema<number> {
  const { min, max } = opts;
  const expected = `an integer${rangeText(min, max)}`;
  return make(expected, (v, path) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(path, expected, v);
    if ((min !== undefined && v < min) || (max !== undefined && v > max)) fail(path, expected, v);
    return v;
  });
}

export function number(opts: { min?: number; max?: number } = {}): Schema<number> {
  const { min, max } = opts;
  const expected = `a number${rangeText(min, max)}`;
  return make(expected, (v, path) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(path, expected, v);
    if ((min !== undefined && v < min) || (max !== undefined && v > max)) fail(path, expected, v);
    return v;
  });
}

export function bool(): Schema<boolean> {
  return make('true or false', (v, path) => (typeof v === 'boolean' ? v : fail(path, 'true or false', v)));
}

export function bytes(opts: { len?: number; min?: number; max?: number } = {}): Schema<Uint8Array> {
  const { len } = opts;
  const min = len ?? opts.min ?? 0;
  const max = len ?? opts.max ?? 65536;
  const expected = len !== undefined ? `${len} bytes` : `${min} to ${max} bytes`;
  return make(expected, (v, path) => {
    if (!(v instanceof Uint8Array) || v.length < min || v.length > max) fail(path, expected, v);
    return v;
  });
}

export function oneOf<const T extends readonly (string | number)[]>(values: T): Schema<T[number]> {
  const expected = `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`;
  return make(expected, (v, path) => {
    if (!values.includes(v as T[number])) fail(path, expected, v);
    return v as T[number];
  });
}

export function array<T>(item: Schema<T>, opts: { min?: number; max?: number } = {}): Schema<T[]> {
  const { min = 0, max = 1024 } = opts;
  const expected = `a list of ${min} to ${max} items`;
  return make(expected, (v, path) => {
    if (!Array.isArray(v) || v.length < min || v.length > max) fail(path, expected, v);
    return v.map((x, i) => item.parse(x, child(path, i)));
  });
}

export function optional<T>(inner: Schema<T>): OptionalSchema<T> {
  return {
    expected: `${inner.expected} (optional)`,
    optional: true,
    inner,
    parse: (v, path = '') => (v === undefined ? undefined : inner.parse(v, path)),
  };
}

/** A value that may be JSON null (e.g. "this board has no Ethernet"); absence is still an error. */
export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  const expected = `${inner.expected} or null`;
  return make(expected, (v, path) => {
    if (v === null) return null;
    try {
      return inner.parse(v, path);
    } catch (err) {
      // A wrong value here should mention null as an option; errors deeper inside keep their own text.
      if (err instanceof SchemaError && err.path === path) fail(path, expected, v);
      throw err;
    }
  });
}

/** An optional property whose absence yields `fallback` (used for config defaults). */
export function withDefault<T>(inner: Schema<T>, fallback: T): DefaultSchema<T> {
  return {
    expected: inner.expected,
    fallback,
    inner,
    parse: (v, path = '') => (v === undefined ? fallback : inner.parse(v, path)),
  };
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalSchema<unknown> ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOf<S extends Shape> = Simplify<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & {
    [K in OptionalKeys<S>]?: S[K] extends OptionalSchema<infer T> ? T : never;
  }
>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * A plain object with exactly these properties. Unknown properties are an error:
 * a typo in a config file or an extra field on the wire must not pass unnoticed.
 */
export function object<S extends Shape>(shape: S): Schema<ObjectOf<S>> & { readonly shape: S } {
  const keys = Object.keys(shape);
  const expected = `an object with ${keys.length === 0 ? 'no properties' : keys.join(', ')}`;
  return {
    expected,
    shape,
    parse(v: unknown, path = ''): ObjectOf<S> {
      if (!isPlainObject(v)) fail(path, expected, v);
      for (const key of Object.keys(v)) {
        if (!Object.hasOwn(shape, key)) {
          throw SchemaError.unknownProperty(child(path, key), keys);
        }
      }
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        const parsed = shape[key]!.parse(v[key], child(path, key));
        if (parsed !== undefined) out[key] = parsed;
      }
      return out as ObjectOf<S>;
    },
  };
}

/** Adds a check that spans several fields (or a stricter one) after the inner schema. */
export function refine<T>(inner: Schema<T>, expected: string, ok: (value: T) => boolean): Schema<T> {
  return make(expected, (v, path) => {
    const parsed = inner.parse(v, path);
    if (!ok(parsed)) fail(path, expected, v);
    return parsed;
  });
}

export type DeepReadonly<T> = T extends Uint8Array
  ? T
  : T extends readonly (infer U)[]
    ? readonly DeepReadonly<U>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

/**
 * Freezes a parsed value and everything it holds, so config and profiles stay plain
 * data nobody can change behind the validator's back. Byte arrays cannot be frozen
 * (the engine refuses) and are left as they are.
 */
export function deepFreeze<T>(value: T): DeepReadonly<T> {
  freezeAll(value, new WeakSet());
  return value as DeepReadonly<T>;
}

function freezeAll(value: unknown, seen: WeakSet<object>): void {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array || seen.has(value)) return;
  seen.add(value);
  Object.freeze(value);
  for (const inner of Object.values(value)) freezeAll(inner, seen);
}
