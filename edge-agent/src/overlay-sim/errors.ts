/** Typed failures of the overlay simulator: only a caller's own bad options. */
export type SimErrorCode =
  /** An option or argument has the wrong type or range. */
  | 'BAD_ARGUMENT'
  /** The run outgrew a capacity fixed up front (event bits, delivery buffers). */
  | 'CAPACITY';

export class SimError extends Error {
  override readonly name = 'SimError';
  constructor(
    readonly code: SimErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
