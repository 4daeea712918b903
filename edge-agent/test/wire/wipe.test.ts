import test from 'ava';
import { randomBytes } from 'node:crypto';
import { decodeBounded, encodeCanonical } from '../../src/wire/index.js';
import { pooledBuffer } from '../../src/wire/writer.js';
import { scratchBuffer } from '../../src/wire/decode.js';

/** True if `needle` occurs anywhere in `hay`. */
function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(hay.buffer, hay.byteOffset, hay.byteLength).indexOf(Buffer.from(needle)) >= 0;
}

// The keystore encodes and decodes its plaintext through these functions: a secret
// must live only in the copies handed back, never in the codec's reused buffers.
test('no secret stays in the encoder pool or the decoder scratch after a call', (t) => {
  for (const size of [32, 1000, 70_000]) {
    const secret = randomBytes(size);
    const bytes = encodeCanonical({ identity: secret, name: 'k' });
    t.true(contains(bytes, secret));
    t.false(contains(pooledBuffer(), secret), `encoder pool, ${size} bytes`);
    const decoded = decodeBounded(bytes) as { identity: Uint8Array };
    t.deepEqual(Buffer.from(decoded.identity), secret);
    t.false(contains(scratchBuffer(), secret), `decoder scratch, ${size} bytes`);
  }
});

test('a refused frame leaves nothing in the decoder scratch either', (t) => {
  const secret = randomBytes(48);
  const bytes = encodeCanonical({ a: secret });
  const truncated = bytes.subarray(0, bytes.length - 1);
  t.throws(() => decodeBounded(truncated));
  t.false(contains(scratchBuffer(), secret.subarray(0, 40)));
});
