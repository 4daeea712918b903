import test from 'ava';
import fc from 'fast-check';
import { encodeCanonical } from '../../src/wire/index.js';
import { REJECT_REASONS, commandToJson, signCommand, type Verdict } from '../../src/commands/index.js';
import { encodableJson } from '../helpers/arbitraries.js';
import { ALGORITHMS, FLEET, PEER_ID, operatorOf, setup } from './helpers.js';

const known = (v: Verdict): boolean => !v.ok && REJECT_REASONS.includes(v.reason) && v.message.length > 0;

test('fuzz: random bytes, JSON-looking bytes and random CBOR maps are refused with a known reason', async (t) => {
  const s = await setup();
  const payloads = fc.oneof(
    fc.uint8Array({ maxLength: 600 }),
    fc.uint8Array({ maxLength: 300 }).map((b) => Uint8Array.from([0x7b, ...b])),
    fc.string({ maxLength: 200 }).map((text) => new TextEncoder().encode(`{"body":"${text}","sig":"00"}`)),
    fc.tuple(encodableJson({ maxDepth: 3 }), fc.uint8Array({ maxLength: 70 })).map(([value, sig]) => encodeCanonical({ body: encodeCanonical(value), sig })),
  );
  await fc.assert(
    fc.asyncProperty(payloads, async (bytes) => known(await s.verifier.verify(bytes))),
    { numRuns: 800 },
  );
  t.is(s.guard.size, 0);
});

/** One edit to a message: flip a bit, cut it short, insert a byte, or overwrite one. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

/** Applies `m` to a copy of `bytes`; the result always differs from `bytes`. */
function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const at = m.at % bytes.length;
  switch (m.kind) {
    case 'flip': {
      const out = bytes.slice();
      out[at]! ^= 1 << m.bit;
      return out;
    }
    case 'cut':
      return bytes.subarray(0, at);
    case 'insert':
      return Uint8Array.from([...bytes.subarray(0, at), m.byte, ...bytes.subarray(at)]);
    case 'set': {
      const out = bytes.slice();
      out[at] = out[at] === m.byte ? m.byte ^ 0xff : m.byte;
      return out;
    }
  }
}

for (const algorithm of ALGORITHMS) {
  test(`fuzz: any edit to a valid ${algorithm} command in CBOR form is refused, and the original still runs after`, async (t) => {
    const s = await setup();
    const op = operatorOf(s, algorithm);
    const original = signCommand({ secretKey: op.secretKey, algorithm, fleet: FLEET, target: PEER_ID, name: 'set-log-level', args: { level: 'warn' }, ttlMs: 60_000, clock: s.clock });
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => known(await s.verifier.verify(mutate(original, m)))),
      { numRuns: 400 },
    );
    t.true((await s.verifier.verify(original)).ok, 'no edited copy used up the nonce');
  });

  test(`fuzz: edits to the JSON form of a ${algorithm} command are refused unless they leave the same command (hex case, whitespace)`, async (t) => {
    const s = await setup();
    const op = operatorOf(s, algorithm);
    const original = signCommand({ secretKey: op.secretKey, algorithm, fleet: FLEET, target: '*', name: 'enter-maintenance', args: { reason: 'fuzz' }, ttlMs: 60_000, clock: s.clock });
    const json = new TextEncoder().encode(commandToJson(original));
    const reference = JSON.parse(commandToJson(original)) as unknown;
    const sameCommand = (bytes: Uint8Array): boolean => {
      try {
        const parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as Record<string, unknown>;
        const lower = Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, typeof v === 'string' ? v.toLowerCase() : v]));
        return JSON.stringify(lower) === JSON.stringify(reference) && bytes[0] === 0x7b;
      } catch {
        return false;
      }
    };
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const edited = mutate(json, m);
        const v = await s.verifier.verify(edited);
        return v.ok ? sameCommand(edited) : known(v);
      }),
      { numRuns: 400 },
    );
    // Accepted now, unless an edit that left the same command was accepted first.
    const last = await s.verifier.verify(json);
    t.true(last.ok || last.reason === 'REPLAYED');
  });
}
