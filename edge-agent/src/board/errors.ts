/** Every failure to load board profiles or to pick one is a BoardError with one of these codes. */
export type BoardErrorCode =
  | 'BAD_ARGUMENT' // a caller passed something of the wrong type (a bug, not a bad file)
  | 'UNREADABLE' // the profile folder, a profile or the device-tree model cannot be read
  | 'NO_PROFILES' // the profile folder holds no profiles at all
  | 'INVALID_PROFILE' // a profile is not valid JSON, breaks the schema, or repeats another's id or match
  | 'UNKNOWN_BOARD' // the config names a board no profile has
  | 'NO_MATCH'; // neither the device-tree model nor the architecture picks a profile

export class BoardError extends Error {
  override readonly name = 'BoardError';
  constructor(
    readonly code: BoardErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
