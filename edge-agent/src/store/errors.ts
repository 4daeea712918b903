/** Every failure of the append-only log is a LogError with one of these codes. */
export type LogErrorCode =
  /** A caller passed something of the wrong type or out of range. */
  | 'BAD_ARGUMENT'
  /** The file does not start with the log magic: it is not a log. */
  | 'BAD_MAGIC'
  /** A log format version this code does not read. */
  | 'VERSION'
  /** A damaged record with more data after it: corruption, not a torn write. */
  | 'CORRUPT'
  /** A record longer than maxRecordBytes, on disk or offered to append(). */
  | 'TOO_LARGE'
  /** The file is already open for writing in this process. */
  | 'LOCKED'
  /** The log was closed. */
  | 'CLOSED'
  /** An earlier write or fsync failed; the log must be reopened to recover. */
  | 'FAILED'
  /** The file (or its directory) does not exist. */
  | 'NOT_FOUND'
  /** The operating system refused a read, write, sync or truncate. */
  | 'IO';

export interface LogErrorDetails {
  /** Byte offset of the record at fault, when there is one. */
  readonly offset?: number;
  /** Index of the record at fault (the number of intact records before it). */
  readonly index?: number;
  readonly cause?: unknown;
}

export class LogError extends Error {
  override readonly name = 'LogError';
  readonly offset: number | null;
  readonly index: number | null;

  constructor(
    readonly code: LogErrorCode,
    message: string,
    details: LogErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.offset = details.offset ?? null;
    this.index = details.index ?? null;
  }
}

/** Wraps an operating-system error, keeping it as the cause. */
export function ioError(path: string, action: string, err: unknown): LogError {
  const code = (err as NodeJS.ErrnoException | null)?.code === 'ENOENT' ? 'NOT_FOUND' : 'IO';
  const reason = err instanceof Error ? err.message : String(err);
  return new LogError(code, `log ${path}: ${action} failed: ${reason}`, { cause: err });
}
