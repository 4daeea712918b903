import test from 'ava';
import { addExtension } from 'cbor-x';
import { decodeBounded, encodeCanonical } from '../../src/wire/index.js';
import { hex, unhex } from './helpers.js';

// A process-wide cbor-x extension (this file runs in a process of its own) that decodes
// another frame from inside a decoding, as any code registering one with cbor-x could.
// The other frame is longer than the outer one, so it would overwrite all of a shared copy.
const NESTED = 4242;
const other = encodeCanonical({ other: 'z'.repeat(300) });
// Decoding only: cbor-x accepts an extension without Class and encode, which its typings require.
addExtension({ tag: NESTED, decode: () => decodeBounded(other) } as unknown as Parameters<typeof addExtension>[0]);

test('a decoding started from inside another one does not disturb it', (t) => {
  // [tag 4242 (0), "the rest of the outer frame"]
  const outer = unhex('82' + 'd9109200' + hex(encodeCanonical('the rest of the outer frame')));
  t.deepEqual(decodeBounded(outer, { allowedTags: new Set([NESTED]) }), [{ other: 'z'.repeat(300) }, 'the rest of the outer frame']);
  // and the pooled copy is free again afterwards
  t.deepEqual(decodeBounded(encodeCanonical({ after: true })), { after: true });
});

test('an encoding started from a getter inside another one gets its own buffer', (t) => {
  const value = {
    a: 'first',
    get b() {
      return hex(encodeCanonical({ nested: 'y'.repeat(100) }));
    },
    c: [1, 2, 3],
  };
  const expected = encodeCanonical({ a: 'first', b: hex(encodeCanonical({ nested: 'y'.repeat(100) })), c: [1, 2, 3] });
  t.is(hex(encodeCanonical(value)), hex(expected));
  t.is(hex(encodeCanonical({ after: true })), 'a1656166746572f5');
});
