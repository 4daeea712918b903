/** A command line that does not parse: exit code 2, with the usage of the command. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A command that ran and failed for a reason the user can act on: exit code 1, one line. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
}
