/**
 * Public face of transport/: the BOLT 8 core (pure state machines, no I/O),
 * the TCP shell around it (dial/accept → Channel), the connection manager and
 * typed messaging above the channels. See docs/transport.md.
 */
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

export type { CloseReason } from './reasons.js';
export { FRAGMENT_SIZE } from './fragments.js';
export { DEFAULT_RATE_LIMIT } from './rate-limit.js';
export type { RateLimit } from './rate-limit.js';
export { Backoff, DEFAULT_BACKOFF, resolveBackoff, type BackoffOptions } from './backoff.js';
export type { ChannelOptions } from './options.js';
export type { Channel, CloseInfo } from './channel.js';
export { accept, dial } from './connection.js';
export type { ConnectOptions } from './connection.js';
export { ConnectionManager } from './manager.js';
export type { ChannelClosed, ManagerOptions } from './manager.js';
export type { LogSink } from './log.js';
export { defineRequest } from './request.js';
export type { ReplyBody, RequestType } from './request.js';
export { Messenger } from './messenger.js';
export type { Incoming, MessengerOptions } from './messenger.js';
export { routeSession } from './session-routes.js';
