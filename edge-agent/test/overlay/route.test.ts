/** Source-routed direct messages: delivery along a line, every drop reason, the single re-route, fuzzing. */
import test from 'ava';
import fc from 'fast-check';
import { ManualClock } from '../../src/clock/index.js';
import { generateKeyPair, peerIdOf, solvePow, verify, verifyPow } from '../../src/identity/index.js';
import { decodeCanonical, encodeCanonical } from '../../src/wire/index.js';
import { RouteError } from '../../src/overlay/route-errors.js';
import { MAX_ROUTE_FRAME_BYTES, RouteCore, type RouteResult, type RouteSigner } from '../../src/overlay/route.js';

const DIFFICULTY = 4;
const T0 = 1_700_000_000_000;

interface Node {
  readonly id: Uint8Array;
  readonly signer: RouteSigner;
  readonly core: RouteCore;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

async function makeNode(clock: ManualClock, opts: { maxHops?: number; maxPayload?: number; counter?: { n: number } } = {}): Promise<Node> {
  const { secretKey, publicKey } = generateKeyPair();
  const pow = await solvePow(publicKey, DIFFICULTY);
  const id = peerIdOf(publicKey);
  const counter = opts.counter;
  const core = new RouteCore({
    ourId: id,
    clock,
    difficulty: DIFFICULTY,
    ...(opts.maxHops !== undefined ? { maxHops: opts.maxHops } : {}),
    ...(opts.maxPayload !== undefined ? { maxPayload: opts.maxPayload } : {}),
    ...(counter ? { verify: (k: Uint8Array, m: Uint8Array, s: Uint8Array) => (counter.n++, verify(k, m, s)) } : {}),
  });
  return { id, signer: { secretKey, publicKey, pow }, core };
}

async function makeNodes(n: number, clock = new ManualClock(T0), counter?: { n: number }): Promise<Node[]> {
  const out: Node[] = [];
  for (let i = 0; i < n; i++) out.push(await makeNode(clock, counter ? { counter } : {}));
  return out;
}

/** An undirected link set over nodes; isNeighbour is answered from it. */
class Graph {
  readonly #links = new Set<string>();
  link(a: Node, b: Node): void {
    this.#links.add(`${hex(a.id)}|${hex(b.id)}`);
    this.#links.add(`${hex(b.id)}|${hex(a.id)}`);
  }
  unlink(a: Node, b: Node): void {
    this.#links.delete(`${hex(a.id)}|${hex(b.id)}`);
    this.#links.delete(`${hex(b.id)}|${hex(a.id)}`);
  }
  ctx(of: Node): { isNeighbour(p: Uint8Array): boolean } {
    return { isNeighbour: (p) => this.#links.has(`${hex(of.id)}|${hex(p)}`) };
  }
}

function lineGraph(nodes: Node[]): Graph {
  const g = new Graph();
  for (let i = 0; i + 1 < nodes.length; i++) g.link(nodes[i]!, nodes[i + 1]!);
  return g;
}

/** Walks a frame hop by hop until it is delivered, dropped or needs a re-route; returns the trace. */
function walk(nodes: Node[], g: Graph, from: Node, to: Uint8Array, bytes: Uint8Array, now = T0): { result: RouteResult; at: Node; sender: Node; bytes: Uint8Array; hops: number } {
  const byId = new Map(nodes.map((n) => [hex(n.id), n]));
  let sender = from;
  let at = byId.get(hex(to))!;
  let hops = 0;
  for (;;) {
    hops++;
    const result = at.core.receive(sender.id, bytes, now, g.ctx(at));
    if (result.kind !== 'forward') return { result, at, sender, bytes, hops };
    sender = at;
    at = byId.get(hex(result.nextHop))!;
    bytes = result.bytes;
  }
}

const flip = (b: Uint8Array): void => void (b[3] = (b[3] ?? 0) ^ 1);
const ids = (ns: Node[]): Uint8Array[] => ns.map((n) => n.id);
const reason = (r: RouteResult): string => (r.kind === 'drop' ? r.reason : r.kind);

function mutate(bytes: Uint8Array, change: (f: Record<string, unknown>) => void): Uint8Array {
  const f = decodeCanonical(bytes) as Record<string, unknown>;
  change(f);
  return encodeCanonical(f);
}

test('a 6-hop message crosses a line of RouteCores and is delivered once', async (t) => {
  const counter = { n: 0 };
  const nodes = await makeNodes(7, new ManualClock(T0), counter);
  const g = lineGraph(nodes);
  const [src, ...rest] = nodes as [Node, ...Node[]];
  const dst = rest[rest.length - 1]!;
  const payload = new TextEncoder().encode('hello over six hops');
  const out = src.core.originate(dst.id, ids(rest), payload, src.signer);
  t.deepEqual(out.nextHop, rest[0]!.id);
  counter.n = 0;
  const trace = walk(nodes, g, src, out.nextHop, out.bytes);
  t.is(trace.hops, 6);
  t.is(trace.at, dst);
  t.is(trace.result.kind, 'deliver');
  if (trace.result.kind === 'deliver') {
    t.deepEqual(trace.result.payload, payload);
    t.deepEqual(trace.result.src, src.id);
    t.deepEqual(trace.result.id, out.id);
  }
  t.is(counter.n, 6, 'one signature check per hop');
  // The same frame again at dst is a duplicate, found without any signature check.
  const again = dst.core.receive(trace.sender.id, trace.bytes, T0, g.ctx(dst));
  t.is(reason(again), 'DUPLICATE');
  t.is(counter.n, 6);
});

test('a single re-route around a missing link is signed and verified downstream', async (t) => {
  const counter = { n: 0 };
  // 0-1-2-3-4 line plus a detour 2-5-3; the link 2-3 then fails.
  const nodes = await makeNodes(6, new ManualClock(T0), counter);
  const [n0, n1, n2, n3, n4, n5] = nodes as [Node, Node, Node, Node, Node, Node];
  const g = lineGraph([n0, n1, n2, n3, n4]);
  g.link(n2, n5);
  g.link(n5, n3);
  g.unlink(n2, n3);
  const out = n0.core.originate(n4.id, ids([n1, n2, n3, n4]), new Uint8Array([1, 2, 3]), n0.signer, { allowReroute: true });
  const first = walk(nodes, g, n0, out.nextHop, out.bytes);
  t.is(first.at, n2);
  t.is(first.result.kind, 'reroute-needed');
  if (first.result.kind !== 'reroute-needed') return;
  const pending = first.result.pending;
  t.deepEqual(pending.unreachable, n3.id);
  t.is(pending.at, 1);
  const detour = n2.core.reroute(pending, ids([n5, n3, n4]), n2.signer);
  t.deepEqual(detour.nextHop, n5.id);
  t.throws(() => n2.core.reroute(pending, ids([n5, n3, n4]), n2.signer), { instanceOf: RouteError, message: /already/ });
  counter.n = 0;
  const second = walk(nodes, g, n2, detour.nextHop, detour.bytes);
  t.is(second.result.kind, 'deliver');
  t.is(second.at, n4);
  t.is(second.hops, 3);
  t.is(counter.n, 6, 'both signatures checked at each of the three later hops');

});

test('a second re-route is refused: UNREACHABLE', async (t) => {
  // 0-1-2-3-4 with detour 1-5-2 and 2-6-3; both 1-2 and 2-3 fail.
  const nodes = await makeNodes(7);
  const [n0, n1, n2, n3, n4, n5, n6] = nodes as [Node, Node, Node, Node, Node, Node, Node];
  const g = lineGraph([n0, n1, n2, n3, n4]);
  g.link(n1, n5);
  g.link(n5, n2);
  g.link(n2, n6);
  g.link(n6, n3);
  g.unlink(n1, n2);
  g.unlink(n2, n3);
  const out = n0.core.originate(n4.id, ids([n1, n2, n3, n4]), new Uint8Array(0), n0.signer, { allowReroute: true });
  const first = walk(nodes, g, n0, out.nextHop, out.bytes);
  t.is(first.at, n1);
  if (first.result.kind !== 'reroute-needed') return t.fail('expected a re-route');
  // The detour keeps the broken 2-3 link; n2 cannot re-route again.
  const detour = n1.core.reroute(first.result.pending, ids([n5, n2, n3, n4]), n1.signer);
  const second = walk(nodes, g, n1, detour.nextHop, detour.bytes);
  t.is(second.at, n2);
  t.is(reason(second.result), 'UNREACHABLE');
});

test('without allowReroute a missing link is UNREACHABLE', async (t) => {
  const nodes = await makeNodes(4);
  const [n0, n1, n2, n3] = nodes as [Node, Node, Node, Node];
  const g = lineGraph(nodes);
  g.unlink(n2, n3);
  const out = n0.core.originate(n3.id, ids([n1, n2, n3]), new Uint8Array(1), n0.signer);
  const trace = walk(nodes, g, n0, out.nextHop, out.bytes);
  t.is(trace.at, n2);
  t.is(reason(trace.result), 'UNREACHABLE');
});

test('tampering with route, payload, flag, hop or reroute tail is detected', async (t) => {
  const nodes = await makeNodes(6);
  const [n0, n1, n2, n3, n4, n5] = nodes as [Node, Node, Node, Node, Node, Node];
  const g = lineGraph([n0, n1, n2, n3, n4]);
  g.link(n2, n5);
  g.link(n5, n3);
  const out = n0.core.originate(n4.id, ids([n1, n2, n3, n4]), new Uint8Array([9, 9]), n0.signer);
  const at1 = (bytes: Uint8Array): string => reason(n1.core.receive(n0.id, bytes, T0, g.ctx(n1)));
  t.is(at1(mutate(out.bytes, (f) => void ((f.payload as Uint8Array)[0] = 8))), 'BAD_SIGNATURE');
  t.is(at1(mutate(out.bytes, (f) => void (f.route = ids([n1, n2, n5, n3, n4])))), 'BAD_SIGNATURE');
  t.is(at1(mutate(out.bytes, (f) => void (f.rerouteAllowed = true))), 'BAD_SIGNATURE');
  t.is(at1(mutate(out.bytes, (f) => void (f.ts = T0 - 1))), 'BAD_SIGNATURE');
  t.is(at1(mutate(out.bytes, (f) => void (f.hop = 1))), 'NOT_ON_ROUTE');
  // A forged sender key: the id no longer matches it.
  t.is(at1(mutate(out.bytes, (f) => void (f.srcKey = n2.signer.publicKey))), 'BAD_SIGNATURE');
  // A reroute where the sender allowed none.
  const rr = { at: 0, by: n1.id, byKey: n1.signer.publicKey, byPow: n1.signer.pow, newTail: ids([n2, n5, n3, n4]), sig: new Uint8Array(64) };
  t.is(reason(n2.core.receive(n1.id, mutate(out.bytes, (f) => void Object.assign(f, { reroute: rr, hop: 1 })), T0, g.ctx(n2))), 'MALFORMED');
  t.is(at1(out.bytes), 'forward', 'the untouched frame still passes');

  // With reroute allowed: tamper with a genuine re-route.
  const out2 = n0.core.originate(n4.id, ids([n1, n2, n3, n4]), new Uint8Array([7]), n0.signer, { allowReroute: true });
  g.unlink(n2, n3);
  const first = walk(nodes, g, n0, out2.nextHop, out2.bytes);
  if (first.result.kind !== 'reroute-needed') return t.fail('expected a re-route');
  const detour = n2.core.reroute(first.result.pending, ids([n5, n3, n4]), n2.signer);
  const at5 = (bytes: Uint8Array): string => reason(n5.core.receive(n2.id, bytes, T0, g.ctx(n5)));
  // Swapped tail n5 -> n3 -> n4 for n5 -> n4 (shorter, unsigned).
  t.is(at5(mutate(detour.bytes, (f) => void ((f.reroute as Record<string, unknown>).newTail = ids([n5, n4])))), 'BAD_REROUTE_SIGNATURE');
  t.is(at5(mutate(detour.bytes, (f) => flip((f.reroute as Record<string, unknown>).sig as Uint8Array))), 'BAD_REROUTE_SIGNATURE');
  // Claiming a different re-routing hop (n1 at index 0) with n2's signature.
  t.is(
    at5(mutate(detour.bytes, (f) => {
      const r = f.reroute as Record<string, unknown>;
      r.at = 0;
      r.by = n1.id;
      r.newTail = ids([n2, n5, n3, n4]);
      f.hop = 2;
    })),
    'BAD_REROUTE_SIGNATURE',
  );
  // Dropping the reroute field leaves a frame whose route says n3 comes next, not n5.
  t.is(at5(mutate(detour.bytes, (f) => void delete f.reroute)), 'NOT_ON_ROUTE');
  t.is(at5(detour.bytes), 'forward');
});

test('drop reasons: MALFORMED, TOO_LARGE, NOT_ON_ROUTE, WRONG_SENDER, STALE, BAD_POW', async (t) => {
  const clock = new ManualClock(T0);
  const nodes = await makeNodes(4, clock);
  const [n0, n1, n2, n3] = nodes as [Node, Node, Node, Node];
  const g = lineGraph(nodes);
  const out = n0.core.originate(n3.id, ids([n1, n2, n3]), new Uint8Array(100), n0.signer);
  const r1 = (from: Uint8Array, bytes: Uint8Array, now = T0): string => reason(n1.core.receive(from, bytes, now, g.ctx(n1)));
  t.is(r1(n0.id, new Uint8Array([0xff, 0x00])), 'MALFORMED');
  t.is(r1(n0.id, mutate(out.bytes, (f) => void (f.extra = 1))), 'MALFORMED');
  t.is(r1(n0.id, mutate(out.bytes, (f) => void (f.v = 2))), 'MALFORMED');
  t.is(r1(n0.id, new Uint8Array(MAX_ROUTE_FRAME_BYTES + 1)), 'TOO_LARGE');
  t.is(reason(n2.core.receive(n0.id, out.bytes, T0, g.ctx(n2))), 'NOT_ON_ROUTE');
  t.is(r1(n2.id, out.bytes), 'WRONG_SENDER');
  t.is(r1(n0.id, out.bytes, T0 + 10 * 60_000), 'STALE');
  t.is(r1(n0.id, out.bytes, T0 - 60_000), 'STALE');
  // Route not ending at dst.
  t.is(r1(n0.id, mutate(out.bytes, (f) => void (f.dst = n2.id))), 'MALFORMED');
  // TOO_LARGE against a core with a small payload cap.
  const small = await makeNode(clock, { maxPayload: 10 });
  const g2 = new Graph();
  g2.link(n0, small);
  const out2 = n0.core.originate(small.id, [small.id], new Uint8Array(11), n0.signer);
  t.is(reason(small.core.receive(n0.id, out2.bytes, T0, g2.ctx(small))), 'TOO_LARGE');
  t.throws(() => small.core.originate(n0.id, [n0.id], new Uint8Array(11), small.signer), { instanceOf: RouteError, message: /exceeds/ });
  // BAD_POW: a sender whose nonce misses the difficulty (difficulty 0 sender, strict receiver).
  let { secretKey, publicKey } = generateKeyPair();
  let pow = await solvePow(publicKey, 0);
  // A difficulty-0 nonce meets 20 bits about once in a million: draw again then, so the test never flakes.
  while (verifyPow(publicKey, pow, 20)) {
    ({ secretKey, publicKey } = generateKeyPair());
    pow = await solvePow(publicKey, 0);
  }
  const strict = new RouteCore({ ourId: n1.id, clock, difficulty: 20 });
  const weakCore = new RouteCore({ ourId: peerIdOf(publicKey), clock, difficulty: 0 });
  const weak = weakCore.originate(n1.id, [n1.id], new Uint8Array(1), { secretKey, publicKey, pow });
  t.is(reason(strict.receive(peerIdOf(publicKey), weak.bytes, T0, g.ctx(n1))), 'BAD_POW');
});

test('hop limit and loops: HOP_LIMIT on receive, BAD_ROUTE on originate and reroute', async (t) => {
  const clock = new ManualClock(T0);
  const nodes = await makeNodes(6, clock);
  const [n0, n1, n2, n3, n4, n5] = nodes as [Node, Node, Node, Node, Node, Node];
  const g = lineGraph(nodes);
  const short = await makeNode(clock, { maxHops: 3 });
  g.link(n0, short);
  const long = n0.core.originate(n5.id, ids([short, n2, n3, n4, n5]), new Uint8Array(0), n0.signer);
  t.is(reason(short.core.receive(n0.id, long.bytes, T0, g.ctx(short))), 'HOP_LIMIT');
  // A loop in a signed route (built by hand, since originate refuses it).
  const out = n0.core.originate(n3.id, ids([n1, n2, n3]), new Uint8Array(0), n0.signer);
  t.is(reason(n1.core.receive(n0.id, mutate(out.bytes, (f) => void (f.route = ids([n1, n2, n1, n3]))), T0, g.ctx(n1))), 'HOP_LIMIT');
  t.is(reason(n1.core.receive(n0.id, mutate(out.bytes, (f) => void (f.route = ids([n1, n0, n3]))), T0, g.ctx(n1))), 'HOP_LIMIT');
  const code = (fn: () => unknown): string | undefined => {
    try {
      fn();
      return undefined;
    } catch (err) {
      return err instanceof RouteError ? err.code : 'other';
    }
  };
  t.is(code(() => n0.core.originate(n3.id, ids([n1, n2, n1, n3]), new Uint8Array(0), n0.signer)), 'BAD_ROUTE');
  t.is(code(() => n0.core.originate(n3.id, ids([n1, n0, n3]), new Uint8Array(0), n0.signer)), 'BAD_ROUTE');
  t.is(code(() => n0.core.originate(n3.id, ids([n1, n2]), new Uint8Array(0), n0.signer)), 'BAD_ROUTE');
  t.is(code(() => n0.core.originate(n3.id, [], new Uint8Array(0), n0.signer)), 'BAD_ROUTE');
  t.is(code(() => short.core.originate(n5.id, ids([n1, n2, n3, n5]), new Uint8Array(0), short.signer)), 'BAD_ROUTE');
  t.is(code(() => n0.core.originate(n3.id, ids([n1, n2, n3]), new Uint8Array(0), n1.signer)), 'BAD_ARGUMENT');
  // A re-route that would loop back through the route's head is refused.
  g.unlink(n2, n3);
  const rr = n0.core.originate(n3.id, ids([n1, n2, n3]), new Uint8Array(0), n0.signer, { allowReroute: true });
  const trace = walk(nodes, g, n0, rr.nextHop, rr.bytes);
  if (trace.result.kind !== 'reroute-needed') return t.fail('expected a re-route');
  const pending = trace.result.pending;
  t.is(code(() => n2.core.reroute(pending, ids([n1, n3]), n2.signer)), 'BAD_ROUTE');
  t.is(code(() => n2.core.reroute(pending, ids([n4, n5]), n2.signer)), 'BAD_ROUTE');
  t.is(code(() => n2.core.reroute(pending, ids([n4, n3]), n1.signer)), 'BAD_ARGUMENT');
  t.is(code(() => n1.core.reroute(pending, ids([n4, n3]), n1.signer)), 'BAD_ARGUMENT', 'pending belongs to n2');
  t.is(code(() => n2.core.reroute({ ...pending }, ids([n4, n3]), n2.signer)), 'BAD_ARGUMENT', 'a copy is not a pending re-route');
  t.is(code(() => n2.core.reroute(pending, ids([n4, n3]), n2.signer)), undefined);
});

test('dedupe expires with the time window, and a replay after it is STALE', async (t) => {
  const clock = new ManualClock(T0);
  const nodes = await makeNodes(2, clock);
  const [n0, n1] = nodes as [Node, Node];
  const g = lineGraph(nodes);
  const out = n0.core.originate(n1.id, [n1.id], new Uint8Array([1]), n0.signer);
  t.is(reason(n1.core.receive(n0.id, out.bytes, T0, g.ctx(n1))), 'deliver');
  t.is(reason(n1.core.receive(n0.id, out.bytes, T0 + 1000, g.ctx(n1))), 'DUPLICATE');
  t.is(reason(n1.core.receive(n0.id, out.bytes, T0 + n1.core.maxAgeMs + 1, g.ctx(n1))), 'STALE');
  // A forged copy does not poison the cache: the genuine message still arrives.
  const out2 = n0.core.originate(n1.id, [n1.id], new Uint8Array([2]), n0.signer);
  const forged = mutate(out2.bytes, (f) => void ((f.payload as Uint8Array)[0] = 3));
  t.is(reason(n1.core.receive(n0.id, forged, T0, g.ctx(n1))), 'BAD_SIGNATURE');
  t.is(reason(n1.core.receive(n0.id, out2.bytes, T0, g.ctx(n1))), 'deliver');
});

test('constructor and receive validate their arguments', async (t) => {
  const clock = new ManualClock(T0);
  const [n0] = (await makeNodes(1, clock)) as [Node];
  t.throws(() => new RouteCore({ ourId: new Uint8Array(31), clock }), { instanceOf: RouteError });
  t.throws(() => new RouteCore({ ourId: n0.id, clock, maxHops: 65 }), { instanceOf: RouteError });
  t.throws(() => new RouteCore({ ourId: n0.id, clock, maxPayload: 70_000 }), { instanceOf: RouteError });
  const ctx = { isNeighbour: () => true };
  t.throws(() => n0.core.receive(new Uint8Array(3), new Uint8Array(1), T0, ctx), { instanceOf: RouteError });
  t.throws(() => n0.core.receive(n0.id, 'x' as unknown as Uint8Array, T0, ctx), { instanceOf: RouteError });
  t.throws(() => n0.core.receive(n0.id, new Uint8Array(1), Number.NaN, ctx), { instanceOf: RouteError });
  t.throws(() => n0.core.receive(n0.id, new Uint8Array(1), T0, {} as typeof ctx), { instanceOf: RouteError });
});

test('fuzz: receive never throws on random or mutated bytes', async (t) => {
  const clock = new ManualClock(T0);
  const nodes = await makeNodes(4, clock);
  const [n0, n1, n2, n3] = nodes as [Node, Node, Node, Node];
  const out = n0.core.originate(n3.id, ids([n1, n2, n3]), new Uint8Array([1, 2, 3, 4]), n0.signer, { allowReroute: true });
  const ctx = { isNeighbour: () => false };
  // Every receive uses a fresh core so a genuine delivery does not turn later ones into duplicates.
  const fresh = (): RouteCore => new RouteCore({ ourId: n1.id, clock, difficulty: DIFFICULTY, verify: () => false });
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      const r = fresh().receive(n0.id, bytes, T0, ctx);
      return r.kind === 'drop';
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.nat(), (edits, cut) => {
      const bytes = new Uint8Array(out.bytes);
      for (const [pos, val] of edits) bytes[pos % bytes.length] = val;
      const sliced = cut % 3 === 0 ? bytes.subarray(0, cut % bytes.length) : bytes;
      const r = fresh().receive(n0.id, sliced, T0, ctx);
      return ['drop', 'deliver', 'forward', 'reroute-needed'].includes(r.kind);
    }),
    { numRuns: 1000 },
  );
  t.pass();
});
