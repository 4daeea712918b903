/**
 * zkp: zero-knowledge proofs of key possession and fleet membership (Groth16 over BN254,
 * circuits in circuits/). docs/zkp.md describes the design.
 */
export { ZkpError, type ZkpErrorCode } from './errors.js';
export { FIELD_ORDER, assertField, fieldFromBytes, fieldToBytes } from './field.js';
export { poseidonHash, poseidon1, poseidon2, poseidonParams, type PoseidonParams } from './poseidon.js';
export { MerkleTree, MAX_DEPTH, emptyRoot, rootFromPath, type MerklePath } from './merkle.js';
export {
  commitmentOf,
  responseOf,
  keyPossessionInput,
  keyPossessionSignals,
  membershipInput,
  membershipInputFromPath,
  membershipSignals,
  type CircuitInput,
} from './inputs.js';
export { DEFAULT_BUILD_DIR, circuitArtifacts, type CircuitArtifacts, type CircuitKind } from './artifacts.js';
export {
  fromSnarkjsProof,
  toSnarkjsProof,
  fromSnarkjsSignals,
  toSnarkjsSignals,
  type G1Affine,
  type G2Affine,
  type Fp2Pair,
  type Groth16Proof,
  type ProofResult,
  type SnarkjsProof,
} from './proof.js';
export {
  SnarkjsProver,
  WitnessProver,
  createProver,
  registerProverBackend,
  proverBackends,
  type Prover,
  type StagedProver,
  type ProverFactory,
} from './prover.js';
export {
  NativeProver,
  DEFAULT_TABLE_MB,
  nativeProverStatus,
  autoProverChoice,
  type Groth16Addon,
  type NativeKeyInfo,
  type NativeProverOptions,
  type NativeProverStatus,
} from './native-prover.js';
export { Verifier, verify, type VerificationKey } from './verifier.js';
export { compressG1, compressG2, decompressG1, decompressG2, G1_BYTES, G2_BYTES } from './points.js';
export { encodeProof, decodeProof, encodeProofResult, decodeProofResult, PROOF_CODEC_VERSION, MAX_SIGNALS } from './proof-codec.js';
export { zkSecretFromIdentity, zkCommitmentFromIdentity, ZK_SECRET_INFO } from './board-secret.js';
export { challengeFor, assertProofKind, CHALLENGE_DOMAIN, NONCE_BYTES, PROOF_KINDS, type ProofKind } from './challenge.js';
export { RootHistory, type RootHistoryOptions } from './roots.js';
export {
  ChallengeBook,
  type AcceptedProof,
  type ChallengeAnswer,
  type ChallengeBookOptions,
  type IssuedChallenge,
  type ProofCheck,
} from './challenger.js';
export { zkpProve, zkpCommitment, withZkpMessages, MAX_PROOF_BYTES, type ProveRequest, type ProveReply, type ZkpMessage } from './auth-messages.js';
export { registerProofResponder, type ProofResponder, type ResponderOptions } from './respond.js';
export { askProof, askCommitment, type AskOptions, type ProofVerdict } from './ask.js';
