import { crc32 } from 'node:zlib';
import { LogError } from './errors.js';

/**
 * On-disk layout of an append-only log (all integers little-endian):
 *
 *   file header   8 bytes   "edgelog" + format version (1)
 *   record        12-byte header + payload, repeated
 *     [0..4)   payload length
 *     [4..8)   CRC-32 of the payload
 *     [8..12)  CRC-32 of bytes [0..8)
 *
 * The header carries its own checksum so that a damaged length is recognised as
 * damage on the spot, instead of being believed and sending the reader past the
 * end of the file (which would look like a torn write and cut good records away).
 * An all-zero header fails its checksum, so zero-filled blocks are never records.
 * CRC-32 (zlib's native one) detects the torn and flipped bytes a power cut or a
 * failing SD card leave; deliberate tampering is the audit chain's job.
 */
export const MAGIC = Uint8Array.from(Buffer.from('edgelog', 'latin1'));
export const FORMAT_VERSION = 1;
export const FILE_HEADER_BYTES = MAGIC.length + 1;
export const RECORD_HEADER_BYTES = 12;

/** The default bound on one record's payload. */
export const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;
/** The largest bound a log accepts: far above what a board should log, well below Buffer limits. */
export const MAX_RECORD_LIMIT = 1024 * 1024 * 1024;

export function fileHeader(): Uint8Array {
  const out = new Uint8Array(FILE_HEADER_BYTES);
  out.set(MAGIC);
  out[MAGIC.length] = FORMAT_VERSION;
  return out;
}

/** Header and a private copy of `payload`, ready to be written in one piece. */
export function encodeRecord(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER_BYTES + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, payload.length, true);
  view.setUint32(4, crc32(payload), true);
  view.setUint32(8, crc32(out.subarray(0, 8)), true);
  out.set(payload, RECORD_HEADER_BYTES);
  return out;
}

export interface RecordHeader {
  readonly length: number;
  readonly payloadCrc: number;
}

/** Parses a 12-byte record header; null when its own checksum fails. */
export function decodeRecordHeader(bytes: Uint8Array): RecordHeader | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, RECORD_HEADER_BYTES);
  if (crc32(bytes.subarray(0, 8)) !== view.getUint32(8, true)) return null;
  return { length: view.getUint32(0, true), payloadCrc: view.getUint32(4, true) };
}

export function payloadCrc(payload: Uint8Array): number {
  return crc32(payload);
}

/** Validates a maxRecordBytes option, applying the default. */
export function maxRecordBytesOption(value: unknown, where: string): number {
  if (value === undefined) return DEFAULT_MAX_RECORD_BYTES;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_RECORD_LIMIT) {
    throw new LogError('BAD_ARGUMENT', `${where}: maxRecordBytes must be an integer from 1 to ${MAX_RECORD_LIMIT}, got ${String(value)}`);
  }
  return value;
}
