/** The TypeScript ChaCha20-Poly1305 for tiny inputs, checked against OpenSSL (node:crypto) and RFC 8439. */
import { createCipheriv, randomBytes } from 'node:crypto';
import test from 'ava';
import fc from 'fast-check';
import { openSmall, sealSmall } from '../../src/transport/chacha-poly.js';
import { hex } from './helpers.js';

function opensslSeal(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  if (ad.length > 0) cipher.setAAD(ad, { plaintextLength: plaintext.length });
  const ciphertext = cipher.update(plaintext);
  cipher.final();
  return Buffer.concat([ciphertext, cipher.getAuthTag()]);
}

function jsSeal(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Buffer {
  const out = Buffer.alloc(plaintext.length + 16);
  sealSmall(key, nonce, ad, plaintext, out, 0);
  return out;
}

const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const key = fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.constant(new Uint8Array(32).fill(0xff)), fc.constant(new Uint8Array(32)));
const nonce = fc.uint8Array({ minLength: 12, maxLength: 12 });

test('RFC 8439 section 2.8.2 AEAD test vector', (t) => {
  const plaintext = Buffer.from(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  );
  const k = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
  const n = hex('070000004041424344454647');
  const ad = hex('50515253c0c1c2c3c4c5c6c7');
  const sealed = jsSeal(k, n, ad, plaintext);
  t.is(sealed.subarray(plaintext.length).toString('hex'), '1ae10b594f09e26a7e902ecbd0600691');
  t.true(sealed.equals(opensslSeal(k, n, ad, plaintext)));
});

test('seal matches OpenSSL byte for byte, open inverts it', (t) => {
  fc.assert(
    fc.property(key, nonce, bytes(80), bytes(300), (k, n, ad, plaintext) => {
      const sealed = jsSeal(k, n, ad, plaintext);
      if (!sealed.equals(opensslSeal(k, n, ad, plaintext))) return false;
      const opened = openSmall(k, n, ad, sealed.subarray(0, plaintext.length), sealed.subarray(plaintext.length));
      return opened !== null && opened.equals(plaintext);
    }),
    { numRuns: 400 },
  );
  t.pass();
});

test('open refuses any bit flip in ciphertext, tag or associated data, and a wrong key or nonce', (t) => {
  fc.assert(
    fc.property(key, nonce, bytes(40), bytes(100), fc.nat(), (k, n, ad, plaintext, bit) => {
      const sealed = opensslSeal(k, n, ad, plaintext);
      const tampered = Buffer.concat([sealed, Buffer.from(ad)]);
      const at = bit % (tampered.length * 8);
      tampered[at >> 3]! ^= 1 << (at & 7);
      const split = plaintext.length;
      const flipped = openSmall(k, n, tampered.subarray(sealed.length), tampered.subarray(0, split), tampered.subarray(split, sealed.length));
      const otherNonce = Uint8Array.from(n);
      otherNonce[0]! ^= 1;
      const wrongNonce = openSmall(k, otherNonce, ad, sealed.subarray(0, split), sealed.subarray(split));
      return flipped === null && wrongNonce === null;
    }),
    { numRuns: 300 },
  );
  t.is(openSmall(randomBytes(32), new Uint8Array(12), new Uint8Array(0), new Uint8Array(2), new Uint8Array(15)), null);
});
