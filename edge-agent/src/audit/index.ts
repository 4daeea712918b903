export { AuditTrail, type AuditTrailOptions } from './trail.js';
export { verifyAuditDir } from './verify.js';
export type { AuditReport } from './chain.js';
export type { AuditEntry } from './entry.js';
export type { Checkpoint } from './checkpoint.js';
export { MAX_ENTRY_BYTES, KIND_PATTERN } from './entry.js';
export { AuditError, type AuditErrorCode, type AuditFault } from './errors.js';
