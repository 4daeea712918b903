/** Public face of the BOLT 8 transport core: pure state machines, no I/O. */
export { TransportError } from './errors.js';
export type { TransportErrorCode } from './errors.js';
export {
  ACT_ONE_SIZE,
  ACT_THREE_SIZE,
  ACT_TWO_SIZE,
  Initiator,
  Responder,
  initiator,
  responder,
} from './handshake.js';
export type { HandshakeResult, InitiatorOptions, ResponderOptions } from './handshake.js';
export { Decoder, Encryptor, HEADER_SIZE, MAX_FRAME_SIZE, MAX_MESSAGE_SIZE } from './framing.js';
export type { DirectionKeys } from './framing.js';
export { openSession } from './session.js';
export type { Session } from './session.js';
