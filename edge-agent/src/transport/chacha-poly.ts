/**
 * ChaCha20-Poly1305 (RFC 8439) in plain TypeScript, for tiny inputs only:
 * creating a node:crypto cipher object costs more than ten microseconds,
 * which is most of the price of sealing a 2-byte BOLT 8 length prefix. For
 * a few dozen bytes this code is several times faster; large inputs stay with
 * OpenSSL (primitives.ts picks). The tests check it byte for byte against
 * node:crypto on random keys, nonces and lengths. Internal.
 *
 * Side channels: ChaCha20 is 32-bit add/rotate/xor on numbers, and Poly1305
 * works on 13-bit limbs in doubles (every intermediate is an exact integer
 * below 2^35), with no branch or index that depends on a secret. Tags are
 * compared with timingSafeEqual, and open() checks the tag before it
 * decrypts, so unauthenticated plaintext never exists.
 */
import { timingSafeEqual } from 'node:crypto';

const TAG_SIZE = 16;
const LIMB = 8192; // 2^13

/** Scratch shared by all calls: JavaScript runs one call at a time. */
const initial = new Int32Array(16);
const stream = new Uint8Array(64);
const streamView = new DataView(stream.buffer);

function readLE32(bytes: Uint8Array, at: number): number {
  return bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
}

/** Loads key and nonce into the ChaCha20 state (RFC 8439 §2.3); the counter is set per block. */
function setup(key: Uint8Array, nonce: Uint8Array): void {
  initial[0] = 0x61707865;
  initial[1] = 0x3320646e;
  initial[2] = 0x79622d32;
  initial[3] = 0x6b206574;
  for (let i = 0; i < 8; i++) initial[4 + i] = readLE32(key, 4 * i);
  initial[13] = readLE32(nonce, 0);
  initial[14] = readLE32(nonce, 4);
  initial[15] = readLE32(nonce, 8);
}

/**
 * One 64-byte keystream block for `counter` into `stream` (RFC 8439 §2.3),
 * the state in locals: ten double rounds of four column and four diagonal
 * quarter rounds, each quarter round add/xor/rotate by 16, 12, 8 and 7.
 */
function block(counter: number): void {
  let x0 = initial[0]!;
  let x1 = initial[1]!;
  let x2 = initial[2]!;
  let x3 = initial[3]!;
  let x4 = initial[4]!;
  let x5 = initial[5]!;
  let x6 = initial[6]!;
  let x7 = initial[7]!;
  let x8 = initial[8]!;
  let x9 = initial[9]!;
  let x10 = initial[10]!;
  let x11 = initial[11]!;
  let x12 = counter | 0;
  let x13 = initial[13]!;
  let x14 = initial[14]!;
  let x15 = initial[15]!;
  for (let i = 0; i < 10; i++) {
    // column round
    x0 = (x0 + x4) | 0; x12 ^= x0; x12 = (x12 << 16) | (x12 >>> 16);
    x8 = (x8 + x12) | 0; x4 ^= x8; x4 = (x4 << 12) | (x4 >>> 20);
    x0 = (x0 + x4) | 0; x12 ^= x0; x12 = (x12 << 8) | (x12 >>> 24);
    x8 = (x8 + x12) | 0; x4 ^= x8; x4 = (x4 << 7) | (x4 >>> 25);
    x1 = (x1 + x5) | 0; x13 ^= x1; x13 = (x13 << 16) | (x13 >>> 16);
    x9 = (x9 + x13) | 0; x5 ^= x9; x5 = (x5 << 12) | (x5 >>> 20);
    x1 = (x1 + x5) | 0; x13 ^= x1; x13 = (x13 << 8) | (x13 >>> 24);
    x9 = (x9 + x13) | 0; x5 ^= x9; x5 = (x5 << 7) | (x5 >>> 25);
    x2 = (x2 + x6) | 0; x14 ^= x2; x14 = (x14 << 16) | (x14 >>> 16);
    x10 = (x10 + x14) | 0; x6 ^= x10; x6 = (x6 << 12) | (x6 >>> 20);
    x2 = (x2 + x6) | 0; x14 ^= x2; x14 = (x14 << 8) | (x14 >>> 24);
    x10 = (x10 + x14) | 0; x6 ^= x10; x6 = (x6 << 7) | (x6 >>> 25);
    x3 = (x3 + x7) | 0; x15 ^= x3; x15 = (x15 << 16) | (x15 >>> 16);
    x11 = (x11 + x15) | 0; x7 ^= x11; x7 = (x7 << 12) | (x7 >>> 20);
    x3 = (x3 + x7) | 0; x15 ^= x3; x15 = (x15 << 8) | (x15 >>> 24);
    x11 = (x11 + x15) | 0; x7 ^= x11; x7 = (x7 << 7) | (x7 >>> 25);
    // diagonal round
    x0 = (x0 + x5) | 0; x15 ^= x0; x15 = (x15 << 16) | (x15 >>> 16);
    x10 = (x10 + x15) | 0; x5 ^= x10; x5 = (x5 << 12) | (x5 >>> 20);
    x0 = (x0 + x5) | 0; x15 ^= x0; x15 = (x15 << 8) | (x15 >>> 24);
    x10 = (x10 + x15) | 0; x5 ^= x10; x5 = (x5 << 7) | (x5 >>> 25);
    x1 = (x1 + x6) | 0; x12 ^= x1; x12 = (x12 << 16) | (x12 >>> 16);
    x11 = (x11 + x12) | 0; x6 ^= x11; x6 = (x6 << 12) | (x6 >>> 20);
    x1 = (x1 + x6) | 0; x12 ^= x1; x12 = (x12 << 8) | (x12 >>> 24);
    x11 = (x11 + x12) | 0; x6 ^= x11; x6 = (x6 << 7) | (x6 >>> 25);
    x2 = (x2 + x7) | 0; x13 ^= x2; x13 = (x13 << 16) | (x13 >>> 16);
    x8 = (x8 + x13) | 0; x7 ^= x8; x7 = (x7 << 12) | (x7 >>> 20);
    x2 = (x2 + x7) | 0; x13 ^= x2; x13 = (x13 << 8) | (x13 >>> 24);
    x8 = (x8 + x13) | 0; x7 ^= x8; x7 = (x7 << 7) | (x7 >>> 25);
    x3 = (x3 + x4) | 0; x14 ^= x3; x14 = (x14 << 16) | (x14 >>> 16);
    x9 = (x9 + x14) | 0; x4 ^= x9; x4 = (x4 << 12) | (x4 >>> 20);
    x3 = (x3 + x4) | 0; x14 ^= x3; x14 = (x14 << 8) | (x14 >>> 24);
    x9 = (x9 + x14) | 0; x4 ^= x9; x4 = (x4 << 7) | (x4 >>> 25);
  }
  streamView.setInt32(0, (x0 + initial[0]!) | 0, true);
  streamView.setInt32(4, (x1 + initial[1]!) | 0, true);
  streamView.setInt32(8, (x2 + initial[2]!) | 0, true);
  streamView.setInt32(12, (x3 + initial[3]!) | 0, true);
  streamView.setInt32(16, (x4 + initial[4]!) | 0, true);
  streamView.setInt32(20, (x5 + initial[5]!) | 0, true);
  streamView.setInt32(24, (x6 + initial[6]!) | 0, true);
  streamView.setInt32(28, (x7 + initial[7]!) | 0, true);
  streamView.setInt32(32, (x8 + initial[8]!) | 0, true);
  streamView.setInt32(36, (x9 + initial[9]!) | 0, true);
  streamView.setInt32(40, (x10 + initial[10]!) | 0, true);
  streamView.setInt32(44, (x11 + initial[11]!) | 0, true);
  streamView.setInt32(48, (x12 + (counter | 0)) | 0, true);
  streamView.setInt32(52, (x13 + initial[13]!) | 0, true);
  streamView.setInt32(56, (x14 + initial[14]!) | 0, true);
  streamView.setInt32(60, (x15 + initial[15]!) | 0, true);
}

/** XORs `input` with the keystream from block 1 on (block 0 keys Poly1305) into `out` at `offset`. */
function xorStream(input: Uint8Array, out: Uint8Array, offset: number): void {
  for (let done = 0, counter = 1; done < input.length; done += 64, counter++) {
    block(counter);
    const n = Math.min(64, input.length - done);
    for (let i = 0; i < n; i++) out[offset + done + i] = input[done + i]! ^ stream[i]!;
  }
}

/** Poly1305 with the accumulator and key in ten 13-bit limbs. */
const h = new Float64Array(10);
// h + 5, for the final reduction mod p.
const g = new Float64Array(10);
const s = new Uint8Array(16);
// The limbs of r, and f = 5r for the products that wrap past 2^130.
let r0 = 0, r1 = 0, r2 = 0, r3 = 0, r4 = 0, r5 = 0, r6 = 0, r7 = 0, r8 = 0, r9 = 0;
let f1 = 0, f2 = 0, f3 = 0, f4 = 0, f5 = 0, f6 = 0, f7 = 0, f8 = 0, f9 = 0;

/** Splits 16 little-endian bytes (zero-padded past `len`) into limbs added to `into`. */
function addBlock(into: Float64Array, bytes: Uint8Array, at: number, len: number, top: number): void {
  let acc = 0;
  let bits = 0;
  let limb = 0;
  for (let i = 0; i < 16; i++) {
    acc |= (i < len ? bytes[at + i]! : 0) << bits;
    bits += 8;
    if (bits >= 13) {
      into[limb++]! += acc & 0x1fff;
      acc >>>= 13;
      bits -= 13;
    }
  }
  // 9 limbs took 117 bits; the last 11 go to limb 9, plus 2^128 for a message block.
  into[9]! += acc + top;
}

/** Carries every limb below 2^13, folding the overflow past 2^130 back in as 5 (2^130 = 5 mod p). */
function carry(x: Float64Array): void {
  let c = 0;
  for (let i = 0; i < 10; i++) {
    const v = x[i]! + c;
    c = Math.floor(v / LIMB);
    x[i] = v - c * LIMB;
  }
  x[0]! += c * 5;
}

/** r (clamped as RFC 8439 §2.5 says) and s from the one-time key; h starts at 0. */
function polyInit(key: Uint8Array): void {
  const t0 = readLE32(key, 0) & 0x0fffffff;
  const t1 = readLE32(key, 4) & 0x0ffffffc;
  const t2 = readLE32(key, 8) & 0x0ffffffc;
  const t3 = readLE32(key, 12) & 0x0ffffffc;
  // Limb k holds bits 13k .. 13k + 12 of the 128-bit little-endian r.
  r0 = t0 & 0x1fff;
  r1 = (t0 >>> 13) & 0x1fff;
  r2 = ((t0 >>> 26) | (t1 << 6)) & 0x1fff;
  r3 = (t1 >>> 7) & 0x1fff;
  r4 = ((t1 >>> 20) | (t2 << 12)) & 0x1fff;
  r5 = (t2 >>> 1) & 0x1fff;
  r6 = (t2 >>> 14) & 0x1fff;
  r7 = ((t2 >>> 27) | (t3 << 5)) & 0x1fff;
  r8 = (t3 >>> 8) & 0x1fff;
  r9 = t3 >>> 21;
  f1 = r1 * 5;
  f2 = r2 * 5;
  f3 = r3 * 5;
  f4 = r4 * 5;
  f5 = r5 * 5;
  f6 = r6 * 5;
  f7 = r7 * 5;
  f8 = r8 * 5;
  f9 = r9 * 5;
  s.set(key.subarray(16, 32));
  h.fill(0);
}

/**
 * h = (h + block) * r mod p for one 16-byte block of the zero-padded MAC
 * input. Limbs below 2^14 times 5r below 2^15.4, ten at a time, stay below
 * 2^33: exact in doubles.
 */
function polyBlock(bytes: Uint8Array, at: number, len: number): void {
  addBlock(h, bytes, at, len, 2048);
  const h0 = h[0]!;
  const h1 = h[1]!;
  const h2 = h[2]!;
  const h3 = h[3]!;
  const h4 = h[4]!;
  const h5 = h[5]!;
  const h6 = h[6]!;
  const h7 = h[7]!;
  const h8 = h[8]!;
  const h9 = h[9]!;
  h[0] = h0 * r0 + h1 * f9 + h2 * f8 + h3 * f7 + h4 * f6 + h5 * f5 + h6 * f4 + h7 * f3 + h8 * f2 + h9 * f1;
  h[1] = h0 * r1 + h1 * r0 + h2 * f9 + h3 * f8 + h4 * f7 + h5 * f6 + h6 * f5 + h7 * f4 + h8 * f3 + h9 * f2;
  h[2] = h0 * r2 + h1 * r1 + h2 * r0 + h3 * f9 + h4 * f8 + h5 * f7 + h6 * f6 + h7 * f5 + h8 * f4 + h9 * f3;
  h[3] = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * f9 + h5 * f8 + h6 * f7 + h7 * f6 + h8 * f5 + h9 * f4;
  h[4] = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0 + h5 * f9 + h6 * f8 + h7 * f7 + h8 * f6 + h9 * f5;
  h[5] = h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1 + h5 * r0 + h6 * f9 + h7 * f8 + h8 * f7 + h9 * f6;
  h[6] = h0 * r6 + h1 * r5 + h2 * r4 + h3 * r3 + h4 * r2 + h5 * r1 + h6 * r0 + h7 * f9 + h8 * f8 + h9 * f7;
  h[7] = h0 * r7 + h1 * r6 + h2 * r5 + h3 * r4 + h4 * r3 + h5 * r2 + h6 * r1 + h7 * r0 + h8 * f9 + h9 * f8;
  h[8] = h0 * r8 + h1 * r7 + h2 * r6 + h3 * r5 + h4 * r4 + h5 * r3 + h6 * r2 + h7 * r1 + h8 * r0 + h9 * f9;
  h[9] = h0 * r9 + h1 * r8 + h2 * r7 + h3 * r6 + h4 * r5 + h5 * r4 + h6 * r3 + h7 * r2 + h8 * r1 + h9 * r0;
  carry(h);
  carry(h);
}

/** Feeds `bytes` as whole blocks, the last one zero-padded (the AEAD's pad16). */
function polyPadded(bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length; at += 16) polyBlock(bytes, at, Math.min(16, bytes.length - at));
}

const lengths = new Uint8Array(16);
const computed = Buffer.alloc(TAG_SIZE);
const lengthsView = new DataView(lengths.buffer);

/** Poly1305 over AD || pad || ciphertext || pad || le64(|AD|) || le64(|ciphertext|), into `out`. */
function tag(ad: Uint8Array, ciphertext: Uint8Array, out: Uint8Array, offset: number): void {
  block(0);
  polyInit(stream);
  polyPadded(ad);
  polyPadded(ciphertext);
  lengthsView.setUint32(0, ad.length, true);
  lengthsView.setUint32(8, ciphertext.length, true);
  polyBlock(lengths, 0, 16);
  carry(h);
  carry(h);
  carry(h);
  // h < 2^130 now; subtract p once if h + 5 reaches 2^130, selected without a branch.
  let c = 5;
  for (let i = 0; i < 10; i++) {
    const v = h[i]! + c;
    c = Math.floor(v / LIMB);
    g[i] = v - c * LIMB;
  }
  for (let i = 0; i < 10; i++) h[i] = h[i]! + c * (g[i]! - h[i]!);
  // tag = (h + s) mod 2^128, little-endian.
  let acc = 0;
  let bits = 0;
  let limb = 0;
  let sum = 0;
  for (let i = 0; i < 16; i++) {
    while (bits < 8) {
      acc |= h[limb++]! << bits;
      bits += 13;
    }
    sum = (acc & 0xff) + s[i]! + (sum >>> 8);
    out[offset + i] = sum & 0xff;
    acc >>>= 8;
    bits -= 8;
  }
  h.fill(0);
  g.fill(0);
  r0 = r1 = r2 = r3 = r4 = r5 = r6 = r7 = r8 = r9 = 0;
  f1 = f2 = f3 = f4 = f5 = f6 = f7 = f8 = f9 = 0;
  s.fill(0);
  stream.fill(0);
}

/** Seals `plaintext` into `out` at `offset` as ciphertext || tag. */
export function sealSmall(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number): void {
  setup(key, nonce);
  xorStream(plaintext, out, offset);
  tag(ad, out.subarray(offset, offset + plaintext.length), out, offset + plaintext.length);
  initial.fill(0);
}

/** Verifies the tag, then decrypts; null (having decrypted nothing) when the tag is wrong. */
export function openSmall(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array, expected: Uint8Array): Buffer | null {
  setup(key, nonce);
  tag(ad, ciphertext, computed, 0);
  let plaintext: Buffer | null = null;
  if (expected.length === TAG_SIZE && timingSafeEqual(computed, expected)) {
    plaintext = Buffer.allocUnsafe(ciphertext.length);
    xorStream(ciphertext, plaintext, 0);
  }
  computed.fill(0);
  initial.fill(0);
  stream.fill(0);
  return plaintext;
}
