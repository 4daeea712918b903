import test from 'ava';
import fc from 'fast-check';
import { MAX_FRAME_SIGNATURE_BYTES, decodeSignedFrame, encodeCanonical, encodeSignedFrame } from '../../src/wire/index.js';

test('a signed frame round-trips; anything else is malformed or oversized, never thrown', (t) => {
  const frame = encodeSignedFrame(new Uint8Array([1, 2, 3]), new Uint8Array(64).fill(9));
  const back = decodeSignedFrame(frame, 1024);
  t.deepEqual(typeof back === 'string' ? back : [...back.body], [1, 2, 3]);
  t.is(decodeSignedFrame(frame, frame.length - 1), 'oversized');
  t.is(typeof decodeSignedFrame(encodeCanonical({ b: new Uint8Array(1), s: new Uint8Array(MAX_FRAME_SIGNATURE_BYTES) }), 1024), 'object', 'a signature at the limit');
  t.is(decodeSignedFrame(encodeCanonical({ b: new Uint8Array(1), s: new Uint8Array(MAX_FRAME_SIGNATURE_BYTES + 1) }), 1024), 'malformed', 'one byte over');
  t.is(decodeSignedFrame(encodeCanonical({ b: new Uint8Array(1), s: new Uint8Array(1), x: 1 }), 1024), 'malformed');
  t.is(decodeSignedFrame(encodeCanonical({ b: 'text', s: new Uint8Array(1) }), 1024), 'malformed');
  t.is(decodeSignedFrame(encodeCanonical([new Uint8Array(1), new Uint8Array(1)]), 1024), 'malformed');
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const r = decodeSignedFrame(bytes, 250);
      return typeof r === 'string' ? r === 'malformed' || r === 'oversized' : r.signature.length <= MAX_FRAME_SIGNATURE_BYTES;
    }),
  );
});
