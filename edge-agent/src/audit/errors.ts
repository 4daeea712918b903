/** Ways a stored trail can fail verification; each names the first bad seq. */
export type AuditFault =
  /** An entry's content does not match its own hash. */
  | 'EDITED'
  /** A seq is missing and does not appear later. */
  | 'REMOVED'
  /** A seq is out of place but appears later. */
  | 'REORDERED'
  /** A seq appears twice. */
  | 'INSERTED'
  /** An entry's prev is not the hash of the entry before it: one was removed before it, or it was rewritten. */
  | 'UNLINKED'
  /** A record that is not a well-formed, canonically encoded entry. */
  | 'MALFORMED'
  /** The log itself is damaged (a record fails its checksum with data after it). */
  | 'CORRUPT'
  /** The chain ends before the head checkpoint: entries were cut from its end. */
  | 'TRUNCATED'
  /** The chain holds a different entry at the checkpointed seq: it was rewritten up to there. */
  | 'FORKED'
  /** The head checkpoint is missing or unreadable, so the end of the chain cannot be vouched for. */
  | 'CHECKPOINT';

export type AuditErrorCode =
  | AuditFault
  /** A caller passed something of the wrong type or shape. */
  | 'BAD_ARGUMENT'
  /** An entry would encode to more than MAX_ENTRY_BYTES. */
  | 'TOO_LARGE'
  /** The trail is already open in this process. */
  | 'LOCKED'
  /** The trail was closed. */
  | 'CLOSED'
  /** An earlier write failed; reopen the trail to recover. */
  | 'FAILED'
  /** There is no audit trail in that directory. */
  | 'NOT_FOUND'
  /** The operating system refused a read or a write. */
  | 'IO';

export class AuditError extends Error {
  override readonly name = 'AuditError';
  /** The first bad seq, for verification faults; else null. */
  readonly seq: number | null;

  constructor(
    readonly code: AuditErrorCode,
    message: string,
    details: { readonly seq?: number; readonly cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.seq = details.seq ?? null;
  }
}
