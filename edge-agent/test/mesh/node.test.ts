/**
 * The overlay shell on real channels in one process: managers on 127.0.0.1,
 * messengers, one OverlayNode each. The maps must converge to the links that
 * really exist, follow a link going down, and bring a late joiner up to date
 * through catch-up. Waits are safety nets, never speed assertions.
 */
import test from 'ava';
import { generateKeyPair, peerIdOf, solvePow, toHex } from '../../src/identity/index.js';
import { encodeEvent, signEvent } from '../../src/overlay/index.js';
import { MeshError, OverlayNode, withOverlayMessages, type OverlayNodeOptions } from '../../src/mesh/index.js';
import { Messenger } from '../../src/transport/index.js';
import { coreMessages } from '../../src/wire/index.js';
import { address, startManager, until } from '../transport/net-helpers.js';

const DIFFICULTY = 6;
const registry = withOverlayMessages(coreMessages);

type Started = Awaited<ReturnType<typeof startManager>>;
interface Node extends Started {
  readonly hex: string;
  readonly messenger: Messenger;
  readonly overlay: OverlayNode;
}

async function node(extra: Partial<OverlayNodeOptions> = {}): Promise<Node> {
  const started = await startManager();
  const messenger = new Messenger({ manager: started.manager, registry });
  const pow = await solvePow(started.keys.publicKey, DIFFICULTY);
  const overlay = new OverlayNode({
    messenger,
    manager: started.manager,
    signer: { secretKey: Uint8Array.from(started.keys.secretKey), publicKey: started.keys.publicKey, pow },
    gossip: { difficulty: DIFFICULTY },
    flushMs: 5,
    ...extra,
  });
  overlay.start();
  return { ...started, hex: toHex(started.manager.peerId), messenger, overlay };
}

async function closeAll(nodes: readonly Node[]): Promise<void> {
  for (const n of nodes) {
    n.overlay.close();
    n.messenger.close();
  }
  await Promise.all(nodes.map((n) => n.manager.close()));
}

const key = (e: { from: string; to: string }): string => `${e.from}>${e.to}`;
const sorted = (edges: readonly { from: string; to: string }[]): string[] => edges.map(key).sort();

/** The links that exist, as dialled: from each node's channels it initiated. */
function truth(nodes: readonly Node[]): string[] {
  const out: string[] = [];
  for (const n of nodes) for (const c of n.manager.channels()) if (c.initiator) out.push(`${n.hex}>${toHex(c.remotePeerId)}`);
  return out.sort();
}

const converged = (nodes: readonly Node[]): boolean => {
  const want = truth(nodes).join();
  return nodes.every((n) => sorted(n.overlay.edges()).join() === want);
};

test('maps converge to the links that exist, follow a node going away, and a late joiner catches up', async (t) => {
  const nodes = await Promise.all([node(), node(), node(), node(), node()]);
  const all = [...nodes];
  t.teardown(() => closeAll(all));
  const dial = (a: Node, b: Node) => a.manager.dial(address(b.keys, b.port));
  const [n0, n1, n2, n3, n4] = nodes as [Node, Node, Node, Node, Node];
  await dial(n0, n1);
  await dial(n1, n2);
  await dial(n2, n3);
  await dial(n3, n4);
  await dial(n0, n2);
  await dial(n1, n3);
  await until(() => truth(nodes).length === 6 && converged(nodes), 20_000, 'five nodes converged');
  t.is(n4.overlay.stats().edges, 6);
  t.is(n4.overlay.store.size, 5);
  t.is(n0.overlay.stats().map, n4.overlay.stats().map);

  // A late joiner learns the whole map from its one neighbour's catch-up.
  const late = await node();
  all.push(late);
  const before = n4.overlay.stats().catchUpsSent;
  await dial(late, n4);
  const six = [...nodes, late];
  await until(() => truth(six).length === 7 && converged(six), 20_000, 'late joiner converged');
  t.true(n4.overlay.stats().catchUpsSent > before, 'n4 sent its table');

  // n2 goes away: its neighbours report the disconnects, and every map drops its three links (the rest stays connected).
  n2.overlay.close();
  n2.messenger.close();
  await n2.manager.close();
  const rest = six.filter((n) => n !== n2);
  await until(() => truth(rest).length === 4 && converged(rest), 20_000, 'n2 gone from every map').catch((err: unknown) => {
    const name = (h: string) => String(all.findIndex((n) => n.hex === h));
    const show = (l: string[]) => l.map((e) => e.split('>').map(name).join('>')).join(' ');
    t.log('truth', show(truth(rest)));
    for (const n of rest) t.log(name(n.hex), show(sorted(n.overlay.edges())), JSON.stringify(n.overlay.stats()));
    throw err;
  });
  t.false(sorted(n0.overlay.edges()).some((e) => e.includes(n2.hex)));
  t.is(n0.overlay.stats().rejected.BAD_SIGNATURE, undefined);
});

test('two converged neighbours that link up exchange digests only, no catch-up', async (t) => {
  const [a, b, c] = await Promise.all([node(), node(), node()]);
  t.teardown(() => closeAll([a, b, c]));
  await a.manager.dial(address(b.keys, b.port));
  await b.manager.dial(address(c.keys, c.port));
  await until(() => converged([a, b, c]) && truth([a, b, c]).length === 2, 20_000, 'chain converged');
  const sent = (): number => a.overlay.stats().catchUpsSent + c.overlay.stats().catchUpsSent;
  const before = sent();
  await a.manager.dial(address(c.keys, c.port));
  await until(() => converged([a, b, c]) && truth([a, b, c]).length === 3, 20_000, 'triangle converged');
  t.is(sent(), before);
});

test('gossip is paced: a burst of events crosses a node as at most one batch per neighbour per interval', async (t) => {
  const interval = 1_000;
  const [a, b, c, ...fresh] = await Promise.all([node(), node({ gossipIntervalMs: interval }), node(), node(), node(), node(), node()]);
  const all = [a!, b!, c!, ...fresh];
  t.teardown(() => closeAll(all));
  await c!.manager.dial(address(b!.keys, b!.port));
  await b!.manager.dial(address(a!.keys, a!.port));
  await until(() => converged([a!, b!, c!]) && truth([a!, b!, c!]).length === 2, 20_000, 'chain converged');
  const before = b!.overlay.stats();
  const started = Date.now();
  // Four links at once at the far end: eight reports that b forwards to c.
  await Promise.all(fresh.map((f) => a!.manager.dial(address(f.keys, f.port))));
  await until(() => converged(all) && truth(all).length === 6, 20_000, 'burst converged');
  const elapsed = Date.now() - started;
  const after = b!.overlay.stats();
  const frames = after.framesSent - before.framesSent;
  const messages = after.messagesSent - before.messagesSent;
  t.true(frames >= 8, `frames ${frames}`);
  // b forwards to c only (a sent them): one batch right away, then at most one per interval.
  t.true(messages <= 1 + Math.ceil(elapsed / interval), `${messages} messages in ${elapsed} ms`);
  t.true(messages < frames, `${messages} messages for ${frames} frames`);
});

test('a map saved as reports comes back in a new node, verified: tampered reports are refused', async (t) => {
  const [a, b, c] = await Promise.all([node(), node(), node()]);
  t.teardown(() => closeAll([a, b, c]));
  await a.manager.dial(address(b.keys, b.port));
  await b.manager.dial(address(c.keys, c.port));
  await until(() => converged([a, b, c]) && truth([a, b, c]).length === 2, 20_000, 'chain converged');
  const frames = a.overlay.reports();
  t.is(frames.length, 4, 'two links, two reports each');
  const tampered = frames.map((f, i) => {
    if (i !== 0) return f;
    const x = Uint8Array.from(f);
    x[x.length - 5]! ^= 1; // inside the signature
    return x;
  });
  const fresh = await node();
  t.teardown(() => closeAll([fresh]));
  // node() started it; restore is for a node not yet started.
  t.throws(() => fresh.overlay.restore(frames), { instanceOf: MeshError, message: /before start/ });
  const started = await startManager();
  const messenger = new Messenger({ manager: started.manager, registry });
  const restored = new OverlayNode({
    messenger,
    manager: started.manager,
    signer: { secretKey: Uint8Array.from(started.keys.secretKey), publicKey: started.keys.publicKey, pow: await solvePow(started.keys.publicKey, DIFFICULTY) },
    gossip: { difficulty: DIFFICULTY },
  });
  t.teardown(async () => {
    restored.close();
    messenger.close();
    await started.manager.close();
  });
  t.deepEqual(restored.restore(frames), { accepted: 4, rejected: 0 });
  t.deepEqual(sorted(restored.edges()), sorted(a.overlay.edges()));
  t.is(restored.stats().map, a.overlay.stats().map);
  t.is(restored.store.size, 4, 'the three peers of the map, and ourselves (always pinned)');
  const again = new OverlayNode({ messenger, manager: started.manager, signer: { secretKey: Uint8Array.from(started.keys.secretKey), publicKey: started.keys.publicKey, pow: new Uint8Array(8) }, gossip: { difficulty: DIFFICULTY } });
  t.teardown(() => again.close());
  const r = again.restore(tampered);
  t.is(r.rejected, 1);
  t.is(again.edges().length, 1, 'the link whose half was tampered with is not confirmed');
});

test('caller mistakes throw MeshError', async (t) => {
  const started = await startManager();
  t.teardown(() => started.manager.close());
  const messenger = new Messenger({ manager: started.manager, registry });
  const signer = { secretKey: Uint8Array.from(started.keys.secretKey), publicKey: started.keys.publicKey, pow: new Uint8Array(8) };
  t.throws(() => new OverlayNode(null as never), { instanceOf: MeshError });
  t.throws(() => new OverlayNode({ messenger, manager: started.manager, signer: {} as never }), { instanceOf: MeshError, message: /signer/ });
  t.throws(() => new OverlayNode({ messenger, manager: started.manager, signer, flushMs: 0 }), { instanceOf: MeshError, message: /flushMs/ });
  t.throws(() => new OverlayNode({ messenger, manager: started.manager, signer, gossipIntervalMs: -1 }), { instanceOf: MeshError, message: /gossipIntervalMs/ });
  const n = new OverlayNode({ messenger, manager: started.manager, signer });
  n.close();
  t.true(signer.secretKey.every((b) => b === 0), 'close() wipes the key');
  t.throws(() => n.start(), { instanceOf: MeshError, message: /closed/ });
  t.throws(() => withOverlayMessages({} as never), { instanceOf: MeshError });
});

test('edges older than edgeTtlMs stay while reachable; after a cut each side keeps only its own component', async (t) => {
  const fast = { gossip: { difficulty: DIFFICULTY, edgeTtlMs: 1_000 }, sweepMs: 100 };
  const nodes = await Promise.all([node(fast), node(fast), node(fast), node(fast)]);
  t.teardown(() => closeAll(nodes));
  const [a, b, c, d] = nodes as [Node, Node, Node, Node];
  await a.manager.dial(address(b.keys, b.port));
  await b.manager.dial(address(c.keys, c.port));
  await c.manager.dial(address(d.keys, d.port));
  await until(() => truth(nodes).length === 3 && converged(nodes), 20_000, 'chain converged');
  await new Promise((r) => setTimeout(r, 2_500)); // every report is now older than edgeTtlMs
  t.true(converged(nodes), 'reachable edges are kept past edgeTtlMs');
  // Cut b–c: each side hears its end's disconnect; what lies beyond the cut goes stale and is collected.
  b.manager.channel(c.manager.peerId)!.close('LOCAL');
  const left = [a, b];
  const right = [c, d];
  await until(() => converged(left) && converged(right), 20_000, 'each side converged to its own component');
  t.deepEqual(sorted(a.overlay.edges()), [`${a.hex}>${b.hex}`]);
  t.deepEqual(sorted(d.overlay.edges()), [`${c.hex}>${d.hex}`]);
});

test('anti-entropy: an event one neighbour missed is repaired once the difference has settled', async (t) => {
  const [a, b] = await Promise.all([node({ antiEntropyMs: 100 }), node({ antiEntropyMs: 100 })]);
  t.teardown(() => closeAll([a, b]));
  await a.manager.dial(address(b.keys, b.port));
  await until(() => converged([a, b]) && truth([a, b]).length === 1, 20_000, 'pair converged');
  // b learns a report that never reached a (as if its batch had been lost): only b's table holds it.
  const x = generateKeyPair();
  const y = generateKeyPair();
  const signer = { secretKey: x.secretKey, publicKey: x.publicKey, pow: await solvePow(x.publicKey, DIFFICULTY) };
  const frame = encodeEvent(signEvent({ event: 'connect', neighbour: peerIdOf(y.publicKey), direction: 'out', timestamp: Date.now() }, signer), 1);
  t.true(b.overlay.core.receive(b.hex, frame).accepted);
  const xHex = toHex(peerIdOf(x.publicKey));
  const yHex = toHex(peerIdOf(y.publicKey));
  t.is(a.overlay.core.edges.report(xHex, yHex, 'out'), undefined);
  await until(() => a.overlay.core.edges.report(xHex, yHex, 'out') !== undefined, 20_000, 'a repaired');
  t.deepEqual(a.overlay.core.digest(), b.overlay.core.digest());
});
