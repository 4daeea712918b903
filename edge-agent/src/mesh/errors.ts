export type MeshErrorCode = 'BAD_ARGUMENT' | 'CLOSED';

/** A caller mistake in mesh/ (remote input never throws: it is counted and dropped). */
export class MeshError extends Error {
  readonly code: MeshErrorCode;
  constructor(code: MeshErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MeshError';
    this.code = code;
  }
}
