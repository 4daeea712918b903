/**
 * Connected components of the peer map, edges taken as undirected: a
 * union-find over typed arrays indexed by slot (union by size, path halving),
 * so one recomputation is a single pass over the edges and cheap enough to
 * run every few seconds at 100k peers. The arrays live only for the result,
 * whose per-id answers hold until the store next adds or removes a peer.
 */
import { PeerStoreError } from './errors.js';
import { PeerStore } from './peer-store.js';

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
  const parent = new Int32Array(n);
  const size = new Uint32Array(n);
  for (let s = 0; s < n; s++) {
    parent[s] = s;
    size[s] = 1;
  }
  const find = (x: number): number => {
    while (parent[x] !== x) {
      const p = parent[x]!;
      parent[x] = parent[p]!; // path halving
      x = parent[x]!;
    }
    return x;
  };
  store.forEachEdge((a, b) => {
    let ra = find(a);
    let rb = find(b);
    if (ra === rb) return;
    if (size[ra]! < size[rb]!) [ra, rb] = [rb, ra];
    parent[rb] = ra;
    size[ra]! += size[rb]!;
  });
  let peers = 0;
  let count = 0;
  let largest = 0;
  for (let s = 0; s < n; s++) {
    if (!store.isSlotUsed(s)) continue;
    peers++;
    if (find(s) === s) {
      count++;
      if (size[s]! > largest) largest = size[s]!;
    }
  }
  // Ids are looked up at query time: ask before the store next adds or removes a peer.
  const rootOf = (id: Uint8Array): number => {
    const s = store.slotOf(id);
    return s >= 0 && s < n ? find(s) : -1;
  };
  return {
    peers,
    count,
    largest,
    componentSize(id) {
      const r = rootOf(id);
      return r < 0 ? 0 : size[r]!;
    },
    connected(a, b) {
      const ra = rootOf(a);
      return ra >= 0 && ra === rootOf(b);
    },
  };
}
