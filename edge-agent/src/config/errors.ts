/** Every failure to read or validate the node config is a ConfigError with one of these codes. */
export type ConfigErrorCode =
  | 'BAD_ARGUMENT' // a caller passed something of the wrong type (a bug, not a bad file)
  | 'NOT_FOUND' // there is no file at the path
  | 'UNREADABLE' // the file exists but cannot be read, or is not a regular file
  | 'TOO_LARGE' // the file is larger than any sane config
  | 'BAD_JSON' // the bytes are not UTF-8 JSON
  | 'INVALID'; // valid JSON, but a field is missing, unknown or out of range

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly code: ConfigErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
