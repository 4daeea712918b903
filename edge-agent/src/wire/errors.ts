/** Every failure to encode or decode bytes on the wire is a WireError with one of these codes. */
export type WireErrorCode =
  | 'ARGUMENT' // the calling code passed something that is not valid (limits, a non-byte input, a registry)
  | 'ENCODE' // the value cannot be encoded (unsupported type, non-finite number, bad key or string)
  | 'FRAME_TOO_LARGE' // more bytes than the limit allows
  | 'TRUNCATED' // the bytes end inside an item
  | 'TRAILING' // bytes left over after the top-level item
  | 'MALFORMED' // not well-formed CBOR: a reserved header value or a text string that is not UTF-8
  | 'TOO_DEEP' // nesting deeper than the limit
  | 'TOO_LONG' // a string, array or map longer than the limit or than the bytes left
  | 'INT_RANGE' // an integer outside the safe range of a JavaScript number (±(2^53 - 1))
  | 'BAD_TAG' // a tag that is not registered
  | 'BAD_SIMPLE' // a simple value or float form we do not accept
  | 'INDEFINITE' // indefinite-length items are not allowed
  | 'BAD_KEY' // a map key that is not a text string, repeated, or reserved (__proto__)
  | 'NOT_CANONICAL' // the bytes are not the canonical encoding of what they decode to
  | 'SCHEMA' // decoded, but not a valid message of its type
  | 'VERSION' // an envelope version we do not speak
  | 'UNKNOWN_TYPE'; // an envelope type nobody registered

export class WireError extends Error {
  override readonly name = 'WireError';
  constructor(
    readonly code: WireErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
