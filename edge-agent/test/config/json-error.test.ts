import test from 'ava';
import fc from 'fast-check';
import { ConfigError, locateJsonError } from '../../src/config/index.js';

test('valid JSON has no error', (t) => {
  for (const s of ['{}', ' [1, -0.5e+3, "a\\u00e9\\n", true, false, null, {"a": []}] ', '"x"', '0']) {
    t.is(locateJsonError(s), undefined, s);
  }
});

test('the usual config-file mistakes get a line, a column and a reason', (t) => {
  t.like(locateJsonError('{\n  "a": 1,\n}'), { line: 3, column: 1, expected: 'a double-quoted property name', got: '"}"' });
  t.like(locateJsonError('{\n  // the fleet\n  "fleet": "x"\n}'), {
    line: 2,
    column: 3,
    expected: 'a double-quoted property name or "}"',
    got: '"/"',
  });
  t.like(locateJsonError("{'a': 1}"), { line: 1, column: 2, got: '"\'"' });
  t.like(locateJsonError('{"a": 1 "b": 2}'), { line: 1, column: 9, expected: '"," or "}"' });
  t.like(locateJsonError('[1, 2'), { offset: 5, expected: '"," or "]"', got: 'the end of the text' });
  t.like(locateJsonError('{"a" 1}'), { column: 6, expected: '":" after the property name' });
  t.like(locateJsonError('{"a": tru}'), { column: 10, expected: '"true"' });
  t.like(locateJsonError('{"a": 01}'), { column: 8, expected: '"," or "}"' });
  t.like(locateJsonError('{"a": 1.}'), { column: 9, expected: 'a digit after "."' });
  t.like(locateJsonError('{"a": -}'), { column: 8, expected: 'a digit' });
  t.like(locateJsonError('{"a": 1e}'), { column: 9, expected: 'a digit in the exponent' });
  t.like(locateJsonError('"a\\q"'), { column: 4, expected: 'an escape sequence: \\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX' });
  t.like(locateJsonError('"\\u12g4"'), { column: 6, expected: '4 hexadecimal digits after "\\u"' });
  t.like(locateJsonError('"a\tb"'), { column: 3, got: '"\\t"' });
  t.like(locateJsonError('"abc'), { column: 5, expected: 'a closing \'"\'' });
  t.like(locateJsonError('{} {}'), { column: 4, expected: 'the end of the text' });
  t.like(locateJsonError(''), { line: 1, column: 1, expected: 'a value', got: 'the end of the text' });
  t.like(locateJsonError('\r\n\r\n  x'), { line: 3, column: 3 });
  t.like(locateJsonError('["😀" x]'), { got: '"x"', column: 7 }); // columns count UTF-16 units
  t.like(locateJsonError('[😀]'), { got: '"😀"' });
});

test('nesting far deeper than the call stack allows is fine', (t) => {
  const depth = 200_000;
  t.is(locateJsonError('['.repeat(depth) + ']'.repeat(depth)), undefined);
  t.like(locateJsonError('['.repeat(depth)), { offset: depth, got: 'the end of the text' });
});

test('a non-string is a caller error', (t) => {
  const err = t.throws(() => locateJsonError(42 as unknown as string), { instanceOf: ConfigError });
  t.is(err?.code, 'BAD_ARGUMENT');
});

/** JSON.parse is the oracle: same verdict always, same offset whenever it reports one. */
function agreesWithJsonParse(s: string): boolean {
  let ok = true;
  let offset: number | undefined;
  try {
    JSON.parse(s);
  } catch (err) {
    ok = false;
    const message = (err as Error).message;
    const at = /at position (\d+)/.exec(message);
    if (at) offset = Number(at[1]);
    else if (message.includes('Unexpected end of JSON input')) offset = s.length;
  }
  const found = locateJsonError(s);
  if (ok) return found === undefined;
  return found !== undefined && (offset === undefined || found.offset === offset);
}

test('agrees with JSON.parse on strings built from JSON punctuation (property)', (t) => {
  const unit = fc.constantFrom(...'{}[]:,"\\ \n0123456789-+.eEtrufalsn/u'.split(''));
  fc.assert(fc.property(fc.string({ unit, maxLength: 24 }), agreesWithJsonParse), { numRuns: 5000 });
  t.pass();
});

test('agrees with JSON.parse on damaged JSON documents (property)', (t) => {
  fc.assert(
    fc.property(fc.json(), fc.nat(), fc.string({ maxLength: 3 }), (json, at, insert) => {
      const k = at % (json.length + 1);
      return (
        agreesWithJsonParse(json) &&
        agreesWithJsonParse(json.slice(0, k) + insert + json.slice(k)) &&
        agreesWithJsonParse(json.slice(0, k) + json.slice(k + 1))
      );
    }),
    { numRuns: 2000 },
  );
  t.pass();
});
