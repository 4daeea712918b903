/**
 * Every failure of provisioning is a ProvisionError with one of these codes; the
 * message is one line that names the manifest field, file or board at fault.
 */
export type ProvisionErrorCode =
  /** A caller passed something of the wrong type or range (a bug, not a bad file). */
  | 'BAD_ARGUMENT'
  /** There is no manifest at the path. */
  | 'NOT_FOUND'
  /** The manifest or inventory cannot be read, is not a regular file, or is too large. */
  | 'UNREADABLE'
  /** The manifest is not UTF-8 JSON; the message gives line and column. */
  | 'BAD_JSON'
  /** The manifest is JSON but a field is missing, unknown, out of range or inconsistent. */
  | 'INVALID_MANIFEST'
  /** DIR/inventory.json is not an inventory this code wrote. */
  | 'CORRUPT_INVENTORY'
  /** DIR already holds another fleet's inventory. */
  | 'FLEET_MISMATCH'
  /** A board's state directory holds no usable identity (half a keygen, files removed by hand). */
  | 'CORRUPT_STATE'
  /** The inventory lists a board whose state directory is gone: minting anew would change its identity. */
  | 'STATE_MISSING'
  /** Two boards hold the same identity (a state directory copied by hand). */
  | 'DUPLICATE_IDENTITY'
  /** Another provisioning run holds DIR's lock. */
  | 'LOCKED'
  /** Creating an identity failed (disk full, permissions, a worker that died). */
  | 'IDENTITY_FAILED'
  /** A generated config did not pass the agent's own checks (a limit the manifest checks missed). */
  | 'INVALID_CONFIG'
  /** The run was stopped through its AbortSignal; no half-made identity is left behind. */
  | 'ABORTED';

export class ProvisionError extends Error {
  override readonly name = 'ProvisionError';
  constructor(
    readonly code: ProvisionErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
