export type PtpShellErrorCode = 'BAD_ARGUMENT' | 'NO_INTERFACE' | 'UNAVAILABLE' | 'CLOSED';

/** What the PTP shell throws: bad options, an interface that is not there, a backend that cannot run. */
export class PtpShellError extends Error {
  readonly code: PtpShellErrorCode;
  constructor(code: PtpShellErrorCode, message: string) {
    super(message);
    this.name = 'PtpShellError';
    this.code = code;
  }
}
