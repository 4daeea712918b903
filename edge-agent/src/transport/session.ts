/** Wires a completed handshake into the two directions of the message stream. */
import { Decoder, Encryptor } from './framing.js';
import type { HandshakeResult } from './handshake.js';
import { TransportError } from './errors.js';

export interface Session {
  readonly encryptor: Encryptor;
  readonly decoder: Decoder;
}

/**
 * Both directions start rotation from the same final ck. The keys are copied,
 * so the caller can (and should) wipe `result`'s keys afterwards.
 */
export function openSession(result: HandshakeResult): Session {
  if (typeof result !== 'object' || result === null) {
    throw new TransportError('BAD_ARGUMENT', 'openSession() needs a handshake result object.');
  }
  return {
    encryptor: new Encryptor({ key: result.sendingKey, chainingKey: result.chainingKey }),
    decoder: new Decoder({ key: result.receivingKey, chainingKey: result.chainingKey }),
  };
}
