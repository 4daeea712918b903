/**
 * Typed failures of the source-routing core. Remote input never throws out of
 * RouteCore.receive (it becomes a typed drop); these are thrown for a caller's
 * own bad arguments and for requests the protocol forbids.
 */
export type RouteErrorCode =
  /** A caller passed something of the wrong type, length or range. */
  | 'BAD_ARGUMENT'
  /** The route given to originate or reroute is empty, loops, misses dst or exceeds maxHops. */
  | 'BAD_ROUTE'
  /** The payload exceeds maxPayload. */
  | 'TOO_LARGE'
  /** reroute was asked for a message whose single re-route is spent or was never allowed. */
  | 'REROUTE_USED';

export class RouteError extends Error {
  override readonly name = 'RouteError';
  constructor(
    readonly code: RouteErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
