/** Every failure in the zkp room is a ZkpError with one of these codes. */
export type ZkpErrorCode =
  | 'ARGUMENT' // the calling code passed something that is not valid (a type, a length, an option)
  | 'NOT_IN_FIELD' // a value that must be a BN254 scalar (0 <= x < r) is not one
  | 'TREE_FULL' // the Merkle tree has no room for another leaf at its depth
  | 'NOT_A_MEMBER' // the leaf is not in the tree, or a path does not lead to the root
  | 'ARTIFACT' // a circuit build output (wasm, zkey, verification key, manifest) is missing or invalid
  | 'WITNESS' // the input does not satisfy the circuit: no witness exists for it
  | 'PROVE' // the proving backend failed on a valid witness
  | 'VKEY' // a verification key that is not a Groth16 BN254 key of the expected shape
  | 'MALFORMED' // encoded proof bytes that are not a proof: CBOR, shape or lengths
  | 'BAD_POINT' // a curve point that is not canonical, not on the curve or not in the subgroup
  | 'CLOSED' // the prover, verifier or challenge book was closed
  // Challenge-response (challenger.ts): why an answer to a challenge was refused.
  | 'REPLAY' // the challenge was already answered, or this nullifier / response was already accepted
  | 'STALE' // the challenge expired before the answer came
  | 'WRONG_CHALLENGE' // not a challenge we issued on this channel, or the proof is for another challenge
  | 'WRONG_ROOT' // a membership proof for a root that is not (or no longer) one of ours
  | 'WRONG_COMMITMENT' // a key-possession proof for another commitment than the one expected
  | 'BAD_PROOF' // well-formed and for the right statement, but the pairing check fails
  | 'BUSY' // too many challenges outstanding, or proofs queued
  | 'REMOTE'; // the peer could not be asked, or answered with an error instead of a proof

export class ZkpError extends Error {
  override readonly name = 'ZkpError';
  constructor(
    readonly code: ZkpErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
