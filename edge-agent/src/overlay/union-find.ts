/**
 * Disjoint sets over slots 0..n-1 in typed arrays (union by size, path
 * halving): the one union-find behind both component counts, the PeerStore's
 * (findComponents) and the PeerGraph's (components). Internal.
 */
export class UnionFind {
  readonly #parent: Int32Array;
  readonly #size: Uint32Array;

  constructor(n: number) {
    this.#parent = new Int32Array(n);
    this.#size = new Uint32Array(n).fill(1);
    for (let s = 0; s < n; s++) this.#parent[s] = s;
  }

  find(x: number): number {
    const parent = this.#parent;
    while (parent[x] !== x) {
      const grandparent = parent[parent[x]!]!;
      parent[x] = grandparent;
      x = grandparent;
    }
    return x;
  }

  /** Joins the sets of a and b; false when they were already one. */
  union(a: number, b: number): boolean {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return false;
    if (this.#size[ra]! < this.#size[rb]!) [ra, rb] = [rb, ra];
    this.#parent[rb] = ra;
    this.#size[ra]! += this.#size[rb]!;
    return true;
  }

  /** Members of the set whose root is `root` (meaningful for roots only). */
  sizeOfRoot(root: number): number {
    return this.#size[root]!;
  }
}
