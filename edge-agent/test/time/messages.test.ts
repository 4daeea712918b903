/** The PTPv2 codec: hand-built byte vectors from the standard's layout, round trips, and fuzz. */
import test from 'ava';
import fc from 'fast-check';
import {
  FLAGS,
  TimeError,
  decodeMessage,
  encodeMessage,
  channelOf,
  type PtpHeader,
  type PtpMessage,
  type PtpMessageInit,
} from '../../src/time/index.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const MASTER = hex('001b21fffe000001');
const SLAVE = hex('001b21fffe000002');

// Common header, field by field (34 bytes): type|transport, version, length, domain, sdo,
// flags, correction, type-specific, clockIdentity, port, sequenceId, control, logInterval.
const SYNC = hex(`
  00 02 002c 00 00 0200 0000000000000000 00000000 001b21fffe000001 0001 1234 00 fd
  00006553f100 07735940`);
const FOLLOW_UP = hex(`
  08 02 002c 00 00 0000 0000000000018000 00000000 001b21fffe000001 0001 1234 02 fd
  00006553f100 0773a1d2`);
const DELAY_REQ = hex(`
  01 02 002c 00 00 0000 0000000000000000 00000000 001b21fffe000002 0001 0007 01 7f
  000000000000 00000000`);
const DELAY_RESP = hex(`
  09 02 0036 00 00 0000 fffffffffffe0000 00000000 001b21fffe000001 0001 0007 03 00
  00006553f101 00000064 001b21fffe000002 0001`);
const ANNOUNCE = hex(`
  0b 02 0040 00 00 0008 0000000000000000 00000000 001b21fffe000001 0001 0005 05 01
  000000000000 00000000 0025 00 80 f8 fe ffff 80 001b21fffe000001 0000 a0`);

test('a two-step Sync decodes field by field', (t) => {
  t.is(SYNC.length, 44);
  const m = decodeMessage(SYNC);
  if (m.type !== 'Sync') return t.fail(m.type);
  t.is(m.header.transportSpecific, 0);
  t.is(m.header.minorVersionPTP, 0);
  t.is(m.header.messageLength, 44);
  t.is(m.header.domainNumber, 0);
  t.is(m.header.flags, FLAGS.TWO_STEP);
  t.is(m.header.correction, 0n);
  t.deepEqual(m.header.sourcePortIdentity, { clockIdentity: MASTER, portNumber: 1 });
  t.is(m.header.sequenceId, 0x1234);
  t.is(m.header.controlField, 0);
  t.is(m.header.logMessageInterval, -3);
  t.deepEqual(m.originTimestamp, { seconds: 1_700_000_000n, nanoseconds: 125_000_000 });
  t.is(m.suffix.length, 0);
  t.is(channelOf(m.type), 'event');
  t.is(toHex(encodeMessage(m)), toHex(SYNC));
});

test('a Follow_Up decodes field by field (correction in 2^-16 ns)', (t) => {
  const m = decodeMessage(FOLLOW_UP);
  if (m.type !== 'Follow_Up') return t.fail(m.type);
  t.is(m.header.correction, 0x18000n); // 1.5 ns
  t.is(m.header.controlField, 2);
  t.is(m.header.sequenceId, 0x1234);
  t.deepEqual(m.preciseOriginTimestamp, { seconds: 1_700_000_000n, nanoseconds: 125_018_578 });
  t.is(channelOf(m.type), 'general');
  t.is(toHex(encodeMessage(m)), toHex(FOLLOW_UP));
});

test('a Delay_Req decodes field by field', (t) => {
  const m = decodeMessage(DELAY_REQ);
  if (m.type !== 'Delay_Req') return t.fail(m.type);
  t.deepEqual(m.header.sourcePortIdentity, { clockIdentity: SLAVE, portNumber: 1 });
  t.is(m.header.sequenceId, 7);
  t.is(m.header.controlField, 1);
  t.is(m.header.logMessageInterval, 0x7f);
  t.deepEqual(m.originTimestamp, { seconds: 0n, nanoseconds: 0 });
  t.is(channelOf(m.type), 'event');
  t.is(toHex(encodeMessage(m)), toHex(DELAY_REQ));
});

test('a Delay_Resp decodes field by field (negative correction)', (t) => {
  const m = decodeMessage(DELAY_RESP);
  if (m.type !== 'Delay_Resp') return t.fail(m.type);
  t.is(m.header.messageLength, 54);
  t.is(m.header.correction, -0x20000n); // -2 ns
  t.is(m.header.controlField, 3);
  t.deepEqual(m.receiveTimestamp, { seconds: 1_700_000_001n, nanoseconds: 100 });
  t.deepEqual(m.requestingPortIdentity, { clockIdentity: SLAVE, portNumber: 1 });
  t.is(toHex(encodeMessage(m)), toHex(DELAY_RESP));
});

test('an Announce decodes field by field', (t) => {
  const m = decodeMessage(ANNOUNCE);
  if (m.type !== 'Announce') return t.fail(m.type);
  t.is(m.header.messageLength, 64);
  t.is(m.header.flags, FLAGS.PTP_TIMESCALE);
  t.is(m.header.controlField, 5);
  t.is(m.header.logMessageInterval, 1);
  t.is(m.currentUtcOffset, 37);
  t.is(m.grandmasterPriority1, 128);
  t.deepEqual(m.grandmasterClockQuality, { clockClass: 248, clockAccuracy: 0xfe, offsetScaledLogVariance: 0xffff });
  t.is(m.grandmasterPriority2, 128);
  t.deepEqual(m.grandmasterIdentity, MASTER);
  t.is(m.stepsRemoved, 0);
  t.is(m.timeSource, 0xa0);
  t.is(toHex(encodeMessage(m)), toHex(ANNOUNCE));
});

test('trailing TLVs are kept as the suffix; bytes past messageLength are padding', (t) => {
  const tlv = hex('0003 0008 00 00 00 00 00 00 00 00'); // an (empty) path trace-like TLV
  const withTlv = new Uint8Array(ANNOUNCE.length + tlv.length + 4);
  withTlv.set(ANNOUNCE);
  withTlv.set(tlv, ANNOUNCE.length);
  new DataView(withTlv.buffer).setUint16(2, ANNOUNCE.length + tlv.length);
  const m = decodeMessage(withTlv);
  t.is(m.type, 'Announce');
  t.deepEqual(m.suffix, tlv);
  t.is(toHex(encodeMessage(m)), toHex(withTlv.subarray(0, ANNOUNCE.length + tlv.length)));
});

test('a minor version nibble (ptp4l 4.x sends 0x12) is accepted and kept', (t) => {
  const b = SYNC.slice();
  b[1] = 0x12;
  const m = decodeMessage(b);
  t.is(m.header.minorVersionPTP, 1);
  t.deepEqual(encodeMessage(m), b);
});

function malformed(t: import('ava').ExecutionContext, bytes: Uint8Array, reason: RegExp): void {
  const err = t.throws(() => decodeMessage(bytes), { instanceOf: TimeError });
  t.is(err?.code, 'MALFORMED');
  t.regex(err?.message ?? '', reason);
}

test('malformed datagrams are refused with a precise reason', (t) => {
  malformed(t, SYNC.subarray(0, 20), /too short: 20 bytes, a PTP header needs 34/);
  malformed(t, SYNC.subarray(0, 40), /too short: 40 bytes, a Sync needs 44/);
  const v1 = SYNC.slice();
  v1[1] = 0x01;
  malformed(t, v1, /wrong version: versionPTP 1/);
  const long = SYNC.slice();
  new DataView(long.buffer).setUint16(2, 60);
  malformed(t, long, /length field mismatch: messageLength 60 but only 44 bytes/);
  const short = ANNOUNCE.slice();
  new DataView(short.buffer).setUint16(2, 44);
  malformed(t, short, /length field mismatch: messageLength 44 is shorter than a Announce \(64\)/);
});

test('message types we do not handle are UNSUPPORTED, named', (t) => {
  for (const [code, name] of [
    [0x2, 'Pdelay_Req'],
    [0xc, 'Signaling'],
    [0xd, 'Management'],
    [0x5, 'reserved'],
  ] as const) {
    const b = SYNC.slice();
    b[0] = code;
    const err = t.throws(() => decodeMessage(b), { instanceOf: TimeError });
    t.is(err?.code, 'UNSUPPORTED');
    t.true(err?.message.includes(name));
  }
});

test('encode refuses fields out of range and a wrong messageLength', (t) => {
  const m = decodeMessage(SYNC);
  const bad = (over: Partial<PtpHeader>): PtpMessageInit => ({ ...m, header: { ...m.header, ...over } }) as PtpMessageInit;
  for (const over of [{ domainNumber: 256 }, { sequenceId: -1 }, { flags: 0x10000 }, { correction: 2n ** 63n }, { logMessageInterval: 200 }, { messageLength: 45 }]) {
    const err = t.throws(() => encodeMessage(bad(over)), { instanceOf: TimeError });
    t.is(err?.code, 'BAD_ARGUMENT');
  }
  t.throws(() => encodeMessage({ ...m, originTimestamp: { seconds: 2n ** 48n, nanoseconds: 0 } } as PtpMessageInit), { instanceOf: TimeError });
});

// ---- fuzz -------------------------------------------------------------------

const u8 = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const id8 = fc.uint8Array({ minLength: 8, maxLength: 8 });
const portId = fc.record({ clockIdentity: id8, portNumber: u16 });
const ts = fc.record({ seconds: fc.bigInt({ min: 0n, max: 2n ** 48n - 1n }), nanoseconds: fc.integer({ min: 0, max: 0xffffffff }) });
const header = fc.record({
  transportSpecific: fc.integer({ min: 0, max: 15 }),
  minorVersionPTP: fc.integer({ min: 0, max: 15 }),
  domainNumber: u8,
  minorSdoId: u8,
  flags: u16,
  correction: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  messageTypeSpecific: fc.integer({ min: 0, max: 0xffffffff }),
  sourcePortIdentity: portId,
  sequenceId: u16,
  controlField: u8,
  logMessageInterval: fc.integer({ min: -128, max: 127 }),
});
const suffix = fc.uint8Array({ maxLength: 40 });
const message: fc.Arbitrary<PtpMessageInit> = fc.oneof(
  fc.record({ type: fc.constant('Sync' as const), header, suffix, originTimestamp: ts }),
  fc.record({ type: fc.constant('Delay_Req' as const), header, suffix, originTimestamp: ts }),
  fc.record({ type: fc.constant('Follow_Up' as const), header, suffix, preciseOriginTimestamp: ts }),
  fc.record({ type: fc.constant('Delay_Resp' as const), header, suffix, receiveTimestamp: ts, requestingPortIdentity: portId }),
  fc.record({
    type: fc.constant('Announce' as const),
    header,
    suffix,
    originTimestamp: ts,
    currentUtcOffset: fc.integer({ min: -32768, max: 32767 }),
    grandmasterPriority1: u8,
    grandmasterClockQuality: fc.record({ clockClass: u8, clockAccuracy: u8, offsetScaledLogVariance: u16 }),
    grandmasterPriority2: u8,
    grandmasterIdentity: id8,
    stepsRemoved: u16,
    timeSource: u8,
  }),
);

test('decode(encode(m)) is m for arbitrary valid messages, and encode is stable', (t) => {
  fc.assert(
    fc.property(message, (m) => {
      const bytes = encodeMessage(m);
      const back: PtpMessage = decodeMessage(bytes);
      const expected = { ...m, header: { ...m.header, messageLength: bytes.length } };
      t.deepEqual(back, expected as PtpMessage);
      t.deepEqual(encodeMessage(back), bytes);
    }),
    { seed: 1588, numRuns: 500 },
  );
});

function onlyTimeErrors(bytes: Uint8Array): boolean {
  try {
    decodeMessage(bytes);
    return true;
  } catch (err) {
    return err instanceof TimeError && (err.code === 'MALFORMED' || err.code === 'UNSUPPORTED');
  }
}

test('decode of random bytes throws nothing but MALFORMED or UNSUPPORTED', (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), onlyTimeErrors), { seed: 319, numRuns: 3000 });
  t.pass();
});

test('decode of mutated valid messages throws nothing but MALFORMED or UNSUPPORTED', (t) => {
  const mutated = fc
    .tuple(message, fc.array(fc.tuple(fc.nat(), u8), { maxLength: 6 }), fc.nat())
    .map(([m, flips, cut]) => {
      const b = encodeMessage(m);
      for (const [i, v] of flips) b[i % b.length] = v;
      return b.subarray(0, Math.max(0, b.length - (cut % 12)));
    });
  fc.assert(fc.property(mutated, onlyTimeErrors), { seed: 320, numRuns: 3000 });
  t.pass();
});
