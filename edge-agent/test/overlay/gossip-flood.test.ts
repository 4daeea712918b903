/**
 * A small deterministic network of GossipCores wired in memory through a FIFO
 * queue: the seed of the 10,000-peer simulator. Every node must end with the
 * same confirmed edge set, each event verified once per node.
 */
import test from 'ava';
import { ManualClock } from '../../src/clock/index.js';
import { generateKeyPair, peerIdOf, solvePow, toHex, verify } from '../../src/identity/index.js';
import { GossipCore, type GossipOptions } from '../../src/overlay/gossip.js';
import type { EventSigner } from '../../src/overlay/gossip-event.js';

const DIFFICULTY = 4;
const T0 = 1_700_000_000_000;

interface Node {
  readonly signer: EventSigner;
  readonly peerId: Uint8Array;
  readonly hex: string;
  readonly core: GossipCore;
  readonly neighbours: Set<number>;
  verifications: number;
}

interface Net {
  readonly nodes: Node[];
  readonly clock: ManualClock;
  /** Frames in flight: to, from, bytes. */
  readonly queue: [number, number, Uint8Array][];
  readonly byHex: Map<string, number>;
}

async function network(n: number, dials: [number, number][], opts: Partial<GossipOptions> = {}): Promise<Net> {
  const clock = new ManualClock(T0);
  const nodes: Node[] = [];
  for (let i = 0; i < n; i++) {
    const { secretKey, publicKey } = generateKeyPair();
    const peerId = peerIdOf(publicKey);
    const node: Node = {
      signer: { secretKey, publicKey, pow: await solvePow(publicKey, DIFFICULTY) },
      peerId,
      hex: toHex(peerId),
      neighbours: new Set(),
      verifications: 0,
      core: undefined as unknown as GossipCore,
    };
    (node as { core: GossipCore }).core = new GossipCore({
      ourId: peerId,
      clock,
      difficulty: DIFFICULTY,
      verify: (pk, msg, sig) => {
        node.verifications++;
        return verify(pk, msg, sig);
      },
      ...opts,
    });
    nodes.push(node);
  }
  for (const [a, b] of dials) {
    nodes[a]!.neighbours.add(b);
    nodes[b]!.neighbours.add(a);
  }
  return { nodes, clock, queue: [], byHex: new Map(nodes.map((x, i) => [x.hex, i])) };
}

function announce(net: Net, i: number, event: 'connect' | 'disconnect', j: number, direction: 'in' | 'out'): void {
  const node = net.nodes[i]!;
  const { bytes } = node.core.announce({ event, neighbour: net.nodes[j]!.peerId, direction }, node.signer);
  for (const k of node.neighbours) net.queue.push([k, i, bytes]);
}

/** Delivers until quiet; returns the number of deliveries. */
function run(net: Net): number {
  let delivered = 0;
  while (net.queue.length > 0) {
    const [to, from, bytes] = net.queue.shift()!;
    delivered++;
    const node = net.nodes[to]!;
    const r = node.core.receive(net.nodes[from]!.hex, bytes);
    if (r.forward === null) continue;
    const exclude = net.byHex.get(r.forward.exclude);
    for (const k of node.neighbours) if (k !== exclude) net.queue.push([k, to, r.forward.bytes]);
  }
  return delivered;
}

function edgeSet(net: Net, node: Node): string[] {
  return node.core.edges
    .confirmed()
    .map((e) => `${net.byHex.get(e.from)}>${net.byHex.get(e.to)}`)
    .sort();
}

test('20 nodes on a ring with chords all converge on the same confirmed edge set; a disconnect reaches everyone', async (t) => {
  const n = 20;
  const dials: [number, number][] = [];
  for (let i = 0; i < n; i++) dials.push([i, (i + 1) % n], [i, (i + 7) % n]);
  const net = await network(n, dials);
  for (const [a, b] of dials) {
    announce(net, a, 'connect', b, 'out');
    announce(net, b, 'connect', a, 'in');
  }
  const delivered = run(net);
  const expected = dials.map(([a, b]) => `${a}>${b}`).sort();
  for (const node of net.nodes) t.deepEqual(edgeSet(net, node), expected);
  // Each node verified each event not its own exactly once, however many copies arrived.
  const events = 2 * dials.length;
  for (const [i, node] of net.nodes.entries()) t.is(node.verifications, events - node.neighbours.size, `node ${i}`);
  t.true(delivered > events * n, 'copies arrived by several paths');

  net.clock.advance(1000);
  announce(net, 0, 'disconnect', 1, 'out');
  run(net);
  const remaining = expected.filter((e) => e !== '0>1');
  for (const node of net.nodes) t.deepEqual(edgeSet(net, node), remaining);
});

test('the hop limit bounds the spread: on a line with maxTtl 2 an event reaches two hops and no further', async (t) => {
  const net = await network(6, [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]], { maxTtl: 2 });
  announce(net, 0, 'connect', 1, 'out');
  run(net);
  const heard = net.nodes.map((node) => node.core.edges.size);
  t.deepEqual(heard, [1, 1, 1, 0, 0, 0]);
});
