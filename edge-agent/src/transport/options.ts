/** Tunables of a connection, their defaults and their validation. */
import { isClock, systemClock, type Clock } from '../clock/index.js';
import { TransportError } from './errors.js';
import { resolveRateLimit, type RateLimit } from './rate-limit.js';

const MiB = 1024 * 1024;

export interface ChannelOptions {
  /** Source of time for every timeout; systemClock when omitted. */
  readonly clock?: Clock;
  /** TCP connect plus the three acts must finish within this (default 5 s). */
  readonly handshakeTimeoutMs?: number;
  /** Close when nothing at all was received for this long (default 60 s). */
  readonly idleTimeoutMs?: number;
  /** Send a ping after this much silence from the peer (default 15 s). */
  readonly keepaliveMs?: number;
  /** Largest application message either way (default 4 MiB). */
  readonly maxMessageSize?: number;
  /** Received messages held for the application before reading pauses (default 1 MiB). */
  readonly maxQueuedBytes?: number;
  /** Encrypted bytes held for the socket before sends wait (default 1 MiB). */
  readonly highWaterMark?: number;
  /** Inbound budget per peer; a breach closes with RATE_LIMIT. */
  readonly rateLimit?: Partial<RateLimit>;
}

export interface ResolvedChannelOptions {
  readonly clock: Clock;
  readonly handshakeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly keepaliveMs: number;
  readonly maxMessageSize: number;
  readonly maxQueuedBytes: number;
  readonly highWaterMark: number;
  readonly rateLimit: RateLimit;
}

/** An integer option of at least `min`, or its fallback when absent. */
export function integerOption(value: unknown, fallback: number, what: string, min: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new TransportError('BAD_ARGUMENT', `${what} must be an integer of at least ${min}, got ${String(v)}.`);
  }
  return v;
}

/** The given clock after checking its shape, or systemClock. */
export function clockOf(value: unknown): Clock {
  if (value === undefined) return systemClock;
  if (!isClock(value)) {
    throw new TransportError('BAD_ARGUMENT', 'The clock must have now() and setTimer().');
  }
  return value;
}

export function resolveChannelOptions(options: ChannelOptions | undefined): ResolvedChannelOptions {
  const o = options ?? {};
  if (typeof o !== 'object' || o === null) throw new TransportError('BAD_ARGUMENT', 'The options must be an object.');
  const resolved: ResolvedChannelOptions = {
    clock: clockOf(o.clock),
    handshakeTimeoutMs: integerOption(o.handshakeTimeoutMs, 5_000, 'handshakeTimeoutMs', 1),
    idleTimeoutMs: integerOption(o.idleTimeoutMs, 60_000, 'idleTimeoutMs', 1),
    keepaliveMs: integerOption(o.keepaliveMs, 15_000, 'keepaliveMs', 1),
    maxMessageSize: integerOption(o.maxMessageSize, 4 * MiB, 'maxMessageSize', 0),
    maxQueuedBytes: integerOption(o.maxQueuedBytes, MiB, 'maxQueuedBytes', 1),
    highWaterMark: integerOption(o.highWaterMark, MiB, 'highWaterMark', 1),
    rateLimit: resolveRateLimit(o.rateLimit),
  };
  if (resolved.rateLimit.byteBurst < resolved.maxMessageSize) {
    throw new TransportError('BAD_ARGUMENT', 'The rate limit byteBurst must be at least maxMessageSize, or no large message could ever arrive.');
  }
  return Object.freeze(resolved);
}
