/**
 * The overlay's peer map at 100k peers with 12 confirmed neighbours each:
 * heap bytes per peer, inserts per second into a full store (each one evicts),
 * neighbour selection over all 100k candidates, and a flood of 1,000,000 fake
 * peer announcements that must leave the store within its bound, and one
 * connected-components pass over the map. Side by side
 * with the obvious reference: a Map from hex id to an array of hex neighbour
 * ids, fed the same data (unbounded, so it has no eviction cost).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ManualClock } from '../edge-agent/src/clock/index.js';
import { findComponents } from '../edge-agent/src/overlay/components.js';
import { PeerStore } from '../edge-agent/src/overlay/peer-store.js';
import type { BenchResult } from './run.js';
import { median, round } from './lib/measure.js';

const PEERS = 100_000;
const DEGREE = 12;
const FLOOD = 1_000_000;
const SELECT_ROUNDS = 21;

function gcFunction(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
const gc = gcFunction();

function heapBytes(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Peer id i: 32 pseudo-random bytes (xorshift from i), as SHA-256 ids look. */
function idOf(i: number, salt = 0): Uint8Array {
  const id = new Uint8Array(32);
  let x = (Math.imul(i + 1, 0x9e3779b1) ^ salt) >>> 0 || 1;
  for (let k = 0; k < 32; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    id[k] = x & 0xff;
  }
  return id;
}

/** Deterministic neighbour numbers of peer i: DEGREE distinct others. */
function neighbourNumbers(i: number): number[] {
  const out = new Set<number>();
  let x = (i * 2654435761 + 12345) >>> 0 || 1;
  while (out.size < DEGREE) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = (x >>> 0) % PEERS;
    if (j !== i) out.add(j);
  }
  return [...out];
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

function fillStore(): PeerStore {
  const s = new PeerStore({ maxPeers: PEERS, maxDegree: DEGREE, clock: new ManualClock(1_760_000_000_000) });
  for (let i = 0; i < PEERS; i++) s.setNeighbours(idOf(i), neighbourNumbers(i).map((j) => idOf(j)));
  return s;
}

function fillMap(): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (let i = 0; i < PEERS; i++) {
    const list = neighbourNumbers(i).map((j) => hex(idOf(j)));
    m.set(hex(idOf(i)), list);
    for (const n of list) if (!m.has(n)) m.set(n, []);
  }
  return m;
}

function mapSelect(m: Map<string, string[]>, mine: string[]): string | undefined {
  const mineSet = new Set(mine);
  const near = new Set<string>();
  for (const x of mine) for (const n of m.get(x) ?? []) near.add(n);
  let best: string | undefined;
  let bestOverlap = Infinity;
  for (const [c, list] of m) {
    if (mineSet.has(c)) continue;
    let o = near.has(c) ? 1 : 0;
    for (const n of list) if (mineSet.has(n)) o++;
    if (o < bestOverlap || (o === bestOverlap && best !== undefined && c < best)) {
      best = c;
      bestOverlap = o;
    }
  }
  return best;
}

function msOf(fn: () => unknown): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export default async function peerstoreBench(): Promise<BenchResult> {
  // Memory: the whole filled structure, typed arrays included, over a collected baseline.
  const before = heapBytes();
  let fillMs = 0;
  let store: PeerStore | undefined;
  fillMs = msOf(() => (store = fillStore()));
  const s = store!;
  const bytesPerPeer = (heapBytes() - before) / s.size;

  const mine = neighbourNumbers(424_242 % PEERS).map((j) => idOf(j));
  const self = idOf(424_242 % PEERS);
  for (const m of mine) s.pin(m);
  s.selectCandidate(mine, { self }); // warm up
  const selects: number[] = [];
  for (let r = 0; r < SELECT_ROUNDS; r++) selects.push(msOf(() => s.selectCandidate(mine, { self })));
  const selectMs = median(selects);

  // Connected components over the whole map (union-find), as the overlay recomputes it.
  findComponents(s);
  const components: number[] = [];
  let componentCount = 0;
  for (let r = 0; r < 5; r++) components.push(msOf(() => (componentCount = findComponents(s).count)));

  // Inserts into the full store: each new peer evicts one (CLOCK sweep).
  const INSERTS = 200_000;
  const fresh = Array.from({ length: INSERTS }, (_, i) => idOf(i, 0x5a5a5a5a));
  const insertMs = msOf(() => {
    for (const id of fresh) s.upsertPeer(id);
  });
  const insertsPerSec = INSERTS / (insertMs / 1000);
  fresh.length = 0;

  // Flood: 1,000,000 announcements of fake peers, each with one fake neighbour.
  const heapBeforeFlood = heapBytes();
  let largest = 0;
  const floodMs = msOf(() => {
    for (let i = 0; i < FLOOD; i++) {
      s.setNeighbours(idOf(i, 0x0f100d), [idOf(i, 0x7ea7)]);
      if (s.size > largest) largest = s.size;
    }
  });
  const floodGrowth = heapBytes() - heapBeforeFlood;
  const floodBoundHeld = largest <= PEERS && mine.every((m) => s.has(m)) && floodGrowth < 1024 * 1024;

  // Reference: Map<hex, hex[]>.
  store = undefined;
  gc();
  const mapBefore = heapBytes();
  let map: Map<string, string[]> | undefined;
  const mapFillMs = msOf(() => (map = fillMap()));
  const mapBytesPerPeer = (heapBytes() - mapBefore) / map!.size;
  const mineHex = mine.map(hex);
  mapSelect(map!, mineHex);
  const mapSelects: number[] = [];
  for (let r = 0; r < 7; r++) mapSelects.push(msOf(() => mapSelect(map!, mineHex)));

  return {
    peers: PEERS,
    degree: DEGREE,
    bytesPerPeer: round(bytesPerPeer, 1),
    insertsPerSec: round(insertsPerSec, 0),
    fillPeersPerSec: round(PEERS / (fillMs / 1000), 0),
    selectMs: round(selectMs, 3),
    componentsMs: round(median(components), 2),
    components: componentCount,
    floodBoundHeld,
    floodAnnouncementsPerSec: round(FLOOD / (floodMs / 1000), 0),
    floodHeapGrowthBytes: floodGrowth,
    reference: {
      kind: 'Map<hex id, hex id[]>',
      bytesPerPeer: round(mapBytesPerPeer, 1),
      fillPeersPerSec: round(PEERS / (mapFillMs / 1000), 0),
      selectMs: round(median(mapSelects), 3),
    },
  };
}
