import { open } from 'node:fs/promises';
import { ioError, LogError } from './errors.js';
import { maxRecordBytesOption } from './format.js';
import { type RecordFault, corruptError, isTorn, walkAll } from './scan.js';
import { fileSource } from './source.js';

export interface LogScan {
  /** Intact records visited. */
  readonly records: number;
  /** Offset just past the last intact record. */
  readonly bytes: number;
  /** The torn end of an unfinished append, left in place (the next writer cuts it), or null. */
  readonly tornTail: { readonly offset: number; readonly bytes: number; readonly fault: RecordFault } | null;
}

/**
 * Reads a log without changing it and without taking the writer's lock: hands each
 * intact record, in order, to `visit`. Throws LogError at corruption, after visiting
 * every record before it, so a caller can check everything that can be checked.
 */
export async function scanLog(
  path: string,
  visit: (payload: Uint8Array, index: number) => void | Promise<void>,
  opts: { maxRecordBytes?: number } = {},
): Promise<LogScan> {
  if (typeof path !== 'string' || path === '') throw new LogError('BAD_ARGUMENT', 'scanLog: path must be a non-empty string');
  if (typeof visit !== 'function') throw new LogError('BAD_ARGUMENT', 'scanLog: visit must be a function');
  if (typeof opts !== 'object' || opts === null) throw new LogError('BAD_ARGUMENT', 'scanLog: options must be an object');
  const maxRecordBytes = maxRecordBytesOption(opts.maxRecordBytes, 'scanLog');
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw ioError(path, 'opening', err);
  }
  try {
    const size = await handle.stat().then(
      (stat) => stat.size,
      (err: unknown) => {
        throw ioError(path, 'reading the size', err);
      },
    );
    const src = fileSource(handle, path, size);
    const { records, end, fault } = await walkAll(src, maxRecordBytes, (payload, index) => visit(payload.slice(), index));
    if (fault !== null && !(await isTorn(src, fault))) throw corruptError(src, fault, 'AppendLog.open with { repair: true } can cut it away');
    return { records, bytes: end, tornTail: fault === null ? null : { offset: end, bytes: size - end, fault: fault.kind } };
  } finally {
    await handle.close();
  }
}
