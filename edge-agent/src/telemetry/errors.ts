export type TelemetryErrorCode = 'BAD_ARGUMENT' | 'BAD_PAYLOAD' | 'NOT_CONNECTED' | 'STOPPED';

export class TelemetryError extends Error {
  override readonly name = 'TelemetryError';
  constructor(
    readonly code: TelemetryErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
