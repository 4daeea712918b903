import test from 'ava';
import fc from 'fast-check';
import {
  CHANNEL_KINDS,
  batchDigest,
  decodeFrame,
  decodeKind,
  hmacSignatures,
  KvStateMachine,
  Replica,
  sign,
  DROP_REASONS,
  type Body,
} from '../../src/consensus/index.js';
import { encodeCanonical } from '../../src/wire/index.js';
import { seededRandom } from '../helpers/random.js';

const sigs = hmacSignatures(1, 'replica');
const d32 = new Uint8Array(32).fill(7);
const request = sign({ k: 'request', client: 5, t: 3, op: new Uint8Array([1, 2]) }, undefined);

const samples: Body[] = [
  { k: 'request', client: 5, t: 3, op: new Uint8Array([1, 2]) },
  { k: 'preprepare', v: 2, n: 9, d: batchDigest([request]), batch: [request], r: 2 },
  { k: 'prepare', v: 2, n: 9, d: d32, r: 1 },
  { k: 'commit', v: 2, n: 9, d: d32, r: 3 },
  { k: 'reply', v: 2, t: 3, client: 5, result: new Uint8Array([9]), r: 0 },
  { k: 'checkpoint', n: 16, d: d32, r: 1 },
  { k: 'viewchange', v: 3, n: 0, c: [], p: [{ pp: new Uint8Array([1]), ps: [new Uint8Array([2])] }], r: 1 },
  { k: 'newview', v: 3, vc: [new Uint8Array([1])], o: [], r: 3 },
  { k: 'fetch', n: 16, r: 2 },
  { k: 'state', n: 16, snap: new Uint8Array([1, 2, 3]), c: [new Uint8Array([4])], r: 0 },
  { k: 'status', v: 1, vc: true, h: 0, e: 4, r: 2 },
];

test('every kind round-trips through sign and decodeFrame, and the signature covers the body', (t) => {
  for (const body of samples) {
    const r = 'r' in body ? body.r : 0;
    const bytes = sign(body, sigs.signer(r));
    const f = decodeFrame(bytes);
    if (typeof f === 'string') return t.fail(`${body.k}: ${f}`);
    t.deepEqual(f.body, body);
    if (CHANNEL_KINDS.has(body.k)) {
      t.is(f.signature.length, 0, `${body.k} travels unsigned: the channel authenticates it`);
      continue;
    }
    t.true(sigs.verifier.verify(r, f.signed, f.signature), body.k);
    t.false(sigs.verifier.verify((r + 1) % 4, f.signed, f.signature), `${body.k} under another key`);
    t.is(decodeKind(bytes, body.k) === 'malformed', false);
  }
  t.is(decodeKind(sign(samples[2]!, undefined), 'commit'), 'malformed');
});

test('shapes outside the schema are malformed, big frames oversized', (t) => {
  const bad: unknown[] = [
    { k: 'prepare', v: 1, n: 1, d: new Uint8Array(31), r: 0 },
    { k: 'prepare', v: -1, n: 1, d: d32, r: 0 },
    { k: 'prepare', v: 1, n: 1, d: d32, r: 0, extra: 1 },
    { k: 'commit', v: 1, n: 1.5, d: d32, r: 0 },
    { k: 'nope', r: 0 },
    { k: 'status', v: 1, vc: 1, h: 0, e: 0, r: 0 },
    { k: 'viewchange', v: 3, n: 0, c: [], p: [{ pp: new Uint8Array(1) }], r: 1 },
  ];
  const raw = (body: unknown): Uint8Array => encodeCanonical({ b: encodeCanonical(body), s: new Uint8Array(32) });
  t.not(typeof decodeFrame(raw({ k: 'fetch', n: 1, r: 0 })), 'string', 'the raw builder makes valid frames');
  for (const body of bad) t.is(decodeFrame(raw(body)), 'malformed', JSON.stringify(body, (_k, v) => (v instanceof Uint8Array ? v.length : v)));
  const big = sign({ k: 'request', client: 1, t: 1, op: new Uint8Array(5000) }, undefined);
  t.is(decodeFrame(big, { maxBytes: 4096, maxItems: 16 }), 'oversized');
  t.is(decodeFrame(new Uint8Array([0xff])), 'malformed');
  t.is(decodeFrame('x' as unknown as Uint8Array), 'malformed');
});

test('fuzz: random bytes never throw from decodeFrame', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      const f = decodeFrame(bytes);
      return typeof f === 'string' ? DROP_REASONS.includes(f) : typeof f.body.k === 'string';
    }),
    { numRuns: 2000, seed: 11 },
  );
  t.pass();
});

test('fuzz: mutated frames never throw out of a replica, and every drop is counted', (t) => {
  const frames = samples.map((b) => sign(b, sigs.signer('r' in b ? b.r : 0)));
  const replica = new Replica({ id: 0, n: 4, signer: sigs.signer(0), verifier: sigs.verifier, stateMachine: new KvStateMachine(), now: 0 });
  let calls = 0;
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: frames.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }),
      fc.integer({ min: -6, max: 6 }),
      fc.integer({ min: 0, max: 3 }),
      (which, flips, grow, from) => {
        const base = frames[which]!;
        let bytes = new Uint8Array(Math.max(0, base.length + grow));
        bytes.set(base.subarray(0, Math.min(base.length, bytes.length)));
        for (const [at, x] of flips) if (bytes.length > 0) bytes[at % bytes.length]! ^= x;
        if (bytes.length === 0) bytes = new Uint8Array([0]);
        replica.receive(from, bytes, 10);
        calls++;
        return true;
      },
    ),
    { numRuns: 3000, seed: 12 },
  );
  const dropped = Object.values(replica.stats.dropped).reduce((a, b) => a + b, 0);
  t.true(dropped > calls / 2, `${dropped} drops for ${calls} calls`);
});

test('fuzz: random bytes into a replica never throw', (t) => {
  const replica = new Replica({ id: 1, n: 4, signer: sigs.signer(1), verifier: sigs.verifier, stateMachine: new KvStateMachine(), now: 0 });
  const rnd = seededRandom(5);
  for (let i = 0; i < 3000; i++) {
    const bytes = new Uint8Array(Math.floor(rnd() * 200)).map(() => Math.floor(rnd() * 256));
    t.notThrows(() => replica.receive(0, bytes, i));
  }
});

test('exported helpers refuse bad input with typed errors', async (t) => {
  const { ConsensusError, planNewView, primaryOf, quorums } = await import('../../src/consensus/index.js');
  const code = (fn: () => unknown): string | undefined => t.throws(fn, { instanceOf: ConsensusError })?.code;
  t.is(code(() => sign({ k: 'nope' } as unknown as Body, undefined)), 'BAD_ARGUMENT');
  t.is(code(() => sign({ k: 'fetch', n: Number.NaN, r: 0 }, undefined)), 'BAD_ARGUMENT');
  t.is(code(() => batchDigest(['x'] as unknown as Uint8Array[])), 'BAD_ARGUMENT');
  t.is(code(() => planNewView([])), 'BAD_ARGUMENT');
  t.is(code(() => primaryOf(-1, 4)), 'BAD_ARGUMENT');
  t.is(code(() => quorums(0)), 'BAD_ARGUMENT');
  t.deepEqual(quorums(4), { n: 4, f: 1, q: 3 });
  t.deepEqual(quorums(5), { n: 5, f: 1, q: 4 });
  t.deepEqual(quorums(13), { n: 13, f: 4, q: 9 });
  const replica = new Replica({ id: 0, n: 4, signer: sigs.signer(0), verifier: sigs.verifier, stateMachine: new KvStateMachine(), now: 0 });
  t.is(code(() => replica.tick(Number.NaN)), 'BAD_ARGUMENT');
  t.is(code(() => replica.receive(0, request, Infinity)), 'BAD_ARGUMENT');
});
