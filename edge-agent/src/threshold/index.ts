/**
 * Public face of threshold/: the committee's keys (issue 8). FROST(Ed25519,
 * SHA-512) signing on @noble/curves (RFC 9591), the signing service over the
 * secure channels, and distributed key generation with complaints, refresh and
 * resharing as cores without I/O.
 */
export * from './signing-index.js';
export * from './dkg-index.js';
export { thresholdCommit, thresholdSign, withThresholdMessages, type ThresholdMessage } from './service-messages.js';
export { SignerService, coordinateSignature, type CoordinateOptions, type Roster, type SignerServiceOptions } from './signing-service.js';
export { runDkg, thresholdDkg, thresholdDkgConfirm, withDkgMessages, type AuditSink, type DealingRunOptions, type DkgOutcome, type DkgRunOptions } from './dkg-service.js';
export { ConfirmRound, confirmationDigest, type ConfirmState } from './dkg-confirm.js';
export { runRefresh, type RefreshRunOptions } from './refresh-service.js';
export { runReshare, type ReshareRunOptions } from './reshare-service.js';
export { loadCommitteeKey, saveCommitteeKey, type CommitteeKey } from './key-store.js';
export { PROPOSAL_LIMITS, committeeOrder, judgeProposal, makeProposal, proposalReason, proposalSigningBytes, thresholdDkgCancel, thresholdDkgPropose, withDkgProposalMessages, type DkgProposal, type DkgProposalFields, type DkgProposalMessage, type ProposalExpectations, type ProposalVerdict } from './dkg-proposal.js';
