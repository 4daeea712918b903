export type MetricsErrorCode = 'BAD_NAME' | 'BAD_VALUE' | 'KIND_MISMATCH';

export class MetricsError extends Error {
  override readonly name = 'MetricsError';
  constructor(
    readonly code: MetricsErrorCode,
    message: string,
  ) {
    super(message);
  }
}
