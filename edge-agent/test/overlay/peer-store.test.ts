import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import test from 'ava';
import fc from 'fast-check';
import { ManualClock } from '../../src/clock/index.js';
import { PeerStore, snapshotBytes } from '../../src/overlay/peer-store.js';
import { PeerStoreError } from '../../src/overlay/errors.js';

/** Peer id number n: distinct for distinct n, all sharing the same first 8 bytes unless `spread`. */
function pid(n: number, spread = true): Uint8Array {
  const id = new Uint8Array(32);
  const v = new DataView(id.buffer);
  if (spread) v.setUint32(0, Math.imul(n + 1, 0x9e3779b1) >>> 0);
  v.setUint32(28, n);
  return id;
}

const hex = (id: Uint8Array): string => Buffer.from(id).toString('hex');
const hexes = (ids: readonly Uint8Array[] | undefined): string[] => (ids ?? []).map(hex).sort();

function store(maxPeers = 64, clock = new ManualClock(1_000_000), seed = 7): PeerStore {
  return new PeerStore({ maxPeers, clock, seed });
}

test('insert, lookup, neighbours and confirmation times', (t) => {
  const clock = new ManualClock(5_000);
  const s = store(16, clock);
  t.true(s.upsertPeer(pid(1)));
  t.false(s.upsertPeer(pid(1)));
  t.true(s.has(pid(1)));
  t.false(s.has(pid(2)));
  t.is(s.size, 1);
  clock.advance(3_000);
  s.setNeighbours(pid(1), [pid(2), pid(3)]);
  t.is(s.size, 3, 'edges to unknown peers create them');
  t.deepEqual(hexes(s.neighbours(pid(1))), hexes([pid(2), pid(3)]));
  t.deepEqual(s.neighbours(pid(2)), []);
  t.is(s.neighbours(pid(9)), undefined);
  t.is(s.lastConfirmed(pid(1)), 8_000);
  s.setNeighbours(pid(1), [pid(4)]);
  t.deepEqual(hexes(s.neighbours(pid(1))), hexes([pid(4)]), 'a new list replaces the old');
  t.deepEqual(hexes([...s.peerIds()]), hexes([1, 2, 3, 4].map((n) => pid(n))));
});

test('bad arguments are typed errors and change nothing', (t) => {
  const s = store(16);
  const code = { instanceOf: PeerStoreError, code: 'BAD_ARGUMENT' } as const;
  t.throws(() => s.upsertPeer(new Uint8Array(31)), code);
  t.throws(() => s.has('x' as never), code);
  t.throws(() => s.setNeighbours(pid(1), [pid(1)]), code);
  t.throws(() => s.setNeighbours(pid(1), [pid(2), pid(2)]), code);
  t.throws(() => s.setNeighbours(pid(1), Array.from({ length: 13 }, (_, i) => pid(i + 2))), code);
  t.throws(() => s.setNeighbours(pid(1), 'no' as never), code);
  t.is(s.size, 0);
  t.throws(() => new PeerStore({ maxPeers: 0, clock: new ManualClock() }), code);
  t.throws(() => new PeerStore({ maxPeers: 2 ** 21, clock: new ManualClock() }), code);
  t.throws(() => new PeerStore({ maxDegree: 0, clock: new ManualClock() }), code);
  t.throws(() => new PeerStore({ clock: {} as never }), code);
});

test('ids sharing long prefixes (hash collisions) stay distinct, and removal keeps probes intact', (t) => {
  const s = store(300);
  const ids = Array.from({ length: 300 }, (_, i) => pid(i, false));
  for (const id of ids) s.upsertPeer(id);
  t.is(s.size, 300);
  for (const id of ids) t.true(s.has(id));
  for (let i = 0; i < 300; i += 2) t.true(s.remove(ids[i]!));
  t.false(s.remove(ids[0]!));
  for (let i = 0; i < 300; i++) t.is(s.has(ids[i]!), i % 2 === 1);
  for (let i = 0; i < 300; i += 2) s.upsertPeer(ids[i]!);
  t.is(s.size, 300);
  for (const id of ids) t.true(s.has(id));
});

test('when full, the least recently confirmed unpinned peer goes; pinned peers never do', (t) => {
  const clock = new ManualClock(0);
  const s = store(4, clock);
  for (let i = 0; i < 4; i++) s.upsertPeer(pid(i));
  s.pin(pid(0));
  s.upsertPeer(pid(2)); // confirmed again: a second chance
  s.upsertPeer(pid(4));
  t.is(s.size, 4);
  t.true(s.has(pid(0)), 'pinned');
  t.false(s.has(pid(1)), 'oldest unconfirmed unpinned peer evicted');
  t.true(s.has(pid(2)));
  t.true(s.has(pid(3)));
  t.true(s.has(pid(4)));
  t.true(s.isPinned(pid(0)));
  s.unpin(pid(0));
  t.false(s.isPinned(pid(0)));
});

test('all pinned: FULL, and the store is unchanged', (t) => {
  const s = store(3);
  for (let i = 0; i < 3; i++) s.pin(pid(i));
  t.throws(() => s.upsertPeer(pid(9)), { instanceOf: PeerStoreError, code: 'FULL' });
  t.is(s.size, 3);
  for (let i = 0; i < 3; i++) t.true(s.has(pid(i)));
});

test('an evicted peer disappears from other lists, and its slot reused by another does not alias it', (t) => {
  const s = store(4);
  s.pin(pid(0));
  s.setNeighbours(pid(0), [pid(1), pid(2)]);
  s.pin(pid(2));
  s.pin(pid(3));
  s.upsertPeer(pid(5)); // evicts 1, the only unpinned peer, reusing its slot
  t.false(s.has(pid(1)));
  t.deepEqual(hexes(s.neighbours(pid(0))), hexes([pid(2)]));
});

test('a peer being given neighbours is not evicted to make room for them', (t) => {
  const s = store(3);
  s.upsertPeer(pid(0));
  s.upsertPeer(pid(1));
  s.upsertPeer(pid(2));
  s.setNeighbours(pid(0), [pid(3), pid(4)]);
  t.true(s.has(pid(0)));
  t.deepEqual(hexes(s.neighbours(pid(0))), hexes([pid(3), pid(4)]));
});

test('a flood of 10x maxPeers fake peers keeps the bound and the pinned peers, and lists stay consistent', (t) => {
  const clock = new ManualClock(0);
  const s = store(1000, clock);
  for (let i = 0; i < 20; i++) s.pin(pid(i));
  for (let i = 0; i < 20; i++) s.setNeighbours(pid(i), [pid((i + 1) % 20), pid(100_000 + i)]);
  let largest = 0;
  for (let i = 0; i < 10_000; i++) {
    clock.advance(1000);
    s.setNeighbours(pid(1_000_000 + i), [pid(2_000_000 + i), pid(i % 20)]);
    largest = Math.max(largest, s.size);
  }
  t.is(largest, 1000);
  t.is(s.size, 1000);
  for (let i = 0; i < 20; i++) t.true(s.has(pid(i)));
  for (const id of s.peerIds()) for (const n of s.neighbours(id)!) if (!s.has(n)) t.fail('a listed neighbour is gone');
});

test('slot generations wrapping never resurrect an evicted neighbour', (t) => {
  const s = store(2);
  s.pin(pid(0));
  s.setNeighbours(pid(0), [pid(1)]);
  // Slot 1 is evicted and reused over 5000 times (> the 4096 generations).
  for (let i = 0; i < 5000; i++) s.upsertPeer(pid(10 + i));
  t.deepEqual(s.neighbours(pid(0)), []);
  s.setNeighbours(pid(0), [pid(7)]);
  for (let i = 0; i < 4096; i++) s.upsertPeer(pid(20_000 + i)); // back to the same generation
  t.deepEqual(s.neighbours(pid(0)), [], 'a purge ran at the wrap');
});

/** Brute-force reference: overlap by definition, ties by (tieKey, id). */
function reference(s: PeerStore, mine: Uint8Array[], self: Uint8Array | undefined, candidates: Uint8Array[]): { id: string; overlap: number } | undefined {
  const mineSet = new Set(mine.filter((m) => s.has(m)).map(hex));
  const near = new Set<string>();
  for (const m of mine) for (const n of s.neighbours(m) ?? []) near.add(hex(n));
  let best: { id: string; overlap: number; key: number } | undefined;
  for (const c of candidates) {
    const h = hex(c);
    if (!s.has(c) || mineSet.has(h) || (self !== undefined && h === hex(self))) continue;
    const overlap = s.neighbours(c)!.filter((n) => mineSet.has(hex(n))).length + (near.has(h) ? 1 : 0);
    const key = s.tieKey(c);
    if (best === undefined || overlap < best.overlap || (overlap === best.overlap && (key < best.key || (key === best.key && h < best.id)))) {
      best = { id: h, overlap, key };
    }
  }
  return best && { id: best.id, overlap: best.overlap };
}

test('selectCandidate matches a brute-force reference on random graphs', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 40 }),
      fc.array(fc.tuple(fc.nat(39), fc.uniqueArray(fc.nat(39), { maxLength: 6 })), { maxLength: 60 }),
      fc.uniqueArray(fc.nat(39), { maxLength: 8 }),
      fc.option(fc.nat(39)),
      fc.option(fc.uniqueArray(fc.nat(39), { maxLength: 20 })),
      fc.integer({ min: 0, max: 0xffffffff }),
      (maxPeers, edges, mineN, selfN, candN, seed) => {
        const s = new PeerStore({ maxPeers, maxDegree: 6, clock: new ManualClock(0), seed });
        for (const [a, list] of edges) {
          try {
            s.setNeighbours(pid(a), list.filter((b) => b !== a).map((b) => pid(b)));
          } catch (err) {
            // A list longer than the store can hold at once: FULL is the right answer.
            if (!(err instanceof PeerStoreError && err.code === 'FULL')) throw err;
          }
        }
        const mine = mineN.map((n) => pid(n));
        const self = selfN === null ? undefined : pid(selfN);
        const all = [...s.peerIds()];
        const cands = candN === null ? all : candN.map((n) => pid(n));
        const got = s.selectCandidate(mine, { self, candidates: candN === null ? undefined : cands });
        const want = reference(s, mine, self, cands);
        return JSON.stringify(got && { id: hex(got.id), overlap: got.overlap }) === JSON.stringify(want);
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});

test('selectCandidate matches the reference on dense graphs, where every early candidate overlaps', (t) => {
  for (let seed = 1; seed <= 30; seed++) {
    const s = new PeerStore({ maxPeers: 60, clock: new ManualClock(0), seed });
    const mine = [0, 1, 2, 3].map((n) => pid(n));
    for (let i = 4; i < 60; i++) {
      // Most peers list two or three of mine; a few list one; one lists none.
      const k = i === 4 + (seed % 56) ? 0 : i % 9 === 0 ? 1 : 2 + (i % 2);
      s.setNeighbours(pid(i), [0, 1, 2, 3].slice(0, k).map((n) => pid(n)));
    }
    if (seed % 2) s.setNeighbours(pid(0), [pid(5), pid(6)]);
    const got = s.selectCandidate(mine);
    const want = reference(s, mine, undefined, [...s.peerIds()]);
    t.deepEqual(got && { id: hex(got.id), overlap: got.overlap }, want);
  }
});

test('selectCandidate prefers the candidate with the fewest shared neighbours', (t) => {
  const s = store(32);
  s.setNeighbours(pid(0), [pid(1), pid(2), pid(3)]); // me
  s.setNeighbours(pid(10), [pid(1), pid(2)]);
  s.setNeighbours(pid(11), [pid(1)]);
  s.setNeighbours(pid(12), [pid(20)]);
  s.setNeighbours(pid(1), [pid(13)]);
  const mine = [pid(1), pid(2), pid(3)];
  const cands = [10, 11, 12, 13].map((n) => pid(n));
  const got = s.selectCandidate(mine, { self: pid(0), candidates: cands });
  t.is(hex(got!.id), hex(pid(12)));
  t.is(got!.overlap, 0);
  t.is(s.selectCandidate(mine, { candidates: [pid(1), pid(99)] }), undefined, 'mine and unknown ids are not candidates');
});

function randomStore(n: number, seed: number): PeerStore {
  const s = new PeerStore({ maxPeers: n, clock: new ManualClock(0), seed });
  let x = seed || 1;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  for (let i = 0; i < n; i++) {
    const set = new Set<number>();
    while (set.size < 5) {
      const j = next();
      if (j !== i) set.add(j);
    }
    s.setNeighbours(pid(i), [...set].map((j) => pid(j)));
    if (i % 7 === 0) s.pin(pid(i));
  }
  return s;
}

test('snapshot round trip keeps ids, lists, times and pins; save and load through a file', async (t) => {
  const s = randomStore(200, 3);
  const bytes = s.snapshot();
  const r = PeerStore.restore(bytes, { maxPeers: 200, clock: new ManualClock(0), seed: 9 });
  t.is(r.size, s.size);
  for (const id of s.peerIds()) {
    t.deepEqual(hexes(r.neighbours(id)), hexes(s.neighbours(id)));
    t.is(r.lastConfirmed(id), s.lastConfirmed(id));
    t.is(r.isPinned(id), s.isPinned(id));
  }
  t.deepEqual(r.snapshot(), bytes, 'a restored store snapshots to the same bytes');

  const dir = await mkdtemp(join(tmpdir(), 'edge-overlay-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'peers.bin');
  t.is(await PeerStore.loadSnapshot(path, { maxPeers: 200, clock: new ManualClock(0) }), undefined);
  await s.saveSnapshot(path);
  t.is((await stat(path)).mode & 0o777, 0o600);
  const loaded = await PeerStore.loadSnapshot(path, { maxPeers: 200, clock: new ManualClock(0) });
  t.deepEqual(loaded!.snapshot(), bytes);
  await writeFile(path, new Uint8Array(snapshotBytes(400, 12) + 1));
  await t.throwsAsync(PeerStore.loadSnapshot(path, { maxPeers: 200, clock: new ManualClock(0) }), { instanceOf: PeerStoreError, code: 'SNAPSHOT_TOO_LARGE' });
});

test('restoring into a smaller store keeps pinned, then most recently confirmed peers', (t) => {
  const clock = new ManualClock(0);
  const s = store(10, clock);
  for (let i = 0; i < 10; i++) {
    clock.advance(1000);
    s.setNeighbours(pid(i), [pid((i + 1) % 10)]);
  }
  s.pin(pid(0));
  const r = PeerStore.restore(s.snapshot(), { maxPeers: 4, clock, seed: 1 });
  t.deepEqual(hexes([...r.peerIds()]), hexes([0, 7, 8, 9].map((n) => pid(n))));
  t.deepEqual(hexes(r.neighbours(pid(8))), hexes([pid(9)]));
  t.deepEqual(hexes(r.neighbours(pid(9))), hexes([pid(0)]));
  t.deepEqual(r.neighbours(pid(0)), [], 'edges to dropped peers are dropped');
});

test('truncated or corrupt snapshots are BAD_SNAPSHOT, never a half-built store', (t) => {
  const bytes = randomStore(30, 5).snapshot();
  const opts = { maxPeers: 30, clock: new ManualClock(0) };
  const bad = { instanceOf: PeerStoreError, code: 'BAD_SNAPSHOT' } as const;
  for (const len of [0, 5, 15, 16, bytes.length - 1]) t.throws(() => PeerStore.restore(bytes.subarray(0, len), opts), bad);
  fc.assert(
    fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (at, x) => {
      const c = bytes.slice();
      c[at] = c[at]! ^ x;
      try {
        PeerStore.restore(c, opts);
        return false;
      } catch (err) {
        return err instanceof PeerStoreError && err.code === 'BAD_SNAPSHOT';
      }
    }),
    { numRuns: 200 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (junk) => {
      try {
        PeerStore.restore(junk, opts);
        return false;
      } catch (err) {
        return err instanceof PeerStoreError && err.code === 'BAD_SNAPSHOT';
      }
    }),
  );
  t.pass();
});

test('snapshots with a valid checksum but inconsistent content are BAD_SNAPSHOT', (t) => {
  const s = store(8);
  s.setNeighbours(pid(0), [pid(1)]); // record 0 lists record 1
  const bytes = s.snapshot();
  const opts = { maxPeers: 8, clock: new ManualClock(0) };
  const sealed = (edit: (b: Uint8Array) => Uint8Array): Uint8Array => {
    const b = edit(bytes.slice(0, -4));
    const out = new Uint8Array(b.length + 4);
    out.set(b);
    new DataView(out.buffer).setUint32(b.length, crc32(b));
    return out;
  };
  const rec1 = 12 + 38 + 4; // record 0 has one neighbour
  const cases: Record<string, (b: Uint8Array) => Uint8Array> = {
    'neighbour index out of range': (b) => (new DataView(b.buffer).setUint32(12 + 38, 2), b),
    'lists itself': (b) => (new DataView(b.buffer).setUint32(12 + 38, 0), b),
    'unknown flags': (b) => ((b[12 + 36] = 2), b),
    'repeated id': (b) => (b.set(b.subarray(12, 44), rec1), b),
    'count too large': (b) => (new DataView(b.buffer).setUint32(8, 3), b),
    'count too small': (b) => (new DataView(b.buffer).setUint32(8, 1), b),
    'reserved byte': (b) => ((b[5] = 1), b),
    'version': (b) => ((b[4] = 2), b),
    'degree past the end': (b) => ((b[rec1 + 37] = 1), b),
  };
  t.notThrows(() => PeerStore.restore(sealed((b) => b), opts), 'the resealing itself is sound');
  for (const [name, edit] of Object.entries(cases)) {
    t.throws(() => PeerStore.restore(sealed((b) => edit(b)), opts), { instanceOf: PeerStoreError, code: 'BAD_SNAPSHOT' }, name);
  }
});
