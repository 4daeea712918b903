import test from 'ava';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import * as s from '../../src/schema/index.js';
import { envelopeSchema } from '../../src/wire/header.js';
import { headerShape } from '../../src/wire/shape.js';

const body = s.object({ seq: s.int({ min: 0 }), note: s.optional(s.text({ max: 8 })) });
const fast = envelopeSchema(body);
const reference = s.object({ ...headerShape, body });

/** The parsed value with its key order, or the SchemaError's message. */
function outcome(schema: s.Schema<unknown>, value: unknown): unknown {
  try {
    const parsed = schema.parse(value, '');
    return { keys: Object.keys(parsed as object), parsed };
  } catch (err) {
    if (err instanceof s.SchemaError) return `${err.path} | ${err.message}`;
    throw err;
  }
}

const bytes = (n: number) => new Uint8Array(n).fill(n);
const MISSING = Symbol('missing');
// For every field: a valid value first (most runs keep it), then invalid ones; MISSING leaves it out.
const candidates: Record<string, readonly unknown[]> = {
  v: [1, 2, '1', MISSING],
  type: ['ping', 'ota.offer', 'Bad Type', '', 5, MISSING],
  from: [bytes(32), bytes(31), 'x', MISSING],
  to: [MISSING, bytes(32), undefined, bytes(33), null],
  ts: [1_700_000_000_123, 0, -1, 1.5, 2 ** 53, '1', MISSING],
  nonce: [bytes(16), bytes(15), MISSING],
  sig: [bytes(64), MISSING, undefined, bytes(63)],
  body: [{ seq: 1 }, { seq: 1, note: 'hi' }, { seq: -1 }, { seq: 1, extra: true }, 'body', undefined, MISSING],
};
const pick = (options: readonly unknown[]) =>
  fc.oneof({ weight: 6, arbitrary: fc.constant(options[0]) }, { weight: 1, arbitrary: fc.constantFrom(...options) });
const record = fc
  .record(Object.fromEntries(Object.entries(candidates).map(([k, options]) => [k, pick(options)])))
  .chain((fields) => {
    const r = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== MISSING));
    return fc.constantFrom<Record<string, unknown>>(r, r, r, { ...r, relay: 1 }, Object.assign(Object.create(null) as object, r));
  });
const value = fc.oneof(
  { weight: 12, arbitrary: record },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, [], bytes(3), 'envelope', new Date(0), new Map()) },
);

test('property: the fast path gives what object() gives, value, key order and error alike', (t) => {
  let accepted = 0;
  fc.assert(
    fc.property(value, (v) => {
      const got = outcome(fast, v);
      if (typeof got !== 'string') accepted++;
      return isDeepStrictEqual(got, outcome(reference, v));
    }),
    { numRuns: 3000 },
  );
  // both branches are exercised
  t.true(accepted > 300 && accepted < 2700, `${accepted} of 3000 accepted`);
});

test('the fast path reads exactly the fields of headerShape', (t) => {
  // header.ts lists these fields one by one: a new header field must be added there too
  t.deepEqual(Object.keys(headerShape), ['v', 'type', 'from', 'to', 'ts', 'nonce', 'sig']);
});

test('a nested path goes to object() and keeps its prefix', (t) => {
  const err = t.throws(() => fast.parse({ v: 1 }, 'outer'), { instanceOf: s.SchemaError });
  t.regex(err.message, /^outer\.type/);
});

test('getters are read once per field', (t) => {
  let reads = 0;
  const env = {
    v: 1,
    type: 'ping',
    from: bytes(32),
    ts: 1,
    nonce: bytes(16),
    get body() {
      reads++;
      return { seq: 1 };
    },
  };
  fast.parse(env, '');
  t.is(reads, 1);
});
