import fc from 'fast-check';

export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
export const unhex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));

const key = fc.string({ unit: 'binary', maxLength: 12 }).filter((k) => k !== '__proto__');

/** Values inside the canonical subset that decode back to themselves (-0 would come back as 0). */
export const canonicalValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown; list: unknown[]; map: Record<string, unknown> }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0)),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.uint8Array({ maxLength: 40 }),
    tie('list'),
    tie('map'),
  ),
  list: fc.array(tie('value'), { maxLength: 5 }),
  map: fc.dictionary(key, tie('value'), { maxKeys: 5, noNullPrototype: true }),
})).value;

const bytesOf = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });

/** Valid ping and pong envelopes, with and without the optional fields. */
export const pingPongEnvelope = fc.record(
  {
    v: fc.constant(1 as const),
    type: fc.constantFrom('ping' as const, 'pong' as const),
    from: bytesOf(32),
    to: bytesOf(32),
    ts: fc.maxSafeNat(),
    nonce: bytesOf(16),
    body: fc.record({ seq: fc.maxSafeNat() }),
    sig: bytesOf(64),
  },
  { requiredKeys: ['v', 'type', 'from', 'ts', 'nonce', 'body'] },
);
