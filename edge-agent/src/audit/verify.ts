import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LogError, scanLog } from '../store/index.js';
import { type AuditReport, ChainVerifier } from './chain.js';
import { HEAD_FILE, LOG_FILE, readCheckpoint } from './checkpoint.js';
import { MAX_ENTRY_BYTES } from './entry.js';
import { AuditError } from './errors.js';

/**
 * Verifies the audit trail in `dir` without changing anything (a torn tail a crash
 * left is skipped, as the next open will cut it): every entry's hash, seq and link,
 * then the end of the chain against the head checkpoint. Faults are reported, not
 * thrown; AuditError means there is no trail there or it could not be read.
 */
export async function verifyAuditDir(dir: string): Promise<AuditReport> {
  if (typeof dir !== 'string' || dir === '') throw new AuditError('BAD_ARGUMENT', 'verifyAuditDir: dir must be a non-empty string');
  const abs = resolve(dir);
  const logPath = join(abs, LOG_FILE);
  const isDir = await stat(abs).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) throw new AuditError('NOT_FOUND', `no audit trail in ${abs}: not a directory`);
  // The checkpoint before the log: a writer at work only ever moves it behind the log's end.
  const checkpoint = await readCheckpoint(abs);
  const verifier = new ChainVerifier(checkpoint ?? `${HEAD_FILE} is missing`);
  try {
    await scanLog(logPath, (record) => verifier.add(record), { maxRecordBytes: MAX_ENTRY_BYTES });
  } catch (err) {
    if (!(err instanceof LogError)) throw err;
    switch (err.code) {
      case 'NOT_FOUND':
        // No log is fine for a trail never written to; a checkpoint that vouches for entries says otherwise.
        if (checkpoint === null) throw new AuditError('NOT_FOUND', `no audit trail in ${abs}: neither ${LOG_FILE} nor ${HEAD_FILE}`, { cause: err });
        return verifier.report();
      case 'CORRUPT':
      case 'TOO_LARGE':
      case 'BAD_MAGIC':
      case 'VERSION':
        return verifier.report({ index: err.index ?? 0, message: err.message });
      default:
        throw new AuditError('IO', `audit trail ${abs}: ${err.message}`, { cause: err });
    }
  }
  return verifier.report();
}

