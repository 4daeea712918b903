import test from 'ava';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { Tag, WireError, decodeBounded, decodeCanonical, encodeCanonical, type WireErrorCode } from '../../src/wire/index.js';
import { hex, unhex } from './helpers.js';

function codeOf(run: () => unknown): WireErrorCode | 'none' {
  try {
    run();
  } catch (err) {
    if (err instanceof WireError) return err.code;
    throw err;
  }
  return 'none';
}

const bounded = (h: string, limits?: Parameters<typeof decodeBounded>[1]) => codeOf(() => decodeBounded(unhex(h), limits));
const canonical = (h: string) => codeOf(() => decodeCanonical(unhex(h)));

// RFC 8949 Appendix A, the examples inside our subset.
const rfcExamples: [string, unknown][] = [
  ['00', 0],
  ['01', 1],
  ['0a', 10],
  ['17', 23],
  ['1818', 24],
  ['1819', 25],
  ['1864', 100],
  ['1903e8', 1000],
  ['1a000f4240', 1000000],
  ['1b000000e8d4a51000', 1000000000000],
  ['20', -1],
  ['29', -10],
  ['3863', -100],
  ['3903e7', -1000],
  ['f90000', 0],
  ['f98000', -0],
  ['f93c00', 1],
  ['fb3ff199999999999a', 1.1],
  ['f93e00', 1.5],
  ['f97bff', 65504],
  ['fa47c35000', 100000],
  ['fa7f7fffff', 3.4028234663852886e38],
  ['fb7e37e43c8800759c', 1e300],
  ['f90001', 5.960464477539063e-8],
  ['f90400', 0.00006103515625],
  ['f9c400', -4],
  ['fbc010666666666666', -4.1],
  ['f4', false],
  ['f5', true],
  ['f6', null],
  ['40', new Uint8Array(0)],
  ['4401020304', new Uint8Array([1, 2, 3, 4])],
  ['60', ''],
  ['6161', 'a'],
  ['6449455446', 'IETF'],
  ['62225c', '"\\'],
  ['62c3bc', '\u00fc'],
  ['63e6b0b4', '\u6c34'],
  ['64f0908591', '\u{10151}'],
  ['80', []],
  ['83010203', [1, 2, 3]],
  ['8301820203820405', [1, [2, 3], [4, 5]]],
  ['98190102030405060708090a0b0c0d0e0f101112131415161718181819', Array.from({ length: 25 }, (_, i) => i + 1)],
  ['a0', {}],
  ['a26161016162820203', { a: 1, b: [2, 3] }],
  ['826161a161626163', ['a', { b: 'c' }]],
  ['a56161614161626142616361436164614461656145', { a: 'A', b: 'B', c: 'C', d: 'D', e: 'E' }],
];

test('RFC 8949 Appendix A examples in the subset decode to their values', (t) => {
  for (const [h, want] of rfcExamples) t.true(isDeepStrictEqual(decodeBounded(unhex(h)), want), h);
});

test('decodeCanonical accepts an RFC example exactly when encodeCanonical would produce it', (t) => {
  for (const [h, want] of rfcExamples) {
    const isCanonical = hex(encodeCanonical(want)) === h;
    t.is(canonical(h), isCanonical ? 'none' : 'NOT_CANONICAL', h);
  }
  t.is(canonical('f93c00'), 'NOT_CANONICAL'); // 1.0 must be the integer 1
  t.is(canonical('fb3ff199999999999a'), 'none'); // 1.1 as float64
});

test('RFC 8949 Appendix A examples outside the subset are refused with precise codes', (t) => {
  t.is(bounded('1bffffffffffffffff'), 'INT_RANGE');
  t.is(bounded('3bffffffffffffffff'), 'INT_RANGE');
  t.is(bounded('c249010000000000000000'), 'BAD_TAG');
  t.is(bounded('c074323031332d30332d32315432303a30343a30305a'), 'BAD_TAG');
  t.is(bounded('f97c00'), 'BAD_SIMPLE'); // Infinity
  t.is(bounded('f97e00'), 'BAD_SIMPLE'); // NaN
  t.is(bounded('f9fc00'), 'BAD_SIMPLE'); // -Infinity
  t.is(bounded('fa7f800000'), 'BAD_SIMPLE');
  t.is(bounded('fa7fc00000'), 'BAD_SIMPLE');
  t.is(bounded('faff800000'), 'BAD_SIMPLE');
  t.is(bounded('fb7ff0000000000000'), 'BAD_SIMPLE');
  t.is(bounded('fb7ff8000000000000'), 'BAD_SIMPLE');
  t.is(bounded('fbfff0000000000000'), 'BAD_SIMPLE');
  t.is(bounded('f7'), 'BAD_SIMPLE'); // undefined
  t.is(bounded('f0'), 'BAD_SIMPLE'); // simple(16)
  t.is(bounded('f8ff'), 'BAD_SIMPLE'); // simple(255)
  t.is(bounded('a201020304'), 'BAD_KEY'); // integer keys
  t.is(bounded('5f42010243030405ff'), 'INDEFINITE');
  t.is(bounded('7f657374726561646d696e67ff'), 'INDEFINITE');
  t.is(bounded('9fff'), 'INDEFINITE');
  t.is(bounded('bf61610161629f0203ffff'), 'INDEFINITE');
});

test('safe integer bounds are exact', (t) => {
  t.is(decodeBounded(unhex('1b001fffffffffffff')), Number.MAX_SAFE_INTEGER);
  t.is(bounded('1b0020000000000000'), 'INT_RANGE');
  t.is(decodeBounded(unhex('3b001ffffffffffffe')), -Number.MAX_SAFE_INTEGER);
  t.is(bounded('3b001fffffffffffff'), 'INT_RANGE');
});

test('each structural failure has its code', (t) => {
  t.is(bounded(''), 'TRUNCATED');
  t.is(bounded('18'), 'TRUNCATED');
  t.is(bounded('1a0000'), 'TRUNCATED');
  t.is(bounded('fb3ff1'), 'TRUNCATED');
  t.is(bounded('8301'), 'TOO_LONG'); // 3 elements cannot fit in 1 byte
  t.is(bounded('830102'), 'TOO_LONG');
  t.is(bounded('828101'), 'TRUNCATED'); // [[1], ... ends where the second element should be
  t.is(bounded('0000'), 'TRAILING');
  t.is(bounded('6261'), 'TOO_LONG');
  t.is(bounded('1c'), 'MALFORMED');
  t.is(bounded('5d'), 'MALFORMED');
  t.is(bounded('fe'), 'MALFORMED');
  t.is(bounded('ff'), 'MALFORMED');
  t.is(bounded('1f'), 'MALFORMED');
  t.is(bounded('62c328'), 'MALFORMED'); // invalid UTF-8
  t.is(bounded('63eda080'), 'MALFORMED'); // an encoded surrogate
  t.is(bounded('62c0af'), 'MALFORMED'); // overlong
  t.is(bounded('a1f601'), 'BAD_KEY');
  t.is(bounded('a1416100'), 'BAD_KEY'); // byte-string key
  t.is(bounded('a2616101616102'), 'BAD_KEY'); // adjacent repeat
  t.is(bounded('a3616201616101616203'), 'BAD_KEY'); // repeat after an out-of-order key
  t.is(bounded('82a0a261'), 'TOO_LONG'); // a map of 2 entries cannot fit in the 1 byte left
  t.is(bounded('c7f6'), 'BAD_TAG');
});

test('maps with keys out of order are accepted by decodeBounded, refused by decodeCanonical', (t) => {
  t.deepEqual(decodeBounded(unhex('a2616201616102')), { b: 1, a: 2 });
  t.is(canonical('a2616201616102'), 'NOT_CANONICAL');
  // a repeat hidden inside an array of maps is still found
  t.is(bounded('82a0a3616201616101616203'), 'BAD_KEY');
});

test('decodeCanonical refuses non-shortest heads', (t) => {
  t.is(canonical('1817'), 'NOT_CANONICAL');
  t.is(canonical('1900ff'), 'NOT_CANONICAL');
  t.is(canonical('1a0000ffff'), 'NOT_CANONICAL');
  t.is(canonical('1b00000000ffffffff'), 'NOT_CANONICAL');
  t.is(canonical('3817'), 'NOT_CANONICAL');
  t.is(canonical('780161'), 'NOT_CANONICAL');
  t.is(canonical('580100'), 'NOT_CANONICAL');
  t.is(canonical('980101'), 'NOT_CANONICAL');
  t.is(canonical('b801616101'), 'NOT_CANONICAL');
  t.is(canonical('fb8000000000000000'), 'NOT_CANONICAL'); // -0.0 is the integer 0
  t.is(canonical('fa3fc00000'), 'NOT_CANONICAL'); // 1.5 as float32
  t.is(canonical('1818'), 'none');
});

test('limits are enforced', (t) => {
  t.is(bounded('00', { maxBytes: 1 }), 'none');
  t.is(bounded('1818', { maxBytes: 1 }), 'FRAME_TOO_LARGE');
  t.is(bounded('8301020304', { maxItems: 2 }), 'TOO_LONG');
  t.is(bounded('820102', { maxItems: 2 }), 'none');
  t.is(bounded('a2616101616202', { maxItems: 1 }), 'TOO_LONG');
  t.is(bounded('43010203', { maxStringBytes: 2 }), 'TOO_LONG');
  t.is(bounded('63616263', { maxStringBytes: 2 }), 'TOO_LONG');
  t.is(bounded('626162', { maxStringBytes: 2 }), 'none');
  t.is(bounded('818100', { maxDepth: 1 }), 'TOO_DEEP');
  t.is(bounded('818100', { maxDepth: 2 }), 'none');
  t.is(bounded('8180', { maxDepth: 1 }), 'TOO_DEEP'); // an empty array still nests
  t.is(bounded('00', { maxDepth: undefined, maxBytes: undefined }), 'none'); // undefined means the default
  // the deepest value encodeCanonical writes is also the deepest the decoder can be allowed
  let deep: unknown = 0;
  for (let i = 0; i < 64; i++) deep = [deep];
  t.is(codeOf(() => decodeCanonical(encodeCanonical(deep), { maxDepth: 64 })), 'none');
  t.is(codeOf(() => decodeCanonical(encodeCanonical(deep))), 'TOO_DEEP');
});

test('bad limits are refused with ARGUMENT', (t) => {
  const bad = [
    { maxDepth: 0 },
    { maxDepth: 65 },
    { maxDepth: 1.5 },
    { maxBytes: 0 },
    { maxItems: -1 },
    { maxItems: 2 ** 40 },
    { maxBytes: 2 ** 31 },
    { maxStringBytes: Number.NaN },
    { allowedTags: [7] as unknown as ReadonlySet<number> },
    { allowedTags: new Set([-1]) },
    { allowedTags: new Set([2 ** 32]) },
    { allowedTags: new Set([1]) }, // a date in cbor-x
    { allowedTags: new Set([28]) }, // shared references in cbor-x
    { allowedTags: new Set([0xdfff]) }, // records in cbor-x
  ];
  for (const limits of bad) t.is(bounded('00', limits), 'ARGUMENT', JSON.stringify(limits, (_, v) => (v instanceof Set ? [...v] : v)));
  t.is(codeOf(() => decodeBounded('00' as unknown as Uint8Array)), 'ARGUMENT');
  t.is(codeOf(() => decodeBounded(unhex('00'), null as unknown as undefined)), 'ARGUMENT');
});

test('an allowed tag decodes as a Tag; it is never canonical', (t) => {
  const value = decodeBounded(unhex('d903e801'), { allowedTags: new Set([1000]) });
  t.true(value instanceof Tag);
  t.deepEqual({ ...(value as Tag) }, { tag: 1000, value: 1 });
  t.is(bounded('d903e901', { allowedTags: new Set([1000]) }), 'BAD_TAG');
  t.is(codeOf(() => decodeCanonical(unhex('d903e801'), { allowedTags: new Set([1000]) })), 'NOT_CANONICAL');
  t.is(bounded('d903e8'), 'BAD_TAG');
  t.is(bounded('d903e8', { allowedTags: new Set([1000]) }), 'TRUNCATED');
});

test('a changed allowedTags Set after the call cannot widen a later default decode', (t) => {
  const tags = new Set([1000]);
  decodeBounded(unhex('d903e801'), { allowedTags: tags });
  t.is(bounded('d903e801'), 'BAD_TAG');
});

test('a 9-byte frame declaring a 4 GiB string is refused without allocating', (t) => {
  const frames = ['5b0000000100000000', '7b0000000100000000', '5affffffff', '9b0000000100000000', 'bb0000000100000000'].map(unhex);
  const before = process.memoryUsage();
  for (let i = 0; i < 2000; i++) {
    for (const f of frames) t.is(codeOf(() => decodeBounded(f)), 'TOO_LONG');
  }
  const after = process.memoryUsage();
  t.true(after.arrayBuffers - before.arrayBuffers < 1024 * 1024, `arrayBuffers grew by ${after.arrayBuffers - before.arrayBuffers}`);
  t.true(after.rss - before.rss < 64 * 1024 * 1024, `rss grew by ${after.rss - before.rss}`);
  // even when the limits would allow it, the bytes left do not
  t.is(codeOf(() => decodeBounded(frames[0]!, { maxStringBytes: 0x7fffffff })), 'TOO_LONG');
});

test('100000 nested arrays, maps or tags are refused by depth without overflowing the stack', (t) => {
  const arrays = new Uint8Array(100001).fill(0x81);
  arrays[100000] = 0;
  t.is(codeOf(() => decodeBounded(arrays)), 'TOO_DEEP');
  t.is(codeOf(() => decodeBounded(arrays, { maxDepth: 64 })), 'TOO_DEEP');
  const maps = new Uint8Array(300001);
  for (let i = 0; i < 100000; i++) maps.set([0xa1, 0x61, 0x61], i * 3);
  t.is(codeOf(() => decodeCanonical(maps)), 'TOO_DEEP');
  const tags = new Uint8Array(100001).fill(0xc7);
  tags[100000] = 0;
  t.is(codeOf(() => decodeBounded(tags, { allowedTags: new Set([7]) })), 'TOO_DEEP');
});

test('keys that could reach a prototype stay ordinary own properties or are refused', (t) => {
  // {"constructor": {"prototype": {"polluted": 1}}}, and the same under "__proto__"
  const nested = encodeCanonical({ constructor: { prototype: { polluted: 1 } }, toString: 1, hasOwnProperty: 2 });
  const value = decodeCanonical(nested) as Record<string, unknown>;
  t.is(Object.getPrototypeOf(value), Object.prototype);
  t.true(Object.hasOwn(value, 'constructor'));
  t.is(({} as Record<string, unknown>)['polluted'], undefined);
  t.is(Object.getPrototypeOf({}), Object.prototype);
  const proto = unhex('a1695f5f70726f746f5f5f' + 'a168706f6c6c7574656401');
  t.is(codeOf(() => decodeBounded(proto)), 'BAD_KEY');
  t.is(codeOf(() => decodeCanonical(proto)), 'BAD_KEY');
  // also when it hides behind an out-of-order key, inside an array
  t.is(bounded('81a2617a01695f5f70726f746f5f5fa0'), 'BAD_KEY');
  t.is(({} as Record<string, unknown>)['polluted'], undefined);
});

test('byte strings come out as plain Uint8Array copies, even from a Buffer', (t) => {
  const input = Buffer.from('a1616142abcd', 'hex');
  const value = decodeBounded(input) as { a: Uint8Array };
  t.is(Object.getPrototypeOf(value.a), Uint8Array.prototype);
  input[4] = 0;
  t.is(hex(value.a), 'abcd');
});

test('property: text strings are accepted exactly when they are valid UTF-8', (t) => {
  const fatal = new TextDecoder('utf-8', { fatal: true });
  const utf8ish = fc.oneof(
    fc.uint8Array({ maxLength: 12 }),
    fc.uint8Array({ maxLength: 80 }),
    fc.string({ unit: 'binary', maxLength: 40 }).map((s) => new Uint8Array(Buffer.from(s, 'utf8'))),
    fc.array(fc.constantFrom(0x41, 0x80, 0xbf, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0x9f, 0xa0, 0x8f, 0x90), { maxLength: 10 }).map((a) => new Uint8Array(a)),
  );
  fc.assert(
    fc.property(utf8ish, (raw) => {
      const head = raw.length < 24 ? [0x60 + raw.length] : [0x78, raw.length];
      const frame = new Uint8Array([...head, ...raw]);
      let expected: string | undefined;
      try {
        expected = fatal.decode(raw);
      } catch {
        expected = undefined;
      }
      const got = codeOf(() => decodeBounded(frame));
      return expected === undefined ? got === 'MALFORMED' : got === 'none' && decodeBounded(frame) === expected;
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test('the private copy of the input leaves nothing behind between decodings', (t) => {
  const long = encodeCanonical({ a: 'x'.repeat(500), b: [1, 2, 3] });
  t.deepEqual(decodeBounded(long), { a: 'x'.repeat(500), b: [1, 2, 3] });
  // shorter frames that would read on into the previous frame's bytes if the length were lost
  t.is(bounded(hex(long).slice(0, 40)), 'TOO_LONG');
  t.is(bounded('18'), 'TRUNCATED');
  t.deepEqual(decodeBounded(unhex('820102')), [1, 2]);
});

test('frames larger than the reused copy decode the same, from a copy of their own', (t) => {
  const value = { big: new Uint8Array(100_000).fill(9), text: 'é'.repeat(50_000) };
  const bytes = encodeCanonical(value);
  t.true(bytes.length > 64 * 1024);
  const input = Buffer.from(bytes);
  const decoded = decodeCanonical(input) as typeof value;
  input.fill(0);
  t.deepEqual(decoded, value);
  t.is(Object.getPrototypeOf(decoded.big), Uint8Array.prototype);
});
