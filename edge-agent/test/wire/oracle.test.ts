import test from 'ava';
import fc from 'fast-check';
import { WireError, encodeCanonical } from '../../src/wire/index.js';
import { hex } from './helpers.js';
import { encodeCanonicalOracle } from './oracle.js';

/** Hex of the bytes, or the refusal; a foreign error fails the test. */
function outcome(encode: (value: unknown) => Uint8Array, value: unknown): string {
  try {
    return hex(encode(value));
  } catch (err) {
    if (err instanceof WireError) return `${err.code}: ${err.message}`;
    throw err;
  }
}

const same = (value: unknown) => outcome(encodeCanonical, value) === outcome(encodeCanonicalOracle, value);

// Every head-size boundary, its neighbours and their negative counterparts (-1 - n has argument n).
const boundaries = [0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1];
const boundaryInt = fc
  .constantFrom(...boundaries.flatMap((b) => [b - 1, b, b + 1]))
  .chain((n) => fc.constantFrom(n, -n, -1 - n))
  .filter((n) => n >= -(2 ** 53 - 1));

// Units that take 1 to 4 UTF-8 bytes, or sort differently in UTF-16 and UTF-8.
const unit = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('a', 'z', '0', '~', '\u007f') },
  { weight: 1, arbitrary: fc.constantFrom('\u00e9', '\u07ff', '\u0800', '\uffff', '\u{10000}', '\u{10ffff}', '\ud7ff', '\ue000') },
);
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit, maxLength: 8 }) },
  { weight: 2, arbitrary: fc.string({ unit, minLength: 20, maxLength: 100 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 200, maxLength: 300 }) },
);
const key = fc.oneof(
  { weight: 6, arbitrary: text.filter((k) => k !== '__proto__') },
  // array indices come first in Object.keys; the others name Object.prototype members
  { weight: 1, arbitrary: fc.constantFrom('0', '1', '42', '4294967294', '4294967295', 'constructor', 'toJSON', 'then', '') },
);

const number = fc.oneof(
  { weight: 2, arbitrary: boundaryInt },
  fc.maxSafeInteger(),
  fc.integer(),
  { weight: 2, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  fc.constantFrom(-0, 0.5, 2 ** 53, -(2 ** 53), 2 ** 64, 1e300, Number.MIN_VALUE),
);
const scalar = fc.oneof(
  fc.constantFrom(null, true, false),
  { weight: 4, arbitrary: number },
  { weight: 3, arbitrary: text },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
);

// Mostly small containers, sometimes ones around the 24-item head boundary.
const size = fc.oneof({ weight: 6, arbitrary: fc.constant({ min: 0, max: 5 }) }, { weight: 1, arbitrary: fc.constant({ min: 20, max: 30 }) });
function record(entries: readonly (readonly [string, unknown])[], bare: boolean): Record<string, unknown> {
  const o: Record<string, unknown> = bare ? (Object.create(null) as Record<string, unknown>) : {};
  for (const [k, v] of entries) o[k] = v;
  return o;
}

/** Values the encoder accepts: maps may hold undefined values, which are left out. */
const accepted: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown; entry: unknown; array: unknown[]; object: object; map: Map<string, unknown> }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('array'), tie('object'), tie('map')),
  entry: fc.oneof({ weight: 8, arbitrary: tie('value') }, fc.constant(undefined)),
  array: size.chain(({ min, max }) => fc.array(tie('value'), { minLength: min, maxLength: max })),
  object: fc
    .tuple(size.chain(({ min, max }) => fc.uniqueArray(fc.tuple(key, tie('entry')), { minLength: min, maxLength: max, selector: ([k]) => k })), fc.boolean())
    .map(([entries, bare]) => record(entries, bare)),
  map: size.chain(({ min, max }) => fc.uniqueArray(fc.tuple(key, tie('entry')), { minLength: min, maxLength: max, selector: ([k]) => k })).map((e) => new Map(e)),
})).value;

const loneSurrogate = fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff');
/** Each refused on its own, wherever it appears. */
const refusedValue = fc.oneof(
  fc.constantFrom<unknown>(undefined, Number.NaN, Infinity, -Infinity, 10n, Symbol('s'), new Date(0), new Uint16Array(2), () => 1, new Set(), /x/),
  fc.tuple(text, loneSurrogate, text).map((p) => p.join('')),
  fc.constantFrom<unknown>(JSON.parse('{"__proto__": 1}'), new Map<unknown, unknown>([[1, 'a']]), new Map([['__proto__', 1]]), { ['k\udc00']: 1 }),
);

/** An accepted value with one or two refused ones planted inside, at some depth. */
const refused: fc.Arbitrary<unknown> = fc
  .tuple(accepted, refusedValue, refusedValue, fc.nat(), key)
  .map(([good, bad, worse, choice, k]) => {
    switch (choice % 7) {
      case 0:
        return bad;
      case 1:
        return [good, bad];
      case 2:
        return { [k]: good, zz: [good, { inner: bad }] };
      case 3:
        return new Map<string, unknown>([[k, bad], ['a', good]]);
      case 4:
        // two refusals: which one is reported depends on the order of the walk
        return { [k]: bad, b: worse, c: good };
      case 5:
        return [bad, worse];
      default: {
        // two bad keys, and a bad value that is never reached
        const keys = [1, '__proto__', 'k\udc00', null];
        return new Map<unknown, unknown>([['a', bad], [keys[choice % 4], good], [keys[(choice >> 2) % 4], 2]]);
      }
    }
  });

test('property: the direct encoder gives the bytes or the refusal of the former cbor-x encoder', (t) => {
  fc.assert(fc.property(fc.oneof({ weight: 3, arbitrary: accepted }, { weight: 1, arbitrary: refused }), same), { numRuns: 1000 });
  t.pass();
});

test('property: accepted values really are accepted by both', (t) => {
  fc.assert(fc.property(accepted, (v) => !outcome(encodeCanonical, v).startsWith('ENCODE') && same(v)), { numRuns: 300 });
  t.pass();
});

test('property: integers at every head-size boundary encode as before', (t) => {
  fc.assert(fc.property(boundaryInt, (n) => same(n) && same([n]) && same({ n })));
  t.pass();
});

test('property: maps with enough undefined values to need a shorter head encode as before', (t) => {
  // 24 and 256 keys reserve a 2- and 3-byte head; skipped entries can bring the count under it
  const sized = fc.integer({ min: 20, max: 300 }).chain((n) =>
    fc.array(fc.oneof(fc.constant(undefined), fc.integer()), { minLength: n, maxLength: n }),
  );
  fc.assert(
    fc.property(sized, (values) => {
      const object = Object.fromEntries(values.map((v, i) => [`k${i}`, v]));
      return same(object) && same(new Map(Object.entries(object))) && same([object]);
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('long strings, byte strings and arrays take 4-byte heads and grow the buffer as before', (t) => {
  const big = [
    'x'.repeat(70_000),
    '\u00e9'.repeat(40_000),
    '\u{10000}'.repeat(20_000),
    new Uint8Array(70_000).fill(7),
    Array.from({ length: 70_000 }, (_, i) => i),
    { a: 'y'.repeat(300_000), b: [new Uint8Array(100_000)] },
  ];
  for (const v of big) t.true(same(v));
  // the pooled buffer is back to its usual size and still right afterwards
  t.true(same({ small: 1, s: 'abc' }));
});

test('more key lists than the shape cache holds still encode as before', (t) => {
  const objects = Array.from({ length: 1500 }, (_, i) => ({ [`a${i}`]: i, [`b${i % 7}`]: 'v', z: [i] }));
  for (const o of objects) t.true(same(o));
  for (const o of objects.slice(0, 50)) t.true(same(o));
});
