/**
 * Connected components of the peer map, edges taken as undirected: a
 * union-find over slots (union-find.ts), so one recomputation is a single pass over the edges and cheap enough to
 * run every few seconds at 100k peers. The arrays live only for the result,
 * whose per-id answers hold until the store next adds or removes a peer.
 */
import { PeerStoreError } from './errors.js';
import { PeerStore } from './peer-store.js';
import { UnionFind } from './union-find.js';

export interface Components {
  /** Peers counted. */
  readonly peers: number;
  /** Number of components (an isolated peer is one). */
  readonly count: number;
  /** Peers in the largest component. */
  readonly largest: number;
  /** Size of the component holding `id`, or 0 if the store did not hold it. */
  componentSize(id: Uint8Array): number;
  /** Whether both ids were held and in one component. */
  connected(a: Uint8Array, b: Uint8Array): boolean;
}

export function findComponents(store: PeerStore): Components {
  if (!(store instanceof PeerStore)) throw new PeerStoreError('BAD_ARGUMENT', 'findComponents: expected a PeerStore');
  const n = store.slotLimit;
  const sets = new UnionFind(n);
  store.forEachEdge((a, b) => void sets.union(a, b));
  let peers = 0;
  let count = 0;
  let largest = 0;
  for (let s = 0; s < n; s++) {
    if (!store.isSlotUsed(s)) continue;
    peers++;
    if (sets.find(s) === s) {
      count++;
      if (sets.sizeOfRoot(s) > largest) largest = sets.sizeOfRoot(s);
    }
  }
  // Ids are looked up at query time: ask before the store next adds or removes a peer.
  const rootOf = (id: Uint8Array): number => {
    const s = store.slotOf(id);
    return s >= 0 && s < n ? sets.find(s) : -1;
  };
  return {
    peers,
    count,
    largest,
    componentSize(id) {
      const r = rootOf(id);
      return r < 0 ? 0 : sets.sizeOfRoot(r);
    },
    connected(a, b) {
      const ra = rootOf(a);
      return ra >= 0 && ra === rootOf(b);
    },
  };
}
