/**
 * PTP's two numeric wire forms: the 10-byte Timestamp (48-bit seconds, 32-bit
 * nanoseconds) and the 8-byte correctionField (signed nanoseconds scaled by
 * 2^16). Both are carried as bigint so no nanosecond is lost to doubles.
 */
import { TimeError, requireBigInt } from './errors.js';

export const NS_PER_S = 1_000_000_000n;
/** Largest representable Timestamp, in ns: (2^48 - 1) s + 999 999 999 ns. */
export const MAX_TIMESTAMP_NS = (2n ** 48n - 1n) * NS_PER_S + (NS_PER_S - 1n);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A Timestamp as it is on the wire: kept apart so a round trip is exact even for nanoseconds >= 1e9. */
export interface PtpTimestamp {
  /** 48-bit unsigned seconds. */
  readonly seconds: bigint;
  /** 32-bit unsigned nanoseconds; a valid one is < 1e9 (decode keeps what came). */
  readonly nanoseconds: number;
}

export const ZERO_TIMESTAMP: PtpTimestamp = Object.freeze({ seconds: 0n, nanoseconds: 0 });

export function nsToTimestamp(ns: bigint): PtpTimestamp {
  requireBigInt(ns, 'timestamp ns', 0n, MAX_TIMESTAMP_NS);
  return { seconds: ns / NS_PER_S, nanoseconds: Number(ns % NS_PER_S) };
}

export function timestampToNs(ts: PtpTimestamp): bigint {
  checkTimestamp(ts, 'timestamp');
  return ts.seconds * NS_PER_S + BigInt(ts.nanoseconds);
}

export function checkTimestamp(ts: PtpTimestamp, name: string): void {
  if (typeof ts !== 'object' || ts === null) throw new TimeError('BAD_ARGUMENT', `${name} must be a PtpTimestamp`);
  requireBigInt(ts.seconds, `${name}.seconds`, 0n, 2n ** 48n - 1n);
  const n = ts.nanoseconds;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new TimeError('BAD_ARGUMENT', `${name}.nanoseconds must be a 32-bit unsigned integer, got ${String(n)}`);
  }
}

export function writeTimestamp(view: DataView, offset: number, ts: PtpTimestamp): void {
  checkTimestamp(ts, 'timestamp');
  view.setUint16(offset, Number(ts.seconds >> 32n));
  view.setUint32(offset + 2, Number(ts.seconds & 0xffffffffn));
  view.setUint32(offset + 6, ts.nanoseconds);
}

export function readTimestamp(view: DataView, offset: number): PtpTimestamp {
  const hi = BigInt(view.getUint16(offset));
  const lo = BigInt(view.getUint32(offset + 2));
  return { seconds: (hi << 32n) | lo, nanoseconds: view.getUint32(offset + 6) };
}

/** correctionField (ns * 2^16) to whole nanoseconds, rounded toward negative infinity. */
export function correctionToNs(scaled: bigint): bigint {
  requireBigInt(scaled, 'correction', INT64_MIN, INT64_MAX);
  return scaled >> 16n;
}

/** Whole nanoseconds to a correctionField value. */
export function nsToCorrection(ns: bigint): bigint {
  requireBigInt(ns, 'correction ns', INT64_MIN >> 16n, INT64_MAX >> 16n);
  return ns << 16n;
}

export function checkCorrection(scaled: bigint, name: string): void {
  requireBigInt(scaled, name, INT64_MIN, INT64_MAX);
}
