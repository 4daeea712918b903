pragma circom 2.0.0;

// Proof of key possession, bound to a fresh challenge.
// Private: secret. Public: commitment, challenge. Output (public): response.
// Proves Poseidon(secret) = commitment and gives response = Poseidon(secret, challenge).
// The response ties every proof to the verifier's challenge, so a proof cannot be
// replayed under another challenge (the reference design's hash was bound to nothing public).
// Public signals, in snarkjs order: [response, commitment, challenge].

include "circomlib/circuits/poseidon.circom";

template KeyPossession() {
    signal input secret;
    signal input commitment;
    signal input challenge;
    signal output response;

    component commit = Poseidon(1);
    commit.inputs[0] <== secret;
    commit.out === commitment;

    component bind = Poseidon(2);
    bind.inputs[0] <== secret;
    bind.inputs[1] <== challenge;
    response <== bind.out;
}

component main { public [commitment, challenge] } = KeyPossession();
