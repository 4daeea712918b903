/**
 * The fleet's Poseidon Merkle tree of board commitments, as membership.circom checks it:
 * a fixed depth, leaves Poseidon(secret) at indices 0..2^depth - 1, empty leaves 0,
 * node = Poseidon(left, right). A path is the leaf index's bits (least significant first,
 * 1 = the running node is the right child) and the sibling at each level.
 *
 * Kept as one array per level, so an update rehashes depth nodes and a path is depth reads;
 * empty subtrees are never stored (their hashes are precomputed per level).
 */
import { ZkpError } from './errors.js';
import { assertField } from './field.js';
import { poseidon2 } from './poseidon.js';

/** Deep enough for a million boards (docs/zkp.md); deeper trees cost constraints per level. */
export const MAX_DEPTH = 32;

export interface MerklePath {
  /** The leaf index's bits, least significant first: 1 when the node is a right child. */
  readonly pathBits: readonly (0 | 1)[];
  /** The sibling at each level, leaf level first. */
  readonly siblings: readonly bigint[];
}

function assertDepth(depth: unknown): number {
  if (typeof depth !== 'number' || !Number.isInteger(depth) || depth < 1 || depth > MAX_DEPTH) {
    throw new ZkpError('ARGUMENT', `Merkle depth must be an integer in [1, ${MAX_DEPTH}]`);
  }
  return depth;
}

const zeroCache: bigint[] = [0n];
/** The root of an empty subtree of height h (h = 0: an empty leaf). */
export function emptyRoot(h: number): bigint {
  while (zeroCache.length <= h) {
    const z = zeroCache[zeroCache.length - 1]!;
    zeroCache.push(poseidon2(z, z));
  }
  return zeroCache[h]!;
}

export class MerkleTree {
  readonly depth: number;
  readonly capacity: number;
  /** levels[0] are the leaves; levels[depth] holds the root once anything was set. */
  private readonly levels: bigint[][];
  private readonly index = new Map<bigint, number>();

  constructor(depth: number) {
    this.depth = assertDepth(depth);
    this.capacity = 2 ** depth;
    this.levels = Array.from({ length: depth + 1 }, () => []);
  }

  /** A tree holding these leaf commitments at indices 0..n-1. Duplicates are refused. */
  static fromLeaves(depth: number, leaves: readonly bigint[]): MerkleTree {
    const t = new MerkleTree(depth);
    if (!Array.isArray(leaves)) throw new ZkpError('ARGUMENT', 'leaves must be an array of field elements');
    if (leaves.length > t.capacity) throw new ZkpError('TREE_FULL', `${leaves.length} leaves do not fit depth ${depth}`);
    leaves.forEach((leaf, i) => t.claim(assertField(leaf, `leaf ${i}`), i));
    t.levels[0] = [...leaves];
    // Bottom-up, one pass per level: n hashes in all instead of n * depth.
    for (let l = 0; l < t.depth; l++) {
      const below = t.levels[l]!;
      const above: bigint[] = [];
      for (let i = 0; i < below.length; i += 2) above.push(poseidon2(below[i]!, below[i + 1] ?? emptyRoot(l)));
      t.levels[l + 1] = above;
    }
    return t;
  }

  /** How many leaves are stored (the next free index for append). */
  get size(): number {
    return this.levels[0]!.length;
  }

  get root(): bigint {
    return this.node(this.depth, 0);
  }

  leaf(index: number): bigint {
    this.assertIndex(index, this.size);
    return this.levels[0]![index]!;
  }

  /** The index of a commitment, or undefined. Empty leaves (0) are never members. */
  indexOf(leaf: bigint): number | undefined {
    return this.index.get(assertField(leaf, 'leaf'));
  }

  /** Adds a commitment at the next free index and returns the index. */
  append(leaf: bigint): number {
    if (this.size >= this.capacity) throw new ZkpError('TREE_FULL', `the tree of depth ${this.depth} is full`);
    const i = this.size;
    this.set(i, leaf);
    return i;
  }

  /** Replaces the leaf at index (0 removes a board: its slot becomes empty). */
  set(index: number, leaf: bigint): void {
    this.assertIndex(index, Math.min(this.size + 1, this.capacity));
    assertField(leaf, 'leaf');
    const old = this.levels[0]![index];
    if (old !== undefined && old !== 0n) this.index.delete(old);
    this.claim(leaf, index);
    this.levels[0]![index] = leaf;
    let i = index;
    for (let l = 0; l < this.depth; l++) {
      const left = i & ~1;
      const parent = poseidon2(this.node(l, left), this.node(l, left + 1));
      i >>= 1;
      const above = this.levels[l + 1]!;
      while (above.length < i) above.push(emptyRoot(l + 1));
      above[i] = parent;
    }
  }

  /** The path of the leaf at index, for the membership circuit's witness. */
  path(index: number): MerklePath {
    this.assertIndex(index, this.size);
    if (this.levels[0]![index] === 0n) throw new ZkpError('NOT_A_MEMBER', `leaf ${index} is empty`);
    const pathBits: (0 | 1)[] = [];
    const siblings: bigint[] = [];
    let i = index;
    for (let l = 0; l < this.depth; l++) {
      pathBits.push((i & 1) as 0 | 1);
      siblings.push(this.node(l, i ^ 1));
      i >>= 1;
    }
    return { pathBits, siblings };
  }

  private node(level: number, i: number): bigint {
    return this.levels[level]![i] ?? emptyRoot(level);
  }

  private claim(leaf: bigint, index: number): void {
    if (leaf === 0n) return;
    const had = this.index.get(leaf);
    if (had !== undefined && had !== index) throw new ZkpError('ARGUMENT', `leaf ${index} repeats leaf ${had}`);
    this.index.set(leaf, index);
  }

  private assertIndex(index: unknown, limit: number): asserts index is number {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= limit) {
      throw new ZkpError('ARGUMENT', `leaf index ${String(index)} is out of range [0, ${limit})`);
    }
  }
}

/** The root a leaf and its path lead to, as the circuit computes it. */
export function rootFromPath(leaf: bigint, path: MerklePath): bigint {
  assertField(leaf, 'leaf');
  if (!path || !Array.isArray(path.pathBits) || !Array.isArray(path.siblings) || path.pathBits.length !== path.siblings.length) {
    throw new ZkpError('ARGUMENT', 'a path needs as many bits as siblings');
  }
  assertDepth(path.pathBits.length);
  let node = leaf;
  path.pathBits.forEach((bit, l) => {
    if (bit !== 0 && bit !== 1) throw new ZkpError('ARGUMENT', `path bit ${l} is not 0 or 1`);
    const s = assertField(path.siblings[l], `sibling ${l}`);
    node = bit === 0 ? poseidon2(node, s) : poseidon2(s, node);
  });
  return node;
}
