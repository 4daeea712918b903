/**
 * Failures of the commands room that are the caller's fault or the machine's, never
 * the sender's: a command that fails verification is a Verdict with a reason, not an error.
 */
export type CommandErrorCode =
  /** A caller passed something of the wrong type, shape or range. */
  | 'BAD_ARGUMENT'
  /** An operator key or secret key is malformed: wrong length, or not a valid point or scalar. */
  | 'BAD_KEY'
  /** The replay file exists but cannot be trusted: truncated, damaged, or not a replay file. */
  | 'CORRUPT_REPLAY_FILE'
  /** The operating system refused to read, write or rename the replay file. */
  | 'IO'
  /** The replay guard was closed. */
  | 'CLOSED';

export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    readonly code: CommandErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
