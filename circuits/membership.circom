pragma circom 2.0.0;

// Proof of fleet membership, bound to a fresh challenge.
// Private: secret, pathBits[depth], siblings[depth]. Public: root, challenge.
// Output (public): nullifier = Poseidon(secret, challenge).
// Proves that the leaf Poseidon(secret) lies in the fleet's Poseidon Merkle tree of
// the given root, without telling which leaf. Node hash: Poseidon(left, right).
// pathBits[i] = 1 when the running node is the right child at level i (leaf level 0),
// i.e. the bits of the leaf index, least significant first.
// Public signals, in snarkjs order: [nullifier, root, challenge].

include "circomlib/circuits/poseidon.circom";

template MerkleLevel() {
    signal input node;
    signal input sibling;
    signal input bit;
    signal output parent;

    // A path bit that is not 0 or 1 would let a prover mix node and sibling.
    bit * (bit - 1) === 0;

    // bit = 0: (node, sibling); bit = 1: (sibling, node). One multiplication serves both.
    signal swap;
    swap <== bit * (sibling - node);

    component h = Poseidon(2);
    h.inputs[0] <== node + swap;
    h.inputs[1] <== sibling - swap;
    parent <== h.out;
}

template Membership(depth) {
    signal input secret;
    signal input root;
    signal input challenge;
    signal input pathBits[depth];
    signal input siblings[depth];
    signal output nullifier;

    component leaf = Poseidon(1);
    leaf.inputs[0] <== secret;

    component levels[depth];
    signal nodes[depth + 1];
    nodes[0] <== leaf.out;
    for (var i = 0; i < depth; i++) {
        levels[i] = MerkleLevel();
        levels[i].node <== nodes[i];
        levels[i].sibling <== siblings[i];
        levels[i].bit <== pathBits[i];
        nodes[i + 1] <== levels[i].parent;
    }
    nodes[depth] === root;

    component bind = Poseidon(2);
    bind.inputs[0] <== secret;
    bind.inputs[1] <== challenge;
    nullifier <== bind.out;
}
