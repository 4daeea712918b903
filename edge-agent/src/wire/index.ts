export { WireError, type WireErrorCode } from './errors.js';
export { encodeCanonical, MAX_NESTING } from './canonical.js';
export { DEFAULT_LIMITS, type DecodeLimits } from './limits.js';
export { decodeBounded, decodeCanonical } from './decode.js';
export { ENVELOPE_VERSION, type Envelope } from './shape.js';
export { defineMessage, MessageRegistry, type MessageType, type EnvelopeOf } from './registry.js';
export { encodeEnvelope, decodeEnvelope, signingBytes } from './envelope.js';
export { ping, pong, coreMessages } from './messages.js';
export { Tag } from 'cbor-x';
