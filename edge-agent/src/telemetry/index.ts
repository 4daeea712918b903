/**
 * telemetry/: the agent on MQTT. Retained status with a Last Will, periodic
 * telemetry, events and command results through a durable outbox, signed
 * commands in; CBOR payloads by default, JSON by config.
 */
export { TelemetryError, type TelemetryErrorCode } from './errors.js';
export { FLEET_BRANCH, TOPIC_ROOT, fleetWildcard, parseTopic, requireFleet, requirePeer, topicsFor, type TopicKind, type Topics } from './topics.js';
export { MAX_PAYLOAD_BYTES, PAYLOAD_FORMATS, decodePayload, encodePayload, type PayloadFormat } from './codec.js';
export { MqttLink, type LinkLog, type LinkOptions, type LinkTls, type RetainedMessage } from './link.js';
export { TelemetryService, type Outbox, type RecordKind, type TelemetryOptions } from './service.js';
export { BoardSampler, DEFAULT_SAMPLE_PERIOD_MS, decodeThrottled, measureSamplerCost, scaleToPi, type BoardSample, type BoardSamplerOptions, type ThrottledFlags } from './sampler.js';
