/**
 * The dealing half of the threshold room: Feldman VSS, DKG with complaints, proactive
 * refresh and resharing as cores without I/O, and their deterministic simulator.
 * (Feldman's share check is exported as verifyFeldmanShare, apart from FROST's verifyShare;
 * member identifiers come from frost.ts's identifierOf.)
 */
export {
  ORDER,
  evalPolynomial,
  commitPolynomial,
  evalCommitment,
  verifyShare as verifyFeldmanShare,
  lagrangeAtZero,
  reconstruct,
  combineCommitments,
  randomPolynomial,
  scalarFromBytes,
  scalarToBytes,
  pointFromBytes,
  type EdPoint,
  type SharePoint,
} from './vss.js';
export { DealingSession, validateSessionConfig, type DealingOptions, type SessionConfig, type ConstantRule, type Qualified } from './dkg-session.js';
export { DkgMember, committee, type DkgConfig } from './dkg.js';
export { RefreshMember, type RefreshConfig } from './refresh.js';
export { ReshareMember, type ReshareConfig } from './reshare.js';
export { DealingCache } from './dkg-cache.js';
export { indexOfIdentifier, buildPublic, parsePublic, parseSecret, secretOf } from './dkg-public.js';
export {
  DROP_REASONS,
  type Participant,
  type DkgSigner,
  type DkgVerifier,
  type DropReason,
  type DisqualifyReason,
  type Disqualification,
  type EquivocationProof,
  type DkgAction,
  type DkgDone,
  type DkgAbort,
  type DkgStatus,
  type DkgStats,
} from './dkg-types.js';
export {
  simulate,
  simRandom,
  seededBytes,
  hmacSignatures,
  ed25519Signatures,
  foreignPackage,
  type Behaviour,
  type SimParty,
  type SimConfig,
  type SimResult,
  type SignatureScheme,
} from './dkg-sim.js';
export { scenario, runScenario, type Scenario, type Verdict, type RunOptions as ScenarioOptions } from './dkg-adversary.js';
export { judge, type Evidence } from './dkg-verdict.js';
