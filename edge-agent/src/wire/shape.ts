import * as s from '../schema/index.js';

/** The only envelope version this code speaks. */
export const ENVELOPE_VERSION = 1;

/**
 * A signed, versioned message. `from` and `to` are 32-byte peer ids, `ts` milliseconds
 * since the Unix epoch, `nonce` 16 random bytes, `sig` a 64-byte signature over
 * signingBytes(envelope), made and checked by the identity room.
 */
export interface Envelope<T extends string = string, B = unknown> {
  readonly v: typeof ENVELOPE_VERSION;
  readonly type: T;
  readonly from: Uint8Array;
  readonly to?: Uint8Array;
  readonly ts: number;
  readonly nonce: Uint8Array;
  readonly body: B;
  readonly sig?: Uint8Array;
}

/** Lower-case words joined by '.', '_', '/' or '-', e.g. 'ping' or 'ota.offer'. */
export const typeName = s.text({
  min: 1,
  max: 64,
  pattern: /^[a-z][a-z0-9]*(?:[._/-][a-z0-9]+)*$/,
  hint: "a message type name of lower-case words joined by '.', '_', '/' or '-' (at most 64 characters)",
});

/** The envelope's own fields; each message type adds the schema of its body. */
export const headerShape = {
  v: s.oneOf([ENVELOPE_VERSION]),
  type: typeName,
  from: s.bytes({ len: 32 }),
  to: s.optional(s.bytes({ len: 32 })),
  ts: s.int({ min: 0 }),
  nonce: s.bytes({ len: 16 }),
  sig: s.optional(s.bytes({ len: 64 })),
};
