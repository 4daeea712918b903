import test from 'ava';
import fc from 'fast-check';
import {
  array,
  bool,
  bytes,
  deepFreeze,
  describe,
  int,
  nullable,
  number,
  object,
  oneOf,
  optional,
  refine,
  SchemaError,
  text,
  withDefault,
  type Schema,
} from '../../src/schema/index.js';

/** Runs parse and returns the SchemaError it must throw. */
function rejects(t: import('ava').ExecutionContext, schema: Schema<unknown>, value: unknown, path = ''): SchemaError {
  const err = t.throws(() => schema.parse(value, path), { instanceOf: SchemaError });
  if (!err) throw new Error('unreachable: t.throws failed the test already');
  return err;
}

test('describe names a value briefly and never dumps it', (t) => {
  t.is(describe(null), 'null');
  t.is(describe(undefined), 'nothing');
  t.is(describe(new Uint8Array(3)), '3 bytes');
  t.is(describe([1, 2]), 'an array of 2');
  t.is(describe('short'), '"short"');
  t.is(describe('x'.repeat(41)), 'a string of 41 characters');
  t.is(describe(42), '42');
  t.is(describe(10n), '10');
  t.is(describe(false), 'false');
  t.is(describe({ secret: 'k' }), 'an object');
  t.is(describe(() => 1), 'function');
});

test('SchemaError carries path, expected and got, and reads "path: expected X, got Y"', (t) => {
  const err = new SchemaError('network.listen', '"host:port"', '42');
  t.is(err.message, 'network.listen: expected "host:port", got 42');
  t.is(err.path, 'network.listen');
  t.is(err.expected, '"host:port"');
  t.is(err.got, '42');
  t.is(err.name, 'SchemaError');
  t.is(new SchemaError('', 'x', 'y').message, 'top level: expected x, got y');
});

test('text: length bounds, pattern and hint', (t) => {
  const s = text({ min: 2, max: 4 });
  t.is(s.parse('ab'), 'ab');
  t.is(s.parse('abcd'), 'abcd');
  t.is(rejects(t, s, 'a', 'name').message, 'name: expected a string of 2 to 4 characters, got "a"');
  t.is(rejects(t, s, 'abcde').message, 'top level: expected a string of 2 to 4 characters, got "abcde"');
  t.is(rejects(t, s, 12, 'n').message, 'n: expected a string of 2 to 4 characters, got 12');
  const p = text({ pattern: /^[a-z]+$/ });
  t.is(p.parse('abc'), 'abc');
  t.is(rejects(t, p, 'aBc').expected, 'a string of 0 to 4096 characters matching /^[a-z]+$/');
  const h = text({ pattern: /^x$/, hint: 'the letter x' });
  t.is(rejects(t, h, 'y', 'f').message, 'f: expected the letter x, got "y"');
});

test('text accepts every string within its bounds and nothing else (property)', (t) => {
  const s = text({ min: 1, max: 10 });
  fc.assert(
    fc.property(fc.string({ maxLength: 20 }), (v) => {
      const ok = v.length >= 1 && v.length <= 10;
      if (ok) return s.parse(v) === v;
      try {
        s.parse(v);
        return false;
      } catch (err) {
        return err instanceof SchemaError;
      }
    }),
  );
  fc.assert(
    fc.property(fc.anything().filter((v) => typeof v !== 'string'), (v) => {
      try {
        s.parse(v);
        return false;
      } catch (err) {
        return err instanceof SchemaError;
      }
    }),
  );
  t.pass();
});

test('int: only safe integers, inclusive range', (t) => {
  const i = int({ min: -2, max: 5 });
  t.is(i.parse(-2), -2);
  t.is(i.parse(5), 5);
  t.is(i.parse(-0), -0);
  for (const bad of [6, -3, 1.5, Number.NaN, Infinity, '3', 3n, null, true, [3]]) rejects(t, i, bad);
  t.is(rejects(t, i, 6, 'n').message, 'n: expected an integer from -2 to 5, got 6');
  t.is(rejects(t, int(), 2 ** 53).expected, 'an integer');
  t.is(rejects(t, int({ min: 1 }), 0).expected, 'an integer >= 1');
  t.is(rejects(t, int({ max: 1 }), 2).expected, 'an integer <= 1');
});

test('int agrees with Number.isSafeInteger and the bounds (property)', (t) => {
  const i = int({ min: -1000, max: 1000 });
  fc.assert(
    fc.property(fc.oneof(fc.integer(), fc.double(), fc.constant(2 ** 53)), (v) => {
      const ok = Number.isSafeInteger(v) && v >= -1000 && v <= 1000;
      try {
        return i.parse(v) === v && ok;
      } catch (err) {
        return err instanceof SchemaError && !ok;
      }
    }),
  );
  t.pass();
});

test('number: finite numbers in range', (t) => {
  const n = number({ min: 0, max: 1 });
  t.is(n.parse(0.5), 0.5);
  t.is(n.parse(1), 1);
  for (const bad of [Number.NaN, Infinity, -Infinity, -0.1, 1.1, '0.5', null]) rejects(t, n, bad);
  t.is(rejects(t, n, 2, 'r').message, 'r: expected a number from 0 to 1, got 2');
});

test('bool: only true and false', (t) => {
  t.true(bool().parse(true));
  t.false(bool().parse(false));
  for (const bad of [0, 1, 'true', null, undefined]) rejects(t, bool(), bad);
  t.is(rejects(t, bool(), 'yes', 'flag').message, 'flag: expected true or false, got "yes"');
});

test('bytes: a Uint8Array of the right length; arrays of numbers and ArrayBuffers are not bytes', (t) => {
  const b = bytes({ len: 2 });
  const v = new Uint8Array([1, 2]);
  t.is(b.parse(v), v);
  t.truthy(b.parse(Buffer.from([1, 2]))); // a Buffer is a Uint8Array
  t.is(rejects(t, b, [1, 2], 'k').message, 'k: expected 2 bytes, got an array of 2');
  rejects(t, b, new Uint8Array(3));
  rejects(t, b, new ArrayBuffer(2));
  rejects(t, b, new Uint16Array(2));
  const range = bytes({ min: 1, max: 3 });
  t.is(range.expected, '1 to 3 bytes');
  rejects(t, range, new Uint8Array(0));
  rejects(t, range, new Uint8Array(4));
});

test('oneOf: exactly the listed values, no type coercion', (t) => {
  const o = oneOf(['a', 1] as const);
  t.is(o.parse('a'), 'a');
  t.is(o.parse(1), 1);
  t.is(rejects(t, o, '1', 'x').message, 'x: expected one of "a", 1, got "1"');
  rejects(t, o, 'A');
  rejects(t, o, undefined);
});

test('array: bounds, and item errors carry the index in the path', (t) => {
  const a = array(int(), { min: 1, max: 3 });
  t.deepEqual(a.parse([1, 2]), [1, 2]);
  t.is(rejects(t, a, [], 'list').message, 'list: expected a list of 1 to 3 items, got an array of 0');
  rejects(t, a, [1, 2, 3, 4]);
  t.is(rejects(t, a, [1, 'x'], 'list').message, 'list[1]: expected an integer, got "x"');
  t.is(rejects(t, a, [1.5]).path, '[0]');
  // Things with a length are not arrays.
  rejects(t, a, { length: 1, 0: 1 });
  rejects(t, a, new Uint8Array(1));
  rejects(t, a, 'ab');
});

test('object: exact shape, unknown keys refused with their path, optional keys left out', (t) => {
  const o = object({ a: int(), b: optional(text()), c: withDefault(bool(), true) });
  t.deepEqual(o.parse({ a: 1 }), { a: 1, c: true });
  t.false(Object.hasOwn(o.parse({ a: 1 }), 'b'));
  t.deepEqual(o.parse({ a: 1, b: 'x', c: false }), { a: 1, b: 'x', c: false });
  const unknown = rejects(t, o, { a: 1, z: 2 }, 'root');
  t.is(unknown.path, 'root.z');
  t.regex(unknown.message, /^root\.z: unknown property \(known: a, b, c\)/);
  t.is(rejects(t, o, {}, 'root').message, 'root.a: expected an integer, got nothing');
  t.is(rejects(t, o, { a: 'x' }).message, 'a: expected an integer, got "x"');
});

test('object: only plain or prototype-less objects', (t) => {
  const o = object({ a: int() });
  const bare = Object.create(null) as Record<string, unknown>;
  bare.a = 1;
  t.deepEqual({ ...o.parse(bare) }, { a: 1 });
  t.is(rejects(t, o, [1], 'cfg').message, 'cfg: expected an object with a, got an array of 1');
  for (const bad of [null, undefined, 1, 'a', new Uint8Array(1), new Date(0), new Map([['a', 1]]), new (class A {})()]) {
    rejects(t, o, bad);
  }
});

test('object: "__proto__" and inherited names from JSON are unknown keys, never prototype changes', (t) => {
  const o = object({ a: int() });
  t.is(rejects(t, o, JSON.parse('{"a":1,"__proto__":{"polluted":true}}')).path, '__proto__');
  t.is(rejects(t, o, JSON.parse('{"a":1,"constructor":1}')).path, 'constructor');
  t.is(({} as Record<string, unknown>).polluted, undefined);
});

test('object: the result is a fresh object, not the input', (t) => {
  const o = object({ a: object({ b: int() }) });
  const input = { a: { b: 1 } };
  const out = o.parse(input);
  t.deepEqual(out, input);
  t.not(out, input);
  t.not(out.a, input.a);
});

test('object refuses any extra key, naming it (property)', (t) => {
  const o = object({ a: int(), b: optional(bool()) });
  fc.assert(
    fc.property(
      fc.string({ minLength: 1 }).filter((k) => k !== 'a' && k !== 'b'),
      fc.jsonValue(),
      (key, value) => {
        const input: Record<string, unknown> = { a: 1 };
        Object.defineProperty(input, key, { value, enumerable: true });
        try {
          o.parse(input, 'p');
          return false;
        } catch (err) {
          return err instanceof SchemaError && err.path === `p.${key}`;
        }
      },
    ),
  );
  t.pass();
});

test('optional: undefined is absent; null is a value and is checked', (t) => {
  const o = optional(int());
  t.is(o.parse(undefined), undefined);
  t.is(o.parse(3), 3);
  t.is(rejects(t, o, null, 'n').message, 'n: expected an integer, got null');
  t.is(o.expected, 'an integer (optional)');
});

test('withDefault: absence yields the fallback, a bad value is still refused', (t) => {
  const d = withDefault(int({ min: 1 }), 7);
  t.is(d.parse(undefined), 7);
  t.is(d.parse(2), 2);
  t.is(d.fallback, 7);
  t.is(rejects(t, d, 0, 'n').message, 'n: expected an integer >= 1, got 0');
  rejects(t, d, null);
});

test('nullable: null is a value; a wrong value is told null was an option; deeper errors keep their path', (t) => {
  const n = nullable(text({ hint: 'a name' }));
  t.is(n.parse(null), null);
  t.is(n.parse('x'), 'x');
  t.is(rejects(t, n, 3, 'iface').message, 'iface: expected a name or null, got 3');
  rejects(t, n, undefined);
  const deep = nullable(object({ a: int() }));
  t.is(rejects(t, deep, { a: 'x' }, 'o').message, 'o.a: expected an integer, got "x"');
});

test('refine: the inner schema speaks first, then the extra rule', (t) => {
  const even = refine(int(), 'an even integer', (v) => v % 2 === 0);
  t.is(even.parse(4), 4);
  t.is(rejects(t, even, 3, 'n').message, 'n: expected an even integer, got 3');
  t.is(rejects(t, even, 'x', 'n').message, 'n: expected an integer, got "x"');
});

test('deepFreeze freezes nested objects and arrays, leaves bytes alone, survives cycles', (t) => {
  const value = { a: { b: [1, { c: 2 }] }, key: new Uint8Array([1]) };
  const frozen = deepFreeze(value);
  t.is(frozen, value);
  t.true(Object.isFrozen(value));
  t.true(Object.isFrozen(value.a));
  t.true(Object.isFrozen(value.a.b));
  t.true(Object.isFrozen(value.a.b[1]));
  t.false(Object.isFrozen(value.key));
  t.throws(() => {
    (value.a as { b: unknown }).b = 1;
  });
  const cyclic: { self?: unknown; inner: { n: number } } = { inner: { n: 1 } };
  cyclic.self = cyclic;
  deepFreeze(cyclic);
  t.true(Object.isFrozen(cyclic.inner));
  // An already-frozen shell does not stop the walk.
  const shell = Object.freeze({ inner: { n: 1 } });
  deepFreeze(shell);
  t.true(Object.isFrozen(shell.inner));
  t.is(deepFreeze(5), 5);
  t.is(deepFreeze(null), null);
});

test('a schema only ever throws SchemaError, whatever JSON it is given (property)', (t) => {
  const s = object({
    name: text({ max: 10 }),
    tags: optional(array(oneOf(['a', 'b'] as const), { max: 3 })),
    n: withDefault(int({ min: 0, max: 9 }), 0),
    inner: nullable(object({ flag: bool() })),
  });
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      try {
        s.parse(v);
        return true;
      } catch (err) {
        return err instanceof SchemaError;
      }
    }),
  );
  t.pass();
});
