import type { Checkpoint } from './checkpoint.js';
import { type AuditEntry, ZERO_HASH, decodeEntry, entryHash, hex, sameBytes } from './entry.js';
import type { AuditFault } from './errors.js';

export type AuditReport =
  | { readonly ok: true; readonly entries: number; readonly lastSeq: number; readonly headHash: Uint8Array }
  | { readonly ok: false; readonly firstBadSeq: number; readonly fault: AuditFault; readonly reason: string };

export type AuditBreak = Extract<AuditReport, { ok: false }>;

function broken(firstBadSeq: number, fault: AuditFault, reason: string): AuditBreak {
  return { ok: false, firstBadSeq, fault, reason: `${fault.toLowerCase()}: ${reason}` };
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The first entry that does not continue the chain, kept until what follows shows what happened. */
interface Suspect {
  readonly position: number;
  readonly entry: AuditEntry;
  /** Whether seq `position`, or the suspect's own seq, turns up again further on. */
  ownSeqLater: boolean;
  positionSeqLater: boolean;
}

/**
 * Checks stored entries one record at a time, in log order. Entries before the first
 * bad seq it reports are proven: each matches its hash, has seq equal to its position
 * and links to the one before. Since seq must equal position, the first bad seq is
 * the position where the chain stops; the records after it only help to tell a
 * removal from a reordering or an insertion.
 */
export class ChainVerifier {
  readonly #checkpoint: Checkpoint | string;
  #count = 0;
  #head: Uint8Array = ZERO_HASH;
  #hashAtCheckpoint: Uint8Array | null = null;
  #fault: AuditBreak | null = null;
  #suspect: Suspect | null = null;

  /** `checkpoint` is the head checkpoint, or why there is no usable one. */
  constructor(checkpoint: Checkpoint | string) {
    this.#checkpoint = checkpoint;
  }

  add(record: Uint8Array): void {
    if (this.#fault !== null) return;
    if (this.#suspect !== null) return this.#lookAhead(this.#suspect, record);
    const position = this.#count;
    let entry: AuditEntry;
    let expected: Uint8Array;
    try {
      entry = decodeEntry(record);
      expected = entryHash(entry);
    } catch (err) {
      this.#fault = broken(position, 'MALFORMED', `the record in the place of seq ${position} is not a well-formed entry (${message(err)})`);
      return;
    }
    if (!sameBytes(expected, entry.hash)) {
      this.#fault = broken(position, 'EDITED', `the entry in the place of seq ${position} (claiming seq ${entry.seq}) does not match its hash: its content was changed`);
    } else if (entry.seq !== position || !sameBytes(entry.prev, this.#head)) {
      this.#suspect = { position, entry, ownSeqLater: false, positionSeqLater: false };
    } else {
      this.#count += 1;
      this.#head = entry.hash;
      if (typeof this.#checkpoint !== 'string' && entry.seq === this.#checkpoint.seq) this.#hashAtCheckpoint = entry.hash;
    }
  }

  /**
   * The verdict once every record was added. `corrupt` names the record where the log
   * itself stopped being readable, if it did.
   */
  report(corrupt: { readonly index: number; readonly message: string } | null = null): AuditReport {
    if (this.#fault !== null) return this.#fault;
    if (this.#suspect !== null) return classify(this.#suspect);
    if (corrupt !== null) return broken(corrupt.index, 'CORRUPT', `the log is damaged at the record in the place of seq ${corrupt.index}: ${corrupt.message}`);
    const lastSeq = this.#count - 1;
    const checkpoint = this.#checkpoint;
    if (typeof checkpoint === 'string') {
      return broken(this.#count, 'CHECKPOINT', `${checkpoint}, so entries cut from the end after seq ${lastSeq} would go unseen`);
    }
    if (checkpoint.seq > lastSeq) {
      return broken(this.#count, 'TRUNCATED', `the chain ends at seq ${lastSeq} but the head checkpoint vouches for seq ${checkpoint.seq}: entries were cut from its end`);
    }
    if (checkpoint.seq >= 0 && !sameBytes(this.#hashAtCheckpoint!, checkpoint.hash)) {
      return broken(
        checkpoint.seq,
        'FORKED',
        `seq ${checkpoint.seq} hashes to ${hex(this.#hashAtCheckpoint!)} but the head checkpoint records ${hex(checkpoint.hash)}: the chain was rewritten at or before seq ${checkpoint.seq}`,
      );
    }
    return { ok: true, entries: this.#count, lastSeq, headHash: this.#head.slice() };
  }

  #lookAhead(suspect: Suspect, record: Uint8Array): void {
    let seq: number;
    try {
      seq = decodeEntry(record).seq;
    } catch {
      return; // a later malformed record says nothing about the suspect
    }
    if (seq === suspect.entry.seq) suspect.ownSeqLater = true;
    if (seq === suspect.position) suspect.positionSeqLater = true;
  }
}

function classify({ position: p, entry, ownSeqLater, positionSeqLater }: Suspect): AuditBreak {
  const seq = entry.seq;
  if (seq < p) return broken(p, 'INSERTED', `seq ${seq} appears again in the place of seq ${p}: an entry was inserted or replayed`);
  if (seq === p) {
    if (positionSeqLater) return broken(p, 'INSERTED', `seq ${p} appears twice: an entry was inserted`);
    const before = p === 0 ? 'the zero hash' : `the hash of seq ${p - 1}`;
    return broken(p, 'UNLINKED', `seq ${p} does not link to ${before}: an entry before it was removed, or it was rewritten`);
  }
  if (ownSeqLater) return broken(p, 'INSERTED', `seq ${seq} appears in the place of seq ${p} and again later: an entry was inserted`);
  if (positionSeqLater) return broken(p, 'REORDERED', `seq ${seq} stands in the place of seq ${p}, which comes later: entries were reordered`);
  const missing = seq - p > 1 ? `seqs ${p} to ${seq - 1} are` : `seq ${p} is`;
  return broken(p, 'REMOVED', `${missing} missing: the entry in that place is seq ${seq}`);
}
