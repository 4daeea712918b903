import test from 'ava';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { Decoder } from 'cbor-x';
import { WireError, decodeBounded, decodeCanonical, encodeCanonical } from '../../src/wire/index.js';
import { canonicalValue, hex } from './helpers.js';

// An independent reader that keeps map keys in the order they appear in the bytes.
const ordered = new Decoder({ useRecords: false, mapsAsObjects: false });

// Characters whose UTF-16 and UTF-8 orders disagree, or whose UTF-8 lengths differ.
const trickyKey = fc.string({ unit: fc.constantFrom('a', '\u00e9', '\u0800', '\ud7ff', '\ue000', '\uffff', '\u{10000}', '\u{10ffff}'), maxLength: 4 });

function utf8Order(a: string, b: string): number {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length - y.length || Buffer.compare(x, y);
}

function encodeError(value: unknown): WireError {
  const err = (() => {
    try {
      encodeCanonical(value);
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  if (!(err instanceof WireError)) throw new Error(`expected a WireError, got ${String(err)}`);
  return err;
}

test('integers take their shortest head, including beyond 32 bits', (t) => {
  const cases: [number, string][] = [
    [0, '00'],
    [23, '17'],
    [24, '1818'],
    [255, '18ff'],
    [256, '190100'],
    [65535, '19ffff'],
    [65536, '1a00010000'],
    [2 ** 32 - 1, '1affffffff'],
    [2 ** 32, '1b0000000100000000'],
    [1_700_000_000_000, '1b0000018bcfe56800'],
    [Number.MAX_SAFE_INTEGER, '1b001fffffffffffff'],
    [-1, '20'],
    [-24, '37'],
    [-25, '3818'],
    [-(2 ** 32), '3affffffff'],
    [-(2 ** 32) - 1, '3b0000000100000000'],
    [-Number.MAX_SAFE_INTEGER, '3b001ffffffffffffe'],
  ];
  for (const [n, want] of cases) t.is(hex(encodeCanonical(n)), want, String(n));
});

test('property: every safe integer is encoded in the shortest form and decodes back', (t) => {
  fc.assert(
    fc.property(fc.maxSafeInteger(), (n) => {
      const bytes = encodeCanonical(n);
      const arg = n >= 0 ? n : -1 - n;
      const size = arg < 24 ? 1 : arg < 256 ? 2 : arg < 65536 ? 3 : arg < 2 ** 32 ? 5 : 9;
      return bytes.length === size && bytes[0]! >> 5 === (n < 0 ? 1 : 0) && decodeCanonical(bytes) === n;
    }),
  );
  t.pass();
});

test('non-integers are float64, and -0 is the integer 0', (t) => {
  t.is(hex(encodeCanonical(1.5)), 'fb3ff8000000000000');
  t.is(hex(encodeCanonical(2 ** 53)), 'fb4340000000000000');
  t.is(hex(encodeCanonical(-0)), '00');
  t.is(hex(encodeCanonical([-0, { a: -0 }])), '8200a1616100');
});

test('map keys are sorted by encoded length, then bytewise', (t) => {
  t.is(hex(encodeCanonical({ b: 1, aa: 3, a: 2 })), 'a3616102616201626161' + '03');
  t.is(hex(encodeCanonical({ 10: 'x', b: 'y', 2: 'z' })), 'a3' + '6132617a' + '61626179' + '6231306178');
  // UTF-16 order would put the surrogate pair of U+10000 before U+FFFF; UTF-8 order does not
  t.is(hex(encodeCanonical({ '\u{10000}': 1, '\uffffa': 2 })), 'a2' + '64efbfbf6102' + '64f090808001');
});

test('property: the same entries give the same bytes whatever the insertion order or container', (t) => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.tuple(fc.string({ unit: 'binary' }), canonicalValue), { selector: ([k]) => k, maxLength: 8 }), fc.nat(), (entries, seed) => {
      const kept = entries.filter(([k]) => k !== '__proto__');
      const shuffled = [...kept].sort((a, b) => ((a[0].length * 31 + seed) % 7) - ((b[0].length * 31 + seed) % 7));
      const one = encodeCanonical(Object.fromEntries(kept));
      const two = encodeCanonical(Object.fromEntries(shuffled));
      const three = encodeCanonical(new Map(shuffled));
      return hex(one) === hex(two) && hex(one) === hex(three);
    }),
  );
  t.pass();
});

test('property: encoded map keys appear in UTF-8 length-then-bytewise order', (t) => {
  fc.assert(
    fc.property(fc.dictionary(fc.oneof(fc.string({ unit: 'binary', maxLength: 6 }), trickyKey), fc.integer(), { maxKeys: 12 }), (dict) => {
      delete (dict as Record<string, unknown>)['__proto__'];
      const decoded = ordered.decode(encodeCanonical(dict)) as Map<string, unknown>;
      const keys = [...decoded.keys()];
      return JSON.stringify(keys) === JSON.stringify([...keys].sort(utf8Order));
    }),
  );
  t.pass();
});

test('property: encodeCanonical output is accepted by decodeCanonical and round-trips', (t) => {
  fc.assert(
    fc.property(canonicalValue, (value) => {
      const bytes = encodeCanonical(value);
      return isDeepStrictEqual(decodeCanonical(bytes), value) && isDeepStrictEqual(decodeBounded(bytes), value);
    }),
  );
  t.pass();
});

test('results are independent copies that later encodings do not overwrite', (t) => {
  const first = encodeCanonical({ x: 1 });
  const snapshot = hex(first);
  for (let i = 0; i < 2000; i++) encodeCanonical({ y: i, pad: 'z'.repeat(40) });
  t.is(hex(first), snapshot);
  t.is(Object.getPrototypeOf(first), Uint8Array.prototype);
});

test('byte strings, Buffers and scalars encode as plain CBOR', (t) => {
  t.is(hex(encodeCanonical(new Uint8Array([1, 2]))), '420102');
  t.is(hex(encodeCanonical(Buffer.from([1, 2]))), '420102');
  t.is(hex(encodeCanonical([null, true, false, ''])), '84f6f5f460');
  t.is(hex(encodeCanonical({ a: undefined, b: 1 })), 'a1616201');
});

test('keys named like Object.prototype members or array indices are ordinary keys', (t) => {
  const value = { constructor: [1], toJSON: 2, valueOf: 3, 1: 4, 0: 5, then: 6 };
  const bytes = encodeCanonical(value);
  t.deepEqual(ordered.decode(bytes), new Map<string, unknown>([['0', 5], ['1', 4], ['then', 6], ['toJSON', 2], ['valueOf', 3], ['constructor', [1]]]));
  t.deepEqual(decodeCanonical(bytes), value);
});

test('values outside the canonical subset are refused with ENCODE naming the path', (t) => {
  t.is(encodeError(Number.NaN).code, 'ENCODE');
  t.is(encodeError(Infinity).code, 'ENCODE');
  t.is(encodeError(undefined).code, 'ENCODE');
  t.is(encodeError(10n).code, 'ENCODE');
  t.is(encodeError(new Date(0)).code, 'ENCODE');
  t.is(encodeError(new Uint16Array(2)).code, 'ENCODE');
  t.is(encodeError(() => 1).code, 'ENCODE');
  t.is(encodeError(new Map([[1, 2]])).code, 'ENCODE');
  t.regex(encodeError({ a: [1, { b: Symbol('x') }] }).message, /^\$\.a\[1\]\.b: /);
});

test('strings with lone surrogates are refused instead of written as invalid UTF-8', (t) => {
  t.is(encodeError('\ud800').code, 'ENCODE');
  t.is(encodeError({ ['k\udc00']: 1 }).code, 'ENCODE');
  t.is(hex(encodeCanonical('\ud83d\ude00')), '64f09f9880');
});

test('an own __proto__ property is refused, as the decoder would refuse it', (t) => {
  const value = JSON.parse('{"__proto__": 1}') as unknown;
  t.is(encodeError(value).code, 'ENCODE');
});

test('nesting beyond MAX_NESTING is refused', (t) => {
  let deep: unknown = 1;
  for (let i = 0; i < 65; i++) deep = [deep];
  t.is(encodeError(deep).code, 'ENCODE');
  let ok: unknown = 1;
  for (let i = 0; i < 64; i++) ok = [ok];
  t.notThrows(() => encodeCanonical(ok));
});

test('arrays of any class get a definite length', (t) => {
  // the former cbor-x based encoder wrote these as indefinite-length arrays, which are not canonical
  class Items extends Array<number> {}
  const ownConstructor = Object.assign([1, 2], { constructor: 5 });
  for (const value of [Items.from([1, 2]), ownConstructor, { a: Items.from([1, 2]) }]) {
    const bytes = encodeCanonical(value);
    t.is(hex(bytes), hex(encodeCanonical(Array.isArray(value) ? [1, 2] : { a: [1, 2] })));
    t.notThrows(() => decodeCanonical(bytes));
  }
});

test('each property is read once, so a getter cannot make the head and the entries disagree', (t) => {
  let reads = 0;
  const value = {
    get flaky() {
      reads++;
      return reads === 1 ? undefined : 'now defined';
    },
    b: 1,
  };
  t.is(hex(encodeCanonical(value)), 'a1616201');
  t.is(reads, 1);
});
