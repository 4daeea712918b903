export type MeshErrorCode = 'BAD_ARGUMENT' | 'CLOSED' | 'BAD_SNAPSHOT';

/** A caller mistake in mesh/, or a snapshot file that is not one (remote input never throws: it is counted and dropped). */
export class MeshError extends Error {
  readonly code: MeshErrorCode;
  constructor(code: MeshErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MeshError';
    this.code = code;
  }
}
