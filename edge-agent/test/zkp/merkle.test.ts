import test from 'ava';
import fc from 'fast-check';
import { emptyRoot, FIELD_ORDER, MerkleTree, poseidon2, rootFromPath, ZkpError } from '../../src/zkp/index.js';

const leafArb = fc.bigInt({ min: 1n, max: FIELD_ORDER - 1n });
const treeArb = fc
  .integer({ min: 1, max: 4 })
  .chain((depth) => fc.tuple(fc.constant(depth), fc.uniqueArray(leafArb, { minLength: 1, maxLength: 2 ** depth })));

test('a depth-2 tree is the hashes written out by hand', (t) => {
  const [a, b, c] = [11n, 22n, 33n];
  const tree = MerkleTree.fromLeaves(2, [a, b, c]);
  t.is(tree.root, poseidon2(poseidon2(a, b), poseidon2(c, 0n)));
  t.deepEqual(tree.path(2), { pathBits: [0, 1], siblings: [0n, poseidon2(a, b)] });
  t.is(new MerkleTree(3).root, emptyRoot(3));
});

test('built at once or leaf by leaf, the root is the same, and every path leads to it', (t) => {
  fc.assert(
    fc.property(treeArb, ([depth, leaves]) => {
      const whole = MerkleTree.fromLeaves(depth, leaves);
      const grown = new MerkleTree(depth);
      for (const l of leaves) grown.append(l);
      if (whole.root !== grown.root) return false;
      return leaves.every((l, i) => whole.indexOf(l) === i && rootFromPath(l, whole.path(i)) === whole.root);
    }),
    { numRuns: 25, seed: 0x3e4c1e },
  );
  t.pass();
});

test('replacing or removing a leaf gives the root of the tree built with the change', (t) => {
  fc.assert(
    fc.property(treeArb, fc.nat(), leafArb, ([depth, leaves], at, fresh) => {
      fc.pre(!leaves.includes(fresh));
      const i = at % leaves.length;
      const tree = MerkleTree.fromLeaves(depth, leaves);
      tree.set(i, fresh);
      const changed = [...leaves];
      changed[i] = fresh;
      if (tree.root !== MerkleTree.fromLeaves(depth, changed).root || tree.indexOf(leaves[i]!) !== undefined) return false;
      tree.set(i, 0n); // a board leaves: its slot is empty, its path is gone
      changed[i] = 0n;
      return tree.root === MerkleTree.fromLeaves(depth, changed).root && tree.indexOf(fresh) === undefined;
    }),
    { numRuns: 20, seed: 0x5e7 },
  );
  t.pass();
});

test('a path does not lead to the root from another leaf, or with a flipped bit', (t) => {
  const tree = MerkleTree.fromLeaves(3, [1n, 2n, 3n, 4n, 5n]);
  const p = tree.path(4);
  t.not(rootFromPath(6n, p), tree.root);
  t.not(rootFromPath(5n, { ...p, pathBits: p.pathBits.map((b, i) => (i === 0 ? ((1 - b) as 0 | 1) : b)) }), tree.root);
});

test('misuse is refused with typed errors', (t) => {
  const code = (f: () => unknown) => t.throws(f, { instanceOf: ZkpError })!.code;
  t.is(code(() => new MerkleTree(0)), 'ARGUMENT');
  t.is(code(() => new MerkleTree(33)), 'ARGUMENT');
  t.is(code(() => MerkleTree.fromLeaves(1, [1n, 2n, 3n])), 'TREE_FULL');
  t.is(code(() => MerkleTree.fromLeaves(2, [1n, 2n, 1n])), 'ARGUMENT');
  t.is(code(() => MerkleTree.fromLeaves(2, [FIELD_ORDER])), 'NOT_IN_FIELD');
  const full = MerkleTree.fromLeaves(1, [1n, 2n]);
  t.is(code(() => full.append(3n)), 'TREE_FULL');
  t.is(code(() => full.path(2)), 'ARGUMENT');
  t.is(code(() => full.set(5, 3n)), 'ARGUMENT');
  const holes = MerkleTree.fromLeaves(2, [1n, 0n]);
  t.is(code(() => holes.path(1)), 'NOT_A_MEMBER');
  t.is(code(() => rootFromPath(1n, { pathBits: [2 as 0], siblings: [0n] })), 'ARGUMENT');
  t.is(code(() => rootFromPath(1n, { pathBits: [0, 1], siblings: [0n] })), 'ARGUMENT');
});
