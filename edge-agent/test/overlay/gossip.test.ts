/** GossipCore: acceptance, forwarding and TTL, every rejection reason, rate limits, bans, and a fuzz of receive(). */
import test from 'ava';
import fc from 'fast-check';
import { ManualClock } from '../../src/clock/index.js';
import { generateKeyPair, peerIdOf, solvePow, toHex, verify } from '../../src/identity/index.js';
import { encodeCanonical } from '../../src/wire/index.js';
import { GossipCore, type GossipOptions, type ReceiveResult } from '../../src/overlay/gossip.js';
import { GossipError } from '../../src/overlay/gossip-errors.js';
import { encodeEvent, encodeFrame, parseFrame, signEvent, type EventSigner, type EventKind, type Direction } from '../../src/overlay/gossip-event.js';

const DIFFICULTY = 6;
const T0 = 1_700_000_000_000;

interface Peer extends EventSigner {
  readonly peerId: Uint8Array;
  readonly hex: string;
}

async function makePeer(): Promise<Peer> {
  const { secretKey, publicKey } = generateKeyPair();
  const peerId = peerIdOf(publicKey);
  return { secretKey, publicKey, pow: await solvePow(publicKey, DIFFICULTY), peerId, hex: toHex(peerId) };
}

// Five identities shared by the tests (PoW at difficulty 6 is ~64 hashes each).
const peers = Promise.all([makePeer(), makePeer(), makePeer(), makePeer(), makePeer()]);

function frame(signer: Peer, event: EventKind, neighbour: Peer, direction: Direction, timestamp: number, ttl = 6): Uint8Array {
  return encodeEvent(signEvent({ event, neighbour: neighbour.peerId, direction, timestamp }, signer), ttl);
}

function setup(us: Peer, extra: Partial<GossipOptions> = {}) {
  const clock = new ManualClock(T0);
  let verifications = 0;
  const core = new GossipCore({
    ourId: us.peerId,
    clock,
    difficulty: DIFFICULTY,
    verify: (pk, msg, sig) => {
      verifications++;
      return verify(pk, msg, sig);
    },
    ...extra,
  });
  return { core, clock, verifications: () => verifications };
}

const reason = (r: ReceiveResult): string => (r.accepted ? (r.reason ?? 'ACCEPTED') : r.reason);

test('a valid event is accepted and forwarded with one hop less, excluding the sender', async (t) => {
  const [us, a, b] = await peers;
  const { core } = setup(us!);
  const r = core.receive(b!.hex, frame(a!, 'connect', b!, 'out', T0, 6));
  t.true(r.accepted);
  t.is(r.forward?.exclude, b!.hex);
  t.is(parseFrame(r.forward!.bytes).ttl, 5);
  t.deepEqual(r.edgeChanges, []);
  const r2 = core.receive(a!.hex, frame(b!, 'connect', a!, 'in', T0 + 10));
  t.true(r2.accepted);
  t.deepEqual(r2.edgeChanges, [{ change: 'confirmed', from: a!.hex, to: b!.hex }]);
  t.true(core.edges.isConfirmed(a!.hex, b!.hex));
});

test('a duplicate costs no signature verification, from any neighbour and at any ttl', async (t) => {
  const [us, a, b, c] = await peers;
  const { core, verifications } = setup(us!);
  const signed = signEvent({ event: 'connect', neighbour: b!.peerId, direction: 'out', timestamp: T0 }, a!);
  t.true(core.receive(b!.hex, encodeEvent(signed, 6)).accepted);
  t.is(verifications(), 1);
  for (const [from, ttl] of [[b!.hex, 6], [c!.hex, 3], [a!.hex, 1]] as const) {
    t.is(reason(core.receive(from, encodeEvent(signed, ttl))), 'DUPLICATE');
  }
  t.is(verifications(), 1);
});

test('TTL decrements per hop, stops at 1 (TTL_EXHAUSTED, accepted, not forwarded), and is clamped to maxTtl', async (t) => {
  const [us, a, b] = await peers;
  const { core } = setup(us!, { maxTtl: 4 });
  const r2 = core.receive(b!.hex, frame(a!, 'connect', b!, 'out', T0, 2));
  t.is(parseFrame(r2.forward!.bytes).ttl, 1);
  const r1 = core.receive(b!.hex, frame(a!, 'connect', b!, 'in', T0, 1));
  t.true(r1.accepted);
  t.is(reason(r1), 'TTL_EXHAUSTED');
  t.is(r1.forward, null);
  const r0 = core.receive(b!.hex, frame(b!, 'connect', a!, 'in', T0, 0));
  t.is(reason(r0), 'TTL_EXHAUSTED');
  const big = core.receive(b!.hex, frame(b!, 'connect', a!, 'out', T0, 200));
  t.is(parseFrame(big.forward!.bytes).ttl, 3, 'a sender cannot widen the spread beyond our maxTtl');
});

test('timestamps: beyond the future skew is FROM_FUTURE, before maxAge is TOO_OLD, the edges of the window pass', async (t) => {
  const [us, a, b] = await peers;
  const { core } = setup(us!, { maxFutureSkewMs: 1000, maxAgeMs: 60_000 });
  t.is(reason(core.receive(b!.hex, frame(a!, 'connect', b!, 'out', T0 + 1001))), 'FROM_FUTURE');
  t.is(reason(core.receive(b!.hex, frame(a!, 'connect', b!, 'out', T0 - 60_001))), 'TOO_OLD');
  t.true(core.receive(b!.hex, frame(a!, 'connect', b!, 'out', T0 + 1000)).accepted);
  t.true(core.receive(b!.hex, frame(a!, 'connect', b!, 'in', T0 - 60_000)).accepted);
});

test('an older report for the same link is STALE and neither verified nor forwarded', async (t) => {
  const [us, a, b] = await peers;
  const { core, verifications } = setup(us!);
  t.true(core.receive(b!.hex, frame(a!, 'disconnect', b!, 'out', T0)).accepted);
  const r = core.receive(b!.hex, frame(a!, 'connect', b!, 'out', T0 - 5));
  t.is(reason(r), 'STALE');
  t.is(r.forward, null);
  t.is(verifications(), 1);
  t.is(core.score(b!.hex), 0, 'reordering is not misbehaviour');
});

test('BAD_POW, BAD_SIGNATURE, MALFORMED and a peerId that is not the key each count against the sender', async (t) => {
  const [us, a, b] = await peers;
  const { core } = setup(us!, { banThreshold: 1000 });
  const strict = setup(us!, { difficulty: 40 }).core;
  t.is(reason(strict.receive(b!.hex, frame(a!, 'connect', b!, 'out', T0))), 'BAD_POW');

  const signed = signEvent({ event: 'connect', neighbour: b!.peerId, direction: 'out', timestamp: T0 }, a!);
  const sig = signed.sig.slice();
  sig[0]! ^= 0x80;
  t.is(reason(core.receive(b!.hex, encodeFrame({ body: signed.body, sig, ttl: 3 }))), 'BAD_SIGNATURE');
  t.is(core.score(b!.hex), 10);
  t.is(reason(core.receive(b!.hex, new Uint8Array([1, 2, 3]))), 'MALFORMED');
  t.is(core.score(b!.hex), 15);
  const liar = encodeCanonical({
    v: 1, event: 'connect', peerId: b!.peerId, neighbour: a!.peerId, direction: 'out', timestamp: T0, publicKey: a!.publicKey, pow: a!.pow,
  });
  t.is(reason(core.receive(b!.hex, encodeFrame({ body: liar, sig: signed.sig, ttl: 3 }))), 'INCONSISTENT');
  t.is(core.score(b!.hex), 25);
});

test('a bad-signature copy sent first does not keep the genuine event out (the seen cache takes only verified events)', async (t) => {
  const [us, a, b, c] = await peers;
  const { core } = setup(us!);
  const signed = signEvent({ event: 'connect', neighbour: b!.peerId, direction: 'out', timestamp: T0 }, a!);
  t.is(reason(core.receive(c!.hex, encodeFrame({ body: signed.body, sig: new Uint8Array(64).fill(1), ttl: 6 }))), 'BAD_SIGNATURE');
  t.true(core.receive(b!.hex, encodeEvent(signed, 6)).accepted);
});

test('equivocation (connect and disconnect at the same timestamp) bans the signer, not the relaying neighbour', async (t) => {
  const [us, a, b, c] = await peers;
  const { core, verifications } = setup(us!);
  t.true(core.receive(b!.hex, frame(a!, 'connect', b!, 'out', T0)).accepted);
  const r = core.receive(c!.hex, frame(a!, 'disconnect', b!, 'out', T0));
  t.is(reason(r), 'INCONSISTENT');
  t.true(core.isBanned(a!.hex));
  t.false(core.isBanned(c!.hex));
  t.is(core.score(c!.hex), 0);
  const before = verifications();
  t.is(reason(core.receive(c!.hex, frame(a!, 'connect', c!, 'in', T0 + 1))), 'BANNED', "the signer's events are dropped unverified");
  t.is(verifications(), before);
  t.is(reason(core.receive(a!.hex, frame(b!, 'connect', c!, 'in', T0 + 1))), 'BANNED', 'and so is the signer as a neighbour');
});

test('rate limit: beyond the burst a neighbour is RATE_LIMITED, then banned, then heard again after banMs', async (t) => {
  const [us, a, b] = await peers;
  const { core, clock, verifications } = setup(us!, { eventsPerSec: 10, eventBurst: 5, banThreshold: 3, banMs: 60_000 });
  const junk = (i: number) => frame(a!, 'connect', b!, 'out', T0 - i); // older each time: STALE after the first
  for (let i = 0; i < 5; i++) t.not(reason(core.receive(b!.hex, junk(i))), 'RATE_LIMITED');
  t.is(reason(core.receive(b!.hex, junk(5))), 'RATE_LIMITED');
  t.is(reason(core.receive(b!.hex, junk(6))), 'RATE_LIMITED');
  t.false(core.isBanned(b!.hex));
  t.is(reason(core.receive(b!.hex, junk(7))), 'RATE_LIMITED');
  t.true(core.isBanned(b!.hex), 'three points: banned');
  const before = verifications();
  t.is(reason(core.receive(b!.hex, frame(a!, 'connect', b!, 'in', T0))), 'BANNED');
  t.is(verifications(), before);
  t.false(core.isBanned(a!.hex), 'other peers unaffected');
  clock.advance(59_999);
  t.is(reason(core.receive(b!.hex, frame(a!, 'connect', b!, 'in', clock.now()))), 'BANNED');
  clock.advance(1);
  t.true(core.receive(b!.hex, frame(a!, 'connect', b!, 'in', clock.now())).accepted);
});

test('tokens refill at eventsPerSec, and misbehaviour points decay', async (t) => {
  const [us, a, b] = await peers;
  const { core, clock } = setup(us!, { eventsPerSec: 10, eventBurst: 1, banThreshold: 100, scoreDecayMs: 1000 });
  t.not(reason(core.receive(b!.hex, frame(a!, 'connect', b!, 'out', T0))), 'RATE_LIMITED');
  t.is(reason(core.receive(b!.hex, frame(a!, 'connect', b!, 'out', T0))), 'RATE_LIMITED');
  t.is(core.score(b!.hex), 1);
  clock.advance(100);
  t.is(reason(core.receive(b!.hex, frame(a!, 'connect', b!, 'in', T0))), 'ACCEPTED');
  t.is(core.score(b!.hex), 0.9);
  clock.advance(5000);
  t.is(core.score(b!.hex), 0);
});

test('announce signs with ttl = maxTtl, applies our own report, and an echo of it is a DUPLICATE', async (t) => {
  const [us, a, b] = await peers;
  const { core, clock } = setup(us!, { maxTtl: 5 });
  const ann = core.announce({ event: 'connect', neighbour: a!.peerId, direction: 'out' }, us!);
  t.is(parseFrame(ann.bytes).ttl, 5);
  t.is(ann.event.timestamp, T0);
  t.deepEqual(ann.edgeChanges, []);
  t.is(reason(core.receive(a!.hex, ann.bytes)), 'DUPLICATE');
  const r = core.receive(a!.hex, frame(a!, 'connect', us!, 'in', T0 + 1));
  t.deepEqual(r.edgeChanges, [{ change: 'confirmed', from: us!.hex, to: a!.hex }]);
  t.throws(() => core.announce({ event: 'disconnect', neighbour: a!.peerId, direction: 'out' }, us!), { instanceOf: GossipError });
  clock.advance(1);
  const bye = core.announce({ event: 'disconnect', neighbour: a!.peerId, direction: 'out' }, us!);
  t.deepEqual(bye.edgeChanges, [{ change: 'removed', from: us!.hex, to: a!.hex }]);
  t.throws(() => core.announce({ event: 'connect', neighbour: b!.peerId, direction: 'out' }, a!), { instanceOf: GossipError, message: /ourId/ });
});

test('sweep collects edges that both ends stopped refreshing', async (t) => {
  const [us, a, b] = await peers;
  const { core, clock } = setup(us!, { edgeTtlMs: 60_000 });
  core.receive(b!.hex, frame(a!, 'connect', b!, 'out', T0));
  core.receive(a!.hex, frame(b!, 'connect', a!, 'in', T0));
  t.true(core.edges.isConfirmed(a!.hex, b!.hex));
  clock.advance(60_000);
  t.deepEqual(core.sweep(), []);
  clock.advance(1);
  t.deepEqual(core.sweep(), [{ change: 'removed', from: a!.hex, to: b!.hex }]);
});

test('caller mistakes throw GossipError BAD_ARGUMENT', async (t) => {
  const [us] = await peers;
  const clock = new ManualClock(0);
  t.throws(() => new GossipCore({ ourId: new Uint8Array(3), clock }), { instanceOf: GossipError });
  t.throws(() => new GossipCore({ ourId: us!.peerId, clock: {} as ManualClock }), { instanceOf: GossipError });
  t.throws(() => new GossipCore({ ourId: us!.peerId, clock, seenTtlMs: 0 }), { instanceOf: GossipError, message: /seenTtlMs/ });
  t.throws(() => new GossipCore({ ourId: us!.peerId, clock, maxTtl: 0 }), { instanceOf: GossipError });
  const core = new GossipCore({ ourId: us!.peerId, clock });
  t.throws(() => core.receive(42 as unknown as string, new Uint8Array(1)), { instanceOf: GossipError });
  t.throws(() => core.receive('ab', 'x' as unknown as Uint8Array), { instanceOf: GossipError });
  t.throws(() => core.receive('ab', new Uint8Array(1), Number.NaN), { instanceOf: GossipError });
});

test('fuzz: random bytes and mutated events never throw from receive()', async (t) => {
  const [us, a, b] = await peers;
  // A cheap verifier keeps the random-bytes run fast; mutations go through the real one.
  const { core } = setup(us!, { verify: () => false, banThreshold: Number.MAX_SAFE_INTEGER, eventBurst: 1e9 });
  const real = setup(us!, { banThreshold: Number.MAX_SAFE_INTEGER, eventBurst: 1e9 }).core;
  const good = frame(a!, 'connect', b!, 'out', T0);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 700 }), (bytes) => {
      core.receive(b!.hex, bytes);
    }),
    { numRuns: 400 },
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 0, max: 20 }),
      (edits, cut) => {
        const data = good.slice(0, good.length - cut);
        for (const [i, v] of edits) if (i < data.length) data[i] = v;
        const r = real.receive(b!.hex, data);
        if (r.accepted && r.forward !== null) parseFrame(r.forward.bytes);
      },
    ),
    { numRuns: 400 },
  );
  t.pass();
});

test('catch-up: a new neighbour given every held report ends with the same table and digest, without rate limits', async (t) => {
  const [us, a, b, c] = await peers;
  const old = setup(us!, { eventBurst: 2, eventsPerSec: 1 });
  old.core.receiveCatchUp(c!.hex, frame(a!, 'connect', b!, 'out', T0));
  old.core.receiveCatchUp(c!.hex, frame(b!, 'connect', a!, 'in', T0 + 5));
  old.core.receiveCatchUp(c!.hex, frame(c!, 'connect', a!, 'out', T0 + 7));
  t.is(old.core.edges.size, 2);
  const fresh = setup(c!, { eventBurst: 2, eventsPerSec: 1 });
  t.notDeepEqual(fresh.core.digest(), old.core.digest());
  const frames = old.core.catchUpFrames();
  t.is(frames.length, 3);
  t.true(frames.every((f) => parseFrame(f).ttl === old.core.maxTtl));
  // Three frames from one neighbour with a burst of 2: the limited path refuses the third, catch-up does not.
  const limited = setup(c!, { eventBurst: 2, eventsPerSec: 1 });
  t.deepEqual(frames.map((f) => reason(limited.core.receive(us!.hex, f))), ['ACCEPTED', 'ACCEPTED', 'RATE_LIMITED']);
  t.true(frames.every((f) => fresh.core.receiveCatchUp(us!.hex, f).accepted));
  t.deepEqual(fresh.core.digest(), old.core.digest());
  t.deepEqual(fresh.core.edges.confirmed(), [{ from: a!.hex, to: b!.hex }]);
});

test('a long-lived link still confirms at a peer that learns of it late, and sweep keeps it while keep() vouches', async (t) => {
  const [us, a, b] = await peers;
  const { core, clock } = setup(us!, { edgeTtlMs: 60_000 });
  clock.advance(5 * 24 * 3_600_000); // five days after the link came up
  core.receive(b!.hex, frame(a!, 'connect', b!, 'out', T0));
  core.receive(a!.hex, frame(b!, 'connect', a!, 'in', T0 + 10));
  t.true(core.edges.isConfirmed(a!.hex, b!.hex));
  t.deepEqual(core.sweep(undefined, () => true), []);
  t.deepEqual(core.sweep(undefined, () => false), [{ change: 'removed', from: a!.hex, to: b!.hex }]);
});
