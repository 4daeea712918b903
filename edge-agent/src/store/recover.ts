import type { FileHandle } from 'node:fs/promises';
import { ioError } from './errors.js';
import { type RecordFault, corruptError, isTorn, walkAll } from './scan.js';
import { fileSource } from './source.js';

/** Bytes cut from the end of a log when it was opened. */
export interface DroppedTail {
  /** Where the cut was made: the start of the first record not kept. */
  readonly offset: number;
  readonly bytes: number;
  readonly fault: RecordFault;
  /** True for the torn end of an unfinished append; false for corruption cut by `repair`. */
  readonly torn: boolean;
}

export interface RecoveryReport {
  /** The file did not exist and was created empty. */
  readonly created: boolean;
  /** Intact records kept. */
  readonly records: number;
  /** File length after recovery. */
  readonly bytes: number;
  /** What was cut away, or null if the log ended cleanly. */
  readonly dropped: DroppedTail | null;
}

/**
 * Checks every record of an open log file and cuts a torn tail away (truncate, then
 * fsync, so that the cut is itself durable before anything is appended after it).
 * Corruption is refused unless `repair` asks to cut at its first byte.
 */
export async function recover(handle: FileHandle, name: string, size: number, repair: boolean, maxRecordBytes: number): Promise<Omit<RecoveryReport, 'created'>> {
  const src = fileSource(handle, name, size);
  const { records, end, fault } = await walkAll(src, maxRecordBytes);
  if (fault === null) return { records, bytes: end, dropped: null };
  const torn = await isTorn(src, fault);
  if (!torn && !repair) throw corruptError(src, fault, 'open with { repair: true } to cut the log there and lose what follows');
  try {
    await handle.truncate(end);
    await handle.sync();
  } catch (err) {
    throw ioError(name, `cutting the tail at byte ${end}`, err);
  }
  return { records, bytes: end, dropped: { offset: end, bytes: size - end, fault: fault.kind, torn } };
}
