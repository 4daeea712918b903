/** The Timestamp and correctionField wire numbers. */
import test from 'ava';
import fc from 'fast-check';
import { MAX_TIMESTAMP_NS, TimeError, correctionToNs, nsToCorrection, nsToTimestamp, timestampToNs } from '../../src/time/index.js';

test('Timestamp <-> ns round trips over the whole 48-bit range', (t) => {
  t.deepEqual(nsToTimestamp(1_700_000_000_123_456_789n), { seconds: 1_700_000_000n, nanoseconds: 123_456_789 });
  t.is(timestampToNs({ seconds: 2n ** 48n - 1n, nanoseconds: 999_999_999 }), MAX_TIMESTAMP_NS);
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: MAX_TIMESTAMP_NS }), (ns) => timestampToNs(nsToTimestamp(ns)) === ns), { seed: 48 });
  t.throws(() => nsToTimestamp(-1n), { instanceOf: TimeError });
  t.throws(() => nsToTimestamp(MAX_TIMESTAMP_NS + 1n), { instanceOf: TimeError });
});

test('correctionField is ns scaled by 2^16, floored', (t) => {
  t.is(correctionToNs(0x18000n), 1n);
  t.is(correctionToNs(-0x18000n), -2n);
  t.is(nsToCorrection(-3n), -0x30000n);
  fc.assert(fc.property(fc.bigInt({ min: -(2n ** 46n), max: 2n ** 46n }), (ns) => correctionToNs(nsToCorrection(ns)) === ns), { seed: 16 });
  t.throws(() => correctionToNs(2n ** 63n), { instanceOf: TimeError });
});
