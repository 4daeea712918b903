/**
 * pki: the fleet's X.509 PKI, signed by the committee's FROST-Ed25519 threshold key (MISSION §7).
 * Standard certificates and CRLs for standard clients; MPC details in non-critical extensions;
 * the CA's registry as a replicated state machine; enrollment = CSR + zk proof of key possession.
 * docs/pki.md describes the design.
 */
export { PkiError, type PkiErrorCode } from './errors.js';
export * from './oids.js';
export { toPem, fromPem, serialBytes, serialFromBytes } from './der.js';
export {
  mpcExtensions,
  readMpcExtensions,
  MpcThreshold,
  MpcParticipants,
  MpcSigningTime,
  MpcSupportedProofs,
  MAX_PARTICIPANTS,
  type MpcInfo,
  type SupportedProof,
} from './mpc-extensions.js';
export { subjectKeyFromRaw, subjectKeyFromKeyObject, subjectKeyFromSpki, spkiOf, spkiDer, publicKeyObject, keyIdentifier, sameKey, type SubjectKey } from './keys.js';
export { toName, nameToStrings, commonNameOf, type DistinguishedName } from './name.js';
export { PEER_URI_PREFIX, FLEET_DNS_SUFFIX, peerUri, peerDnsName } from './extensions.js';
export { localEd25519Signer, signChecked, verifyEd25519, type Signer } from './signer.js';
export { thresholdSigner, type ThresholdSignerOptions } from './threshold-signer.js';
export {
  buildCaTbs,
  buildLeafTbs,
  assembleCertificate,
  issueCaCertificate,
  issueCertificate,
  parseCertificate,
  type CaTbsOptions,
  type LeafTbsOptions,
  type IssuedDocument,
  type ParsedCertificate,
} from './certificate.js';
export { parseCsr, createCsr, MAX_CSR_BYTES, type ParsedCsr, type RequestedNames, type CreateCsrOptions } from './csr.js';
export { buildCrlTbs, assembleCrl, issueCrl, isRevocationReason, REVOCATION_REASONS, type RevocationReason, type RevokedEntry, type CrlTbsOptions } from './crl.js';
export {
  encodeCaOp,
  parseCaOp,
  encodeCaResult,
  decodeCaResult,
  CA_REJECTIONS,
  MAX_REQUEST_ID_BYTES,
  MAX_CERTIFICATE_BYTES,
  MAX_TIME_MS,
  type CaOp,
  type CaResult,
  type CaRejection,
  type CrlEntryTuple,
} from './ca-ops.js';
export { CaStateMachine, type CaStateOptions, type InventoryPredicate } from './ca-state.js';
export {
  ENROLL_CHALLENGE_DOMAIN,
  enrollmentChallenge,
  enrollmentProofInput,
  encodeEnrollmentRequest,
  decodeEnrollmentRequest,
  checkEnrollment,
  checkSigningRequest,
  checkProposedTime,
  enrollOp,
  type ProofChecker,
  type EnrollmentRequest,
  type EnrollmentCheck,
  type CheckedEnrollment,
} from './enroll.js';
