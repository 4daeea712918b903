import test from 'ava';
import { randomBytes } from 'node:crypto';
import { encodeCanonical } from '../../src/wire/index.js';
import {
  DEFAULT_MAX_LIFETIME_MS,
  DEFAULT_MAX_SKEW_MS,
  MAX_PAYLOAD_BYTES,
  REJECT_REASONS,
  commandToJson,
  encodeBody,
  encodeMessage,
  signBody,
  signCommand,
  signingBytes,
  type CommandBody,
  type RejectReason,
  type UnsignedBody,
  type Verdict,
} from '../../src/commands/index.js';
import { ALGORITHMS, FLEET, OTHER_PEER_ID, PEER_ID, indexOf, makeOperator, operatorOf, rawSign, setup, type Setup } from './helpers.js';

function body(s: Setup, over: Partial<UnsignedBody> = {}): UnsignedBody {
  const now = s.clock.now();
  return { fleet: FLEET, target: PEER_ID, name: 'ping', args: {}, nonce: new Uint8Array(randomBytes(16)), issuedAt: now, expiresAt: now + 60_000, ...over };
}

function reasonOf(v: Verdict): RejectReason | 'ok' {
  return v.ok ? 'ok' : v.reason;
}

async function expectReason(t: import('ava').ExecutionContext, s: Setup, bytes: Uint8Array, reason: RejectReason, withId = true): Promise<void> {
  const v = await s.verifier.verify(bytes);
  t.is(reasonOf(v), reason, v.ok ? '' : v.message);
  if (!v.ok) {
    t.true(REJECT_REASONS.includes(v.reason));
    t.true(v.message.length > 0);
    t.is(v.id !== undefined, withId, `id present: ${String(v.id)}`);
  }
}

test('REJECT_REASONS lists each reason once', (t) => {
  t.is(new Set(REJECT_REASONS).size, REJECT_REASONS.length);
});

for (const algorithm of ALGORITHMS) {
  test(`${algorithm}: a signature by another key claiming an operator's key is BAD_SIGNATURE`, async (t) => {
    const s = await setup();
    const op = operatorOf(s, algorithm);
    const attacker = makeOperator(algorithm);
    const encoded = encodeBody({ ...body(s), v: 1, signer: op.key.publicKey });
    const forged = encodeMessage(encoded, rawSign(algorithm, attacker.secretKey, signingBytes(encoded)));
    await expectReason(t, s, forged, 'BAD_SIGNATURE');
  });

  test(`${algorithm}: a flipped bit in the signed body is BAD_SIGNATURE, and does not use up the nonce`, async (t) => {
    const s = await setup();
    const op = operatorOf(s, algorithm);
    const b = body(s);
    const genuine = signBody(b, op.secretKey, algorithm);
    const at = indexOf(genuine, b.nonce);
    t.true(at > 0);
    const flipped = genuine.slice();
    flipped[at + 5]! ^= 0x10;
    const v = await s.verifier.verify(flipped);
    t.is(reasonOf(v), 'BAD_SIGNATURE');
    // A forger seeing a command in flight cannot block it by sending a damaged copy first.
    t.is(reasonOf(await s.verifier.verify(genuine)), 'ok');
  });

  test(`${algorithm}: a signature of the wrong length is BAD_SIGNATURE`, async (t) => {
    const s = await setup();
    const op = operatorOf(s, algorithm);
    const encoded = encodeBody({ ...body(s), v: 1, signer: op.key.publicKey });
    const sig = rawSign(algorithm, op.secretKey, signingBytes(encoded));
    await expectReason(t, s, encodeMessage(encoded, sig.subarray(0, 63)), 'BAD_SIGNATURE');
    await expectReason(t, s, encodeMessage(encoded, Uint8Array.from([...sig, 0])), 'BAD_SIGNATURE');
  });

  test(`${algorithm}: a signature without the domain prefix is BAD_SIGNATURE`, async (t) => {
    const s = await setup();
    const op = operatorOf(s, algorithm);
    const encoded = encodeBody({ ...body(s), v: 1, signer: op.key.publicKey });
    await expectReason(t, s, encodeMessage(encoded, rawSign(algorithm, op.secretKey, encoded)), 'BAD_SIGNATURE');
  });

  test(`${algorithm}: a key that is not an operator's is UNKNOWN_SIGNER`, async (t) => {
    const s = await setup();
    const stranger = makeOperator(algorithm);
    await expectReason(t, s, signBody(body(s), stranger.secretKey, algorithm), 'UNKNOWN_SIGNER');
  });
}

test('a command without a signature, or with an empty one, is UNSIGNED (CBOR and JSON)', async (t) => {
  const s = await setup();
  const encoded = encodeBody({ ...body(s), v: 1, signer: s.secp.key.publicKey });
  await expectReason(t, s, encodeMessage(encoded, new Uint8Array(0)), 'UNSIGNED');
  await expectReason(t, s, encodeCanonical({ body: encoded }), 'UNSIGNED');
  const hex = Buffer.from(encoded).toString('hex');
  await expectReason(t, s, new TextEncoder().encode(JSON.stringify({ body: hex })), 'UNSIGNED');
  await expectReason(t, s, new TextEncoder().encode(JSON.stringify({ body: hex, sig: '' })), 'UNSIGNED');
});

test('another fleet, or another peer, is MISADDRESSED', async (t) => {
  const s = await setup();
  await expectReason(t, s, signBody(body(s, { fleet: 'beta' }), s.secp.secretKey), 'MISADDRESSED');
  await expectReason(t, s, signBody(body(s, { target: OTHER_PEER_ID }), s.secp.secretKey), 'MISADDRESSED');
  await expectReason(t, s, signBody(body(s, { target: OTHER_PEER_ID }), s.ed.secretKey, 'ed25519'), 'MISADDRESSED');
});

test('EXPIRED from the instant expiresAt is reached', async (t) => {
  const s = await setup();
  const now = s.clock.now();
  const b = body(s, { expiresAt: now + 1000 });
  const bytes = signBody(b, s.secp.secretKey);
  s.clock.advance(1000);
  await expectReason(t, s, bytes, 'EXPIRED');
  await expectReason(t, s, signBody(body(s, { issuedAt: now - 5000, expiresAt: now + 999 }), s.secp.secretKey), 'EXPIRED');
  // One millisecond earlier it would have been accepted.
  t.true((await s.verifier.verify(signBody(body(s, { issuedAt: now - 5000, expiresAt: now + 1001 }), s.secp.secretKey))).ok);
});

test('NOT_YET_VALID beyond the allowed skew, accepted within it', async (t) => {
  const s = await setup();
  const now = s.clock.now();
  await expectReason(t, s, signBody(body(s, { issuedAt: now + DEFAULT_MAX_SKEW_MS + 1, expiresAt: now + 120_000 }), s.ed.secretKey, 'ed25519'), 'NOT_YET_VALID');
  const v = await s.verifier.verify(signBody(body(s, { issuedAt: now + DEFAULT_MAX_SKEW_MS, expiresAt: now + 120_000 }), s.ed.secretKey, 'ed25519'));
  t.true(v.ok);
});

test('TOO_LONG_LIVED beyond maxLifetimeMs, accepted at it', async (t) => {
  const s = await setup();
  const now = s.clock.now();
  await expectReason(t, s, signBody(body(s, { expiresAt: now + DEFAULT_MAX_LIFETIME_MS + 1 }), s.secp.secretKey), 'TOO_LONG_LIVED');
  t.true((await s.verifier.verify(signBody(body(s, { expiresAt: now + DEFAULT_MAX_LIFETIME_MS }), s.secp.secretKey))).ok);
  // signCommand itself will sign a longer lifetime: the agent's limit decides.
  const long = signCommand({ secretKey: s.secp.secretKey, fleet: FLEET, target: PEER_ID, name: 'ping', ttlMs: DEFAULT_MAX_LIFETIME_MS + 1, clock: s.clock });
  await expectReason(t, s, long, 'TOO_LONG_LIVED');
});

test('the same bytes twice are REPLAYED, and so is the same nonce signed again', async (t) => {
  const s = await setup();
  const b = body(s);
  const bytes = signBody(b, s.secp.secretKey);
  t.true((await s.verifier.verify(bytes)).ok);
  await expectReason(t, s, bytes, 'REPLAYED');
  // A new signature over the same nonce, with other times and even another operator key.
  s.clock.advance(10);
  await expectReason(t, s, signBody({ ...b, issuedAt: s.clock.now(), expiresAt: s.clock.now() + 5000 }, s.secp.secretKey), 'REPLAYED');
  await expectReason(t, s, signBody(b, s.ed.secretKey, 'ed25519'), 'REPLAYED');
});

test('two copies of one command verified at the same time: exactly one is accepted', async (t) => {
  const s = await setup();
  const bytes = signBody(body(s), s.ed.secretKey, 'ed25519');
  const verdicts = await Promise.all([s.verifier.verify(bytes), s.verifier.verify(bytes), s.verifier.verify(bytes)]);
  t.deepEqual(verdicts.map(reasonOf).sort(), ['REPLAYED', 'REPLAYED', 'ok']);
});

test('a refused command does not use up its nonce', async (t) => {
  const s = await setup();
  const now = s.clock.now();
  const b = body(s, { issuedAt: now + 60_000, expiresAt: now + 120_000 });
  const early = signBody(b, s.secp.secretKey);
  await expectReason(t, s, early, 'NOT_YET_VALID');
  s.clock.advance(60_000);
  t.true((await s.verifier.verify(early)).ok);
});

test('an unknown name is UNKNOWN_COMMAND, checked after the signature', async (t) => {
  const s = await setup();
  await expectReason(t, s, signBody(body(s, { name: 'format-disk' }), s.secp.secretKey), 'UNKNOWN_COMMAND');
  await expectReason(t, s, signBody(body(s, { name: 'format-disk' }), makeOperator('secp256k1').secretKey), 'UNKNOWN_SIGNER');
});

test('arguments that do not fit the command are BAD_ARGUMENTS', async (t) => {
  const s = await setup();
  const bad: [string, Record<string, unknown>][] = [
    ['ping', { x: 1 }],
    ['report-now', { now: true }],
    ['set-log-level', {}],
    ['set-log-level', { level: 'loud' }],
    ['set-log-level', { level: 3 }],
    ['enter-maintenance', { reason: 'x'.repeat(201) }],
    ['enter-maintenance', { reason: 5 }],
    ['leave-maintenance', { now: 1 }],
    ['restart', { delayMs: -1 }],
    ['restart', { delayMs: 60_001 }],
    ['restart', { delayMs: 1.5 }],
    ['restart', { delayMs: { nested: [1] } }],
  ];
  for (const [name, args] of bad) {
    await expectReason(t, s, signBody(body(s, { name, args }), s.secp.secretKey), 'BAD_ARGUMENTS');
  }
  t.is(s.guard.size, 0);
});

test('MALFORMED: garbage, oversized, extra fields, wrong version, bad times, bad JSON; no id', async (t) => {
  const s = await setup();
  const good = encodeBody({ ...body(s), v: 1, signer: s.secp.key.publicKey });
  const sig = rawSign('secp256k1', s.secp.secretKey, signingBytes(good));
  const cases: Uint8Array[] = [
    new Uint8Array(0),
    new Uint8Array([0xff]),
    new Uint8Array(MAX_PAYLOAD_BYTES + 1),
    encodeCanonical({ body: good, sig, extra: 1 }),
    encodeCanonical({ body: good, sig: 'text' }),
    encodeCanonical([good, sig]),
    encodeCanonical({ body: new Uint8Array([0xa0]), sig }),
    Uint8Array.from([...encodeMessage(good, sig), 0]),
    new TextEncoder().encode('{"body":"zz","sig":"00"}'),
    new TextEncoder().encode('{"body":"a0"'),
    new TextEncoder().encode(JSON.stringify({ body: Buffer.from(good).toString('hex'), sig: Buffer.from(sig).toString('hex'), x: 1 })),
    new TextEncoder().encode(`{"__proto__":{"body":"00"}}`),
    Uint8Array.from([0x7b, 0xff, 0xfe]),
  ];
  for (const bytes of cases) await expectReason(t, s, bytes, 'MALFORMED', false);

  // Well-formed bodies that are not valid commands, properly signed: still MALFORMED, with no id.
  const now = s.clock.now();
  const raw = (b: Record<string, unknown>): Uint8Array => {
    const encoded = encodeCanonical(b);
    return encodeMessage(encoded, rawSign('secp256k1', s.secp.secretKey, signingBytes(encoded)));
  };
  const fields: CommandBody = { ...body(s), v: 1, signer: s.secp.key.publicKey };
  for (const over of [
    { v: 2 },
    { expiresAt: now },
    { expiresAt: now - 1 },
    { nonce: new Uint8Array(15) },
    { target: PEER_ID.toUpperCase() },
    { fleet: '' },
    { args: [] },
    { issuedAt: 1.5 },
    { signer: new Uint8Array(34) },
    { extra: true },
  ]) {
    await expectReason(t, s, raw({ ...fields, ...over }), 'MALFORMED', false);
  }
});

test('a body that is not canonical CBOR is MALFORMED even when properly signed', async (t) => {
  const s = await setup();
  const canonical = encodeBody({ ...body(s), v: 1, signer: s.secp.key.publicKey });
  // A map of 9 entries (a9); 'v' is the shortest key, so it comes first: 61 76, then its value 01.
  t.deepEqual([...canonical.subarray(0, 4)], [0xa9, 0x61, 0x76, 0x01]);
  // The same value with the 1 written in two bytes (0x18 0x01): decodes alike, is not canonical.
  const loose = Uint8Array.from([0xa9, 0x61, 0x76, 0x18, 0x01, ...canonical.subarray(4)]);
  const signed = encodeMessage(loose, rawSign('secp256k1', s.secp.secretKey, signingBytes(loose)));
  await expectReason(t, s, signed, 'MALFORMED', false);
  t.is(s.guard.size, 0);
});

test('the id of a refusal is the nonce in hex whenever the body decoded', async (t) => {
  const s = await setup();
  const b = body(s, { fleet: 'beta' });
  const v = await s.verifier.verify(signBody(b, s.secp.secretKey));
  t.false(v.ok);
  if (!v.ok) {
    t.is(v.id, Buffer.from(b.nonce).toString('hex'));
    t.is(v.name, 'ping');
  }
});

test('JSON form: uppercase hex is the same command', async (t) => {
  const s = await setup();
  const bytes = signCommand({ secretKey: s.secp.secretKey, fleet: FLEET, target: PEER_ID, name: 'ping', ttlMs: 1000, clock: s.clock });
  const json = JSON.parse(commandToJson(bytes)) as { body: string; sig: string };
  const upper = new TextEncoder().encode(JSON.stringify({ body: json.body.toUpperCase(), sig: json.sig.toUpperCase() }));
  t.true((await s.verifier.verify(upper)).ok);
  await expectReason(t, s, bytes, 'REPLAYED');
});
