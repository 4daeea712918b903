/**
 * The circuits' inputs, built from a board's secret, a challenge and (for membership) the
 * fleet tree; and the public signals a verifier expects, in snarkjs's order (outputs first).
 */
import { ZkpError } from './errors.js';
import { assertField } from './field.js';
import { MerkleTree, type MerklePath } from './merkle.js';
import { poseidon1, poseidon2 } from './poseidon.js';

/** Signal name to value(s), as a witness calculator takes them. */
export type CircuitInput = Readonly<Record<string, bigint | readonly bigint[]>>;

/** A board's public commitment to its secret: Poseidon(secret), its Merkle leaf. */
export function commitmentOf(secret: bigint): bigint {
  return poseidon1(assertField(secret, 'secret'));
}

/** The response (key possession) or nullifier (membership) a proof for this challenge must output. */
export function responseOf(secret: bigint, challenge: bigint): bigint {
  return poseidon2(assertField(secret, 'secret'), assertField(challenge, 'challenge'));
}

export function keyPossessionInput(secret: bigint, challenge: bigint): CircuitInput {
  return { secret: assertField(secret, 'secret'), commitment: commitmentOf(secret), challenge: assertField(challenge, 'challenge') };
}

/** [response, commitment, challenge]: what a key-possession proof's public signals must be. */
export function keyPossessionSignals(commitment: bigint, challenge: bigint, response: bigint): bigint[] {
  return [assertField(response, 'response'), assertField(commitment, 'commitment'), assertField(challenge, 'challenge')];
}

/** The witness input for membership of the board holding secret, whose leaf is in tree. */
export function membershipInput(secret: bigint, challenge: bigint, tree: MerkleTree): CircuitInput {
  if (!(tree instanceof MerkleTree)) throw new ZkpError('ARGUMENT', 'tree must be a MerkleTree');
  const index = tree.indexOf(commitmentOf(secret));
  if (index === undefined) throw new ZkpError('NOT_A_MEMBER', 'this secret\'s commitment is not in the tree');
  return membershipInputFromPath(secret, challenge, tree.root, tree.path(index));
}

/** The same from a root and a path (a board that holds only its own path, not the tree). */
export function membershipInputFromPath(secret: bigint, challenge: bigint, root: bigint, path: MerklePath): CircuitInput {
  if (!path || !Array.isArray(path.pathBits) || !Array.isArray(path.siblings)) throw new ZkpError('ARGUMENT', 'path must have pathBits and siblings');
  return {
    secret: assertField(secret, 'secret'),
    root: assertField(root, 'root'),
    challenge: assertField(challenge, 'challenge'),
    pathBits: path.pathBits.map((b) => BigInt(b)),
    siblings: path.siblings.map((s, i) => assertField(s, `sibling ${i}`)),
  };
}

/** [nullifier, root, challenge]: what a membership proof's public signals must be. */
export function membershipSignals(root: bigint, challenge: bigint, nullifier: bigint): bigint[] {
  return [assertField(nullifier, 'nullifier'), assertField(root, 'root'), assertField(challenge, 'challenge')];
}
