/**
 * The 34-byte common header of every PTPv2 message (IEEE 1588-2008 §13.3):
 *
 *   0  transportSpecific (4 bits) | messageType (4 bits)
 *   1  minorVersionPTP (4 bits, 1588-2019; reserved before) | versionPTP (4 bits) = 2
 *   2  messageLength (u16)           4  domainNumber      5  minorSdoId (reserved in 2008)
 *   6  flagField (2 bytes)           8  correctionField (i64, ns * 2^16)
 *  16  messageTypeSpecific (4 bytes, reserved in 2008)
 *  20  sourcePortIdentity: clockIdentity (8 bytes), portNumber (u16)
 *  30  sequenceId (u16)             32  controlField      33  logMessageInterval (i8)
 */
import { TimeError, requireBytes, requireInt } from './errors.js';
import { checkCorrection } from './timestamp.js';

export const HEADER_LENGTH = 34;
export const PTP_VERSION = 2;

/** flagField, as one big-endian u16: octet 0 in the high byte. */
export const FLAGS = Object.freeze({
  ALTERNATE_MASTER: 0x0100,
  TWO_STEP: 0x0200,
  UNICAST: 0x0400,
  PROFILE_SPECIFIC_1: 0x2000,
  PROFILE_SPECIFIC_2: 0x4000,
  LEAP_61: 0x0001,
  LEAP_59: 0x0002,
  CURRENT_UTC_OFFSET_VALID: 0x0004,
  PTP_TIMESCALE: 0x0008,
  TIME_TRACEABLE: 0x0010,
  FREQUENCY_TRACEABLE: 0x0020,
});

/** logMessageInterval of messages that have none (Delay_Req in E2E). */
export const LOG_INTERVAL_UNSPECIFIED = 0x7f;

export interface PortIdentity {
  /** 8 bytes (EUI-64). */
  readonly clockIdentity: Uint8Array;
  readonly portNumber: number;
}

export interface PtpHeader {
  readonly transportSpecific: number;
  /** versionPTP's companion nibble; ptp4l 3.1 sends 0, ptp4l 4 sends 1. */
  readonly minorVersionPTP: number;
  /** Whole message length as sent (header, body and TLVs); encode computes it. */
  readonly messageLength: number;
  readonly domainNumber: number;
  readonly minorSdoId: number;
  readonly flags: number;
  /** Raw correctionField (ns * 2^16, signed 64-bit). */
  readonly correction: bigint;
  readonly messageTypeSpecific: number;
  readonly sourcePortIdentity: PortIdentity;
  readonly sequenceId: number;
  readonly controlField: number;
  /** Signed; 0x7f means "unspecified". */
  readonly logMessageInterval: number;
}

export function checkPortIdentity(p: PortIdentity, name: string): void {
  if (typeof p !== 'object' || p === null) throw new TimeError('BAD_ARGUMENT', `${name} must be a PortIdentity`);
  requireBytes(p.clockIdentity, `${name}.clockIdentity`, 8);
  requireInt(p.portNumber, `${name}.portNumber`, 0, 0xffff);
}

export function portIdentityEquals(a: PortIdentity, b: PortIdentity): boolean {
  if (a.portNumber !== b.portNumber) return false;
  for (let i = 0; i < 8; i++) if (a.clockIdentity[i] !== b.clockIdentity[i]) return false;
  return true;
}

/** Lexicographic order of clock identities, then port numbers (what the BMCA tie-breaks use). */
export function compareClockIdentity(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 8; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export function comparePortIdentity(a: PortIdentity, b: PortIdentity): number {
  return compareClockIdentity(a.clockIdentity, b.clockIdentity) || Math.sign(a.portNumber - b.portNumber);
}

export function portIdentityHex(p: PortIdentity): string {
  let s = '';
  for (const b of p.clockIdentity) s += b.toString(16).padStart(2, '0');
  return `${s}-${p.portNumber}`;
}

export function writePortIdentity(bytes: Uint8Array, view: DataView, offset: number, p: PortIdentity): void {
  bytes.set(p.clockIdentity, offset);
  view.setUint16(offset + 8, p.portNumber);
}

export function readPortIdentity(bytes: Uint8Array, view: DataView, offset: number): PortIdentity {
  return { clockIdentity: bytes.slice(offset, offset + 8), portNumber: view.getUint16(offset + 8) };
}

export function checkHeader(h: PtpHeader): void {
  if (typeof h !== 'object' || h === null) throw new TimeError('BAD_ARGUMENT', 'header must be an object');
  requireInt(h.transportSpecific, 'header.transportSpecific', 0, 15);
  requireInt(h.minorVersionPTP, 'header.minorVersionPTP', 0, 15);
  requireInt(h.domainNumber, 'header.domainNumber', 0, 255);
  requireInt(h.minorSdoId, 'header.minorSdoId', 0, 255);
  requireInt(h.flags, 'header.flags', 0, 0xffff);
  checkCorrection(h.correction, 'header.correction');
  requireInt(h.messageTypeSpecific, 'header.messageTypeSpecific', 0, 0xffffffff);
  checkPortIdentity(h.sourcePortIdentity, 'header.sourcePortIdentity');
  requireInt(h.sequenceId, 'header.sequenceId', 0, 0xffff);
  requireInt(h.controlField, 'header.controlField', 0, 255);
  requireInt(h.logMessageInterval, 'header.logMessageInterval', -128, 127);
}

/** Writes the header with the given type nibble and total length (already checked). */
export function writeHeader(bytes: Uint8Array, view: DataView, messageType: number, length: number, h: PtpHeader): void {
  view.setUint8(0, (h.transportSpecific << 4) | messageType);
  view.setUint8(1, (h.minorVersionPTP << 4) | PTP_VERSION);
  view.setUint16(2, length);
  view.setUint8(4, h.domainNumber);
  view.setUint8(5, h.minorSdoId);
  view.setUint16(6, h.flags);
  view.setBigInt64(8, h.correction);
  view.setUint32(16, h.messageTypeSpecific);
  writePortIdentity(bytes, view, 20, h.sourcePortIdentity);
  view.setUint16(30, h.sequenceId);
  view.setUint8(32, h.controlField);
  view.setInt8(33, h.logMessageInterval);
}

export function readHeader(bytes: Uint8Array, view: DataView): PtpHeader {
  return {
    transportSpecific: view.getUint8(0) >> 4,
    minorVersionPTP: view.getUint8(1) >> 4,
    messageLength: view.getUint16(2),
    domainNumber: view.getUint8(4),
    minorSdoId: view.getUint8(5),
    flags: view.getUint16(6),
    correction: view.getBigInt64(8),
    messageTypeSpecific: view.getUint32(16),
    sourcePortIdentity: readPortIdentity(bytes, view, 20),
    sequenceId: view.getUint16(30),
    controlField: view.getUint8(32),
    logMessageInterval: view.getInt8(33),
  };
}
