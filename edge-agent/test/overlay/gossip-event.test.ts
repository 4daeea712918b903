/** The signed overlay event: encode/decode round trip and every rejection of the codec. */
import test from 'ava';
import fc from 'fast-check';
import { generateKeyPair, peerIdOf, sign, solvePow } from '../../src/identity/index.js';
import { encodeCanonical, decodeCanonical } from '../../src/wire/index.js';
import { GossipError } from '../../src/overlay/gossip-errors.js';
import {
  EVENT_DOMAIN,
  decodeEvent,
  encodeEvent,
  encodeFrame,
  eventHash,
  parseBody,
  parseFrame,
  signEvent,
  type EventSigner,
} from '../../src/overlay/gossip-event.js';

const DIFFICULTY = 6;

async function makeSigner(): Promise<EventSigner & { peerId: Uint8Array }> {
  const { secretKey, publicKey } = generateKeyPair();
  return { secretKey, publicKey, pow: await solvePow(publicKey, DIFFICULTY), peerId: peerIdOf(publicKey) };
}

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof GossipError ? err.code : `foreign ${String(err)}`;
  }
};

function resign(signer: EventSigner, body: Record<string, unknown>, ttl = 3): Uint8Array {
  const bytes = encodeCanonical(body);
  const msg = new Uint8Array([...EVENT_DOMAIN, ...bytes]);
  return encodeFrame({ body: bytes, sig: sign(signer.secretKey, msg), ttl });
}

test('round trip: decodeEvent returns the signed fields, the ttl and the body hash', async (t) => {
  const a = await makeSigner();
  const b = await makeSigner();
  const signed = signEvent({ event: 'connect', neighbour: b.peerId, direction: 'out', timestamp: 1_700_000_000_123 }, a);
  const wire = encodeEvent(signed, 5);
  const out = decodeEvent(wire, { difficulty: DIFFICULTY });
  t.is(out.ttl, 5);
  t.is(out.event.event, 'connect');
  t.is(out.event.direction, 'out');
  t.is(out.event.timestamp, 1_700_000_000_123);
  t.deepEqual(out.event.peerId, a.peerId);
  t.deepEqual(out.event.neighbour, b.peerId);
  t.deepEqual(out.hash, eventHash(signed.body));
  t.deepEqual(out.hash, signed.hash);
  t.true(wire.length < 400, `frame is ${wire.length} bytes`);
});

test('the hash ignores the ttl: the same event at another hop count has the same hash', async (t) => {
  const a = await makeSigner();
  const b = await makeSigner();
  const signed = signEvent({ event: 'disconnect', neighbour: b.peerId, direction: 'in', timestamp: 42 }, a);
  const h1 = decodeEvent(encodeEvent(signed, 6), { difficulty: DIFFICULTY }).hash;
  const h2 = decodeEvent(encodeEvent(signed, 1), { difficulty: DIFFICULTY }).hash;
  t.deepEqual(h1, h2);
});

test('a flipped signature byte is BAD_SIGNATURE; a flipped body byte never passes', async (t) => {
  const a = await makeSigner();
  const b = await makeSigner();
  const signed = signEvent({ event: 'connect', neighbour: b.peerId, direction: 'out', timestamp: 1000 }, a);
  const sig = signed.sig.slice();
  sig[10]! ^= 1;
  t.is(code(() => decodeEvent(encodeFrame({ body: signed.body, sig, ttl: 2 }), { difficulty: DIFFICULTY })), 'BAD_SIGNATURE');
  for (let i = 0; i < signed.body.length; i++) {
    const body = signed.body.slice();
    body[i]! ^= 0x01;
    const c = code(() => decodeEvent(encodeFrame({ body, sig: signed.sig, ttl: 2 }), { difficulty: DIFFICULTY }));
    t.truthy(c, `flip at ${i} passed`);
    t.false(c!.startsWith('foreign'), `flip at ${i}: ${c}`);
  }
});

test('a signer without enough proof of work is BAD_POW', async (t) => {
  const a = await makeSigner();
  const b = await makeSigner();
  const signed = signEvent({ event: 'connect', neighbour: b.peerId, direction: 'out', timestamp: 1000 }, a);
  // Difficulty 6 was solved; 40 bits by chance is 2^-34.
  t.is(code(() => decodeEvent(encodeEvent(signed, 2), { difficulty: 40 })), 'BAD_POW');
});

test('peerId other than SHA-256 of the key, or a self-loop, is INCONSISTENT', async (t) => {
  const a = await makeSigner();
  const b = await makeSigner();
  const base = { v: 1, event: 'connect', peerId: a.peerId, neighbour: b.peerId, direction: 'out', timestamp: 5, publicKey: a.publicKey, pow: a.pow };
  t.is(code(() => decodeEvent(resign(a, base), { difficulty: DIFFICULTY })), undefined);
  t.is(code(() => decodeEvent(resign(a, { ...base, peerId: b.peerId, neighbour: a.peerId }), { difficulty: DIFFICULTY })), 'INCONSISTENT');
  t.is(code(() => decodeEvent(resign(a, { ...base, neighbour: a.peerId }), { difficulty: DIFFICULTY })), 'INCONSISTENT');
});

test('bad fields, extra fields, wrong version, non-canonical bytes are MALFORMED', async (t) => {
  const a = await makeSigner();
  const b = await makeSigner();
  const base = { v: 1, event: 'connect', peerId: a.peerId, neighbour: b.peerId, direction: 'out', timestamp: 5, publicKey: a.publicKey, pow: a.pow };
  const cases: Record<string, unknown>[] = [
    { ...base, v: 2 },
    { ...base, event: 'hello' },
    { ...base, direction: 'sideways' },
    { ...base, timestamp: -1 },
    { ...base, timestamp: 1.5 },
    { ...base, neighbour: b.peerId.subarray(0, 31) },
    { ...base, pow: new Uint8Array(7) },
    { ...base, extra: 1 },
  ];
  for (const body of cases) t.is(code(() => decodeEvent(resign(a, body), { difficulty: DIFFICULTY })), 'MALFORMED', JSON.stringify(Object.keys(body)));
  const { timestamp: _, ...missing } = base;
  t.is(code(() => decodeEvent(resign(a, missing), { difficulty: DIFFICULTY })), 'MALFORMED');
  // Frame-level problems.
  const good = resign(a, base);
  const frame = decodeCanonical(good) as Record<string, unknown>;
  t.is(code(() => parseFrame(encodeCanonical({ ...frame, ttl: 256 }))), 'MALFORMED');
  t.is(code(() => parseFrame(encodeCanonical({ ...frame, extra: true }))), 'MALFORMED');
  t.is(code(() => parseFrame(encodeCanonical([1, 2, 3]))), 'MALFORMED');
  t.is(code(() => parseFrame(new Uint8Array(600))), 'MALFORMED');
  t.is(code(() => parseFrame(new Uint8Array(0))), 'MALFORMED');
  // A non-canonical encoding of the same map (ttl as a 2-byte integer) is refused.
  const key = Buffer.from([0x63, 0x74, 0x74, 0x6c]); // text "ttl"; its value (3) is one byte after it
  const at = Buffer.from(good).indexOf(key) + key.length;
  t.is(good[at], 3);
  const longer = new Uint8Array([...good.subarray(0, at), 0x18, 3, ...good.subarray(at + 1)]);
  t.is(code(() => parseFrame(new Uint8Array([...good.subarray(0, at), 4, ...good.subarray(at + 1)]))), undefined);
  t.is(code(() => parseFrame(longer)), 'MALFORMED');
});

test('signEvent and encodeFrame refuse bad arguments with BAD_ARGUMENT', async (t) => {
  const a = await makeSigner();
  t.is(code(() => signEvent({ event: 'connect', neighbour: a.peerId, direction: 'out', timestamp: 1 }, a)), 'BAD_ARGUMENT');
  t.is(code(() => signEvent({ event: 'connect', neighbour: new Uint8Array(3), direction: 'out', timestamp: 1 }, a)), 'BAD_ARGUMENT');
  t.is(code(() => signEvent({ event: 'nope' as 'connect', neighbour: new Uint8Array(32), direction: 'out', timestamp: 1 }, a)), 'BAD_ARGUMENT');
  t.is(code(() => encodeFrame({ body: new Uint8Array(3), sig: new Uint8Array(64), ttl: -1 })), 'BAD_ARGUMENT');
  t.is(code(() => encodeFrame({ body: new Uint8Array(3), sig: new Uint8Array(63), ttl: 1 })), 'BAD_ARGUMENT');
  t.is(code(() => parseBody('x' as unknown as Uint8Array)), 'BAD_ARGUMENT');
});

test('fuzz: random bytes and mutated frames only ever fail with a GossipError', async (t) => {
  const a = await makeSigner();
  const b = await makeSigner();
  const good = encodeEvent(signEvent({ event: 'connect', neighbour: b.peerId, direction: 'in', timestamp: 77 }, a), 4);
  const check = (data: Uint8Array): void => {
    const c = code(() => decodeEvent(data, { difficulty: DIFFICULTY }));
    if (c !== undefined && c.startsWith('foreign')) throw new Error(c);
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), check), { numRuns: 500 });
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
      const data = good.slice();
      for (const [i, v] of edits) data[i] = v;
      check(data);
    }),
    { numRuns: 300 },
  );
  t.pass();
});
