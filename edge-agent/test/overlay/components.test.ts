import test from 'ava';
import fc from 'fast-check';
import { ManualClock } from '../../src/clock/index.js';
import { findComponents } from '../../src/overlay/components.js';
import { PeerStoreError } from '../../src/overlay/errors.js';
import { PeerStore } from '../../src/overlay/peer-store.js';

function pid(n: number): Uint8Array {
  const id = new Uint8Array(32);
  new DataView(id.buffer).setUint32(0, Math.imul(n + 1, 0x9e3779b1) >>> 0);
  new DataView(id.buffer).setUint32(28, n);
  return id;
}

test('components of a small map: two groups and an isolated peer', (t) => {
  const s = new PeerStore({ maxPeers: 16, clock: new ManualClock(0), seed: 1 });
  s.setNeighbours(pid(0), [pid(1)]);
  s.setNeighbours(pid(2), [pid(1)]);
  s.setNeighbours(pid(3), [pid(4)]);
  s.upsertPeer(pid(5));
  const c = findComponents(s);
  t.is(c.peers, 6);
  t.is(c.count, 3);
  t.is(c.largest, 3);
  t.true(c.connected(pid(0), pid(2)), 'edges count in both directions');
  t.false(c.connected(pid(0), pid(3)));
  t.is(c.componentSize(pid(4)), 2);
  t.is(c.componentSize(pid(5)), 1);
  t.is(c.componentSize(pid(9)), 0);
  t.false(c.connected(pid(9), pid(9)));
  t.throws(() => findComponents({} as never), { instanceOf: PeerStoreError, code: 'BAD_ARGUMENT' });
});

test('components match a breadth-first reference on random maps, evictions included', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 3, max: 30 }),
      fc.array(fc.tuple(fc.nat(39), fc.uniqueArray(fc.nat(39), { maxLength: 3 })), { maxLength: 50 }),
      (maxPeers, edges) => {
        const s = new PeerStore({ maxPeers, maxDegree: 3, clock: new ManualClock(0), seed: 3 });
        for (const [a, list] of edges) {
          try {
            s.setNeighbours(pid(a), list.filter((b) => b !== a).map((b) => pid(b)));
          } catch (err) {
            if (!(err instanceof PeerStoreError && err.code === 'FULL')) throw err;
          }
        }
        const ids = [...s.peerIds()];
        const key = (id: Uint8Array) => Buffer.from(id).toString('hex');
        const adj = new Map<string, Set<string>>(ids.map((id) => [key(id), new Set<string>()]));
        for (const id of ids) {
          for (const n of s.neighbours(id)!) {
            adj.get(key(id))!.add(key(n));
            adj.get(key(n))!.add(key(id));
          }
        }
        const comp = new Map<string, number>();
        const sizes: number[] = [];
        for (const start of adj.keys()) {
          if (comp.has(start)) continue;
          const queue = [start];
          comp.set(start, sizes.length);
          for (let i = 0; i < queue.length; i++) {
            for (const n of adj.get(queue[i]!)!) if (!comp.has(n)) (comp.set(n, sizes.length), queue.push(n));
          }
          sizes.push(queue.length);
        }
        const c = findComponents(s);
        if (c.peers !== ids.length || c.count !== sizes.length || c.largest !== Math.max(0, ...sizes)) return false;
        return ids.every((a) => c.componentSize(a) === sizes[comp.get(key(a))!] && ids.every((b) => c.connected(a, b) === (comp.get(key(a)) === comp.get(key(b)))));
      },
    ),
    { numRuns: 200 },
  );
  t.pass();
});
