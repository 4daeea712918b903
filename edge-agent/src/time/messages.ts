/**
 * The five PTPv2 messages of two-step end-to-end synchronisation, as a typed
 * union, with their encoder and a decoder that never throws anything but a
 * TimeError (MALFORMED: not a well-formed message; UNSUPPORTED: a well-formed
 * one of a type we do not handle, which the shell drops).
 *
 * Body layouts after the 34-byte header (IEEE 1588-2008 §13.5-13.8):
 *   Sync, Delay_Req (44): originTimestamp (10)
 *   Follow_Up (44):       preciseOriginTimestamp (10)
 *   Delay_Resp (54):      receiveTimestamp (10), requestingPortIdentity (10)
 *   Announce (64):        originTimestamp (10), currentUtcOffset (i16), reserved (1),
 *                         grandmasterPriority1, grandmasterClockQuality {clockClass,
 *                         clockAccuracy, offsetScaledLogVariance (u16)}, grandmasterPriority2,
 *                         grandmasterIdentity (8), stepsRemoved (u16), timeSource
 * Bytes between the body and messageLength are TLVs (ptp4l may append some):
 * kept verbatim as `suffix`. Bytes after messageLength (UDP padding) are ignored.
 */
import { TimeError, requireBytes, requireInt } from './errors.js';
import { HEADER_LENGTH, PTP_VERSION, checkHeader, checkPortIdentity, readHeader, readPortIdentity, writeHeader, writePortIdentity, type PortIdentity, type PtpHeader } from './header.js';
import { checkTimestamp, readTimestamp, writeTimestamp, type PtpTimestamp } from './timestamp.js';

/** UDP ports of IEEE 1588 Annex D: event messages (timestamped) and general ones. */
export const EVENT_PORT = 319;
export const GENERAL_PORT = 320;
/** IPv4 multicast group of the primary PTP domain traffic. */
export const PTP_PRIMARY_MULTICAST = '224.0.1.129';

export type Channel = 'event' | 'general';
export type MessageType = 'Sync' | 'Delay_Req' | 'Follow_Up' | 'Delay_Resp' | 'Announce';

export const MESSAGE_TYPE_CODES: Readonly<Record<MessageType, number>> = Object.freeze({
  Sync: 0x0,
  Delay_Req: 0x1,
  Follow_Up: 0x8,
  Delay_Resp: 0x9,
  Announce: 0xb,
});
const UNSUPPORTED_NAMES: Readonly<Record<number, string>> = {
  0x2: 'Pdelay_Req',
  0x3: 'Pdelay_Resp',
  0xa: 'Pdelay_Resp_Follow_Up',
  0xc: 'Signaling',
  0xd: 'Management',
};
/** Length of header plus body, without TLVs. */
export const BASE_LENGTHS: Readonly<Record<MessageType, number>> = Object.freeze({
  Sync: 44,
  Delay_Req: 44,
  Follow_Up: 44,
  Delay_Resp: 54,
  Announce: 64,
});
/** controlField values of 1588-2008 (kept for v1 hardware; ignored on receipt). */
export const CONTROL_FIELDS: Readonly<Record<MessageType, number>> = Object.freeze({
  Sync: 0,
  Delay_Req: 1,
  Follow_Up: 2,
  Delay_Resp: 3,
  Announce: 5,
});

export function channelOf(type: MessageType): Channel {
  return type === 'Sync' || type === 'Delay_Req' ? 'event' : 'general';
}

export interface ClockQuality {
  readonly clockClass: number;
  readonly clockAccuracy: number;
  readonly offsetScaledLogVariance: number;
}

interface Base {
  readonly header: PtpHeader;
  /** TLVs after the body, verbatim (usually empty). */
  readonly suffix: Uint8Array;
}
export interface SyncMessage extends Base {
  readonly type: 'Sync';
  readonly originTimestamp: PtpTimestamp;
}
export interface DelayReqMessage extends Base {
  readonly type: 'Delay_Req';
  readonly originTimestamp: PtpTimestamp;
}
export interface FollowUpMessage extends Base {
  readonly type: 'Follow_Up';
  readonly preciseOriginTimestamp: PtpTimestamp;
}
export interface DelayRespMessage extends Base {
  readonly type: 'Delay_Resp';
  readonly receiveTimestamp: PtpTimestamp;
  readonly requestingPortIdentity: PortIdentity;
}
export interface AnnounceMessage extends Base {
  readonly type: 'Announce';
  readonly originTimestamp: PtpTimestamp;
  readonly currentUtcOffset: number;
  readonly grandmasterPriority1: number;
  readonly grandmasterClockQuality: ClockQuality;
  readonly grandmasterPriority2: number;
  readonly grandmasterIdentity: Uint8Array;
  readonly stepsRemoved: number;
  readonly timeSource: number;
}
export type PtpMessage = SyncMessage | DelayReqMessage | FollowUpMessage | DelayRespMessage | AnnounceMessage;

/** A message to encode: messageLength may be left out (encode computes it) or must be right. */
export type PtpMessageInit = PtpMessage extends infer M
  ? M extends PtpMessage
    ? Omit<M, 'header' | 'suffix'> & { header: Omit<PtpHeader, 'messageLength'> & { messageLength?: number }; suffix?: Uint8Array }
    : never
  : never;

export function checkClockQuality(q: ClockQuality, name: string): void {
  if (typeof q !== 'object' || q === null) throw new TimeError('BAD_ARGUMENT', `${name} must be a ClockQuality`);
  requireInt(q.clockClass, `${name}.clockClass`, 0, 255);
  requireInt(q.clockAccuracy, `${name}.clockAccuracy`, 0, 255);
  requireInt(q.offsetScaledLogVariance, `${name}.offsetScaledLogVariance`, 0, 0xffff);
}

/** Encodes a message; throws BAD_ARGUMENT on any field out of range. */
export function encodeMessage(msg: PtpMessageInit): Uint8Array {
  if (typeof msg !== 'object' || msg === null) throw new TimeError('BAD_ARGUMENT', 'message must be an object');
  const type = msg.type;
  if (!Object.hasOwn(MESSAGE_TYPE_CODES, type)) throw new TimeError('BAD_ARGUMENT', `unknown message type ${String(type)}`);
  const header = { messageLength: 0, ...msg.header };
  checkHeader(header);
  const suffix = msg.suffix ?? new Uint8Array(0);
  requireBytes(suffix, 'suffix');
  const length = BASE_LENGTHS[type] + suffix.length;
  if (length > 0xffff) throw new TimeError('BAD_ARGUMENT', `message of ${length} bytes exceeds messageLength's 16 bits`);
  if (msg.header.messageLength !== undefined && msg.header.messageLength !== length) {
    throw new TimeError('BAD_ARGUMENT', `header.messageLength ${msg.header.messageLength} does not match the ${length} bytes of this ${type}`);
  }
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  writeHeader(bytes, view, MESSAGE_TYPE_CODES[type], length, header);
  switch (msg.type) {
    case 'Sync':
    case 'Delay_Req':
      checkTimestamp(msg.originTimestamp, 'originTimestamp');
      writeTimestamp(view, 34, msg.originTimestamp);
      break;
    case 'Follow_Up':
      checkTimestamp(msg.preciseOriginTimestamp, 'preciseOriginTimestamp');
      writeTimestamp(view, 34, msg.preciseOriginTimestamp);
      break;
    case 'Delay_Resp':
      checkTimestamp(msg.receiveTimestamp, 'receiveTimestamp');
      checkPortIdentity(msg.requestingPortIdentity, 'requestingPortIdentity');
      writeTimestamp(view, 34, msg.receiveTimestamp);
      writePortIdentity(bytes, view, 44, msg.requestingPortIdentity);
      break;
    case 'Announce': {
      checkTimestamp(msg.originTimestamp, 'originTimestamp');
      requireInt(msg.currentUtcOffset, 'currentUtcOffset', -32768, 32767);
      requireInt(msg.grandmasterPriority1, 'grandmasterPriority1', 0, 255);
      checkClockQuality(msg.grandmasterClockQuality, 'grandmasterClockQuality');
      requireInt(msg.grandmasterPriority2, 'grandmasterPriority2', 0, 255);
      requireBytes(msg.grandmasterIdentity, 'grandmasterIdentity', 8);
      requireInt(msg.stepsRemoved, 'stepsRemoved', 0, 0xffff);
      requireInt(msg.timeSource, 'timeSource', 0, 255);
      writeTimestamp(view, 34, msg.originTimestamp);
      view.setInt16(44, msg.currentUtcOffset);
      view.setUint8(47, msg.grandmasterPriority1);
      view.setUint8(48, msg.grandmasterClockQuality.clockClass);
      view.setUint8(49, msg.grandmasterClockQuality.clockAccuracy);
      view.setUint16(50, msg.grandmasterClockQuality.offsetScaledLogVariance);
      view.setUint8(52, msg.grandmasterPriority2);
      bytes.set(msg.grandmasterIdentity, 53);
      view.setUint16(61, msg.stepsRemoved);
      view.setUint8(63, msg.timeSource);
      break;
    }
  }
  bytes.set(suffix, BASE_LENGTHS[type]);
  return bytes;
}

/**
 * Decodes one datagram. Throws TimeError MALFORMED (with the reason) or
 * UNSUPPORTED (type and number in the message); never anything else.
 */
export function decodeMessage(input: Uint8Array): PtpMessage {
  if (!(input instanceof Uint8Array)) throw new TimeError('BAD_ARGUMENT', 'decodeMessage takes a Uint8Array');
  if (input.length < HEADER_LENGTH) {
    throw new TimeError('MALFORMED', `too short: ${input.length} bytes, a PTP header needs ${HEADER_LENGTH}`);
  }
  const bytes = input;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint8(1) & 0x0f;
  if (version !== PTP_VERSION) throw new TimeError('MALFORMED', `wrong version: versionPTP ${version}, expected ${PTP_VERSION}`);
  const code = view.getUint8(0) & 0x0f;
  const type = (Object.keys(MESSAGE_TYPE_CODES) as MessageType[]).find((k) => MESSAGE_TYPE_CODES[k] === code);
  if (type === undefined) {
    const name = UNSUPPORTED_NAMES[code] ?? 'reserved';
    throw new TimeError('UNSUPPORTED', `unsupported messageType 0x${code.toString(16)} (${name})`);
  }
  const base = BASE_LENGTHS[type];
  if (bytes.length < base) throw new TimeError('MALFORMED', `too short: ${bytes.length} bytes, a ${type} needs ${base}`);
  const header = readHeader(bytes, view);
  const length = header.messageLength;
  if (length < base) throw new TimeError('MALFORMED', `length field mismatch: messageLength ${length} is shorter than a ${type} (${base})`);
  if (length > bytes.length) throw new TimeError('MALFORMED', `length field mismatch: messageLength ${length} but only ${bytes.length} bytes came`);
  const suffix = bytes.slice(base, length);
  switch (type) {
    case 'Sync':
    case 'Delay_Req':
      return { type, header, suffix, originTimestamp: readTimestamp(view, 34) };
    case 'Follow_Up':
      return { type, header, suffix, preciseOriginTimestamp: readTimestamp(view, 34) };
    case 'Delay_Resp':
      return { type, header, suffix, receiveTimestamp: readTimestamp(view, 34), requestingPortIdentity: readPortIdentity(bytes, view, 44) };
    case 'Announce':
      return {
        type,
        header,
        suffix,
        originTimestamp: readTimestamp(view, 34),
        currentUtcOffset: view.getInt16(44),
        grandmasterPriority1: view.getUint8(47),
        grandmasterClockQuality: {
          clockClass: view.getUint8(48),
          clockAccuracy: view.getUint8(49),
          offsetScaledLogVariance: view.getUint16(50),
        },
        grandmasterPriority2: view.getUint8(52),
        grandmasterIdentity: bytes.slice(53, 61),
        stepsRemoved: view.getUint16(61),
        timeSource: view.getUint8(63),
      };
  }
}
