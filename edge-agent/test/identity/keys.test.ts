import test from 'ava';
import fc from 'fast-check';
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import {
  IdentityError,
  generateKeyPair,
  isValidPublicKey,
  peerIdOf,
  publicKeyOf,
  shortId,
  sign,
  toHex,
  verify,
} from '../../src/identity/index.js';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;

function scalar(n: bigint): Uint8Array {
  return Uint8Array.from(Buffer.from(n.toString(16).padStart(64, '0'), 'hex'));
}

function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

const isCode = (code: string) => (err: unknown) => err instanceof IdentityError && err.code === code;

// OpenSSL, as an independent second implementation: SPKI DER for a compressed secp256k1 point.
function opensslVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const spki = Buffer.concat([Buffer.from('3036301006072a8648ce3d020106052b8104000a032200', 'hex'), publicKey]);
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  return nodeVerify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, signature);
}

// noble, which verify() used before it moved to OpenSSL: the semantics the new verify must keep.
function nobleVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return secp256k1.verify(signature, message, publicKey, { prehash: true, lowS: true, format: 'compact' });
  } catch {
    return false;
  }
}

const bigOf = (bytes: Uint8Array): bigint => BigInt(`0x${toHex(bytes) || '0'}`);

/** A copy of the signature with r and/or s replaced (values mod 2^256, as 32 bytes each). */
function withRS(signature: Uint8Array, r: bigint | undefined, s: bigint | undefined): Uint8Array {
  const out = Uint8Array.from(signature);
  if (r !== undefined) out.set(scalar(r & (2n ** 256n - 1n)), 0);
  if (s !== undefined) out.set(scalar(s & (2n ** 256n - 1n)), 32);
  return out;
}

test('public keys of the secret keys 1 and 2 are G and 2G, compressed', (t) => {
  t.is(toHex(publicKeyOf(scalar(1n))), '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798');
  t.is(toHex(publicKeyOf(scalar(2n))), '02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5');
});

test('the peer id is SHA-256 of the compressed public key; shortId is its first 8 hex characters', (t) => {
  const g = hex('0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798');
  const expected = createHash('sha256').update(g).digest('hex');
  t.is(toHex(peerIdOf(g)), expected);
  t.is(shortId(peerIdOf(g)), expected.slice(0, 8));
  t.is(shortId(peerIdOf(g)).length, 8);
});

test('generated key pairs are well formed, consistent and distinct', (t) => {
  const a = generateKeyPair();
  const b = generateKeyPair();
  t.is(a.secretKey.length, 32);
  t.is(a.publicKey.length, 33);
  t.true(a.publicKey[0] === 2 || a.publicKey[0] === 3);
  t.deepEqual(publicKeyOf(a.secretKey), a.publicKey);
  t.true(isValidPublicKey(a.publicKey));
  t.notDeepEqual(a.secretKey, b.secretKey);
  t.is(peerIdOf(a.publicKey).length, 32);
});

test('secret keys outside [1, n-1] or of the wrong length are refused', (t) => {
  for (const bad of [scalar(0n), scalar(N), scalar(N + 1n), new Uint8Array(31).fill(1), new Uint8Array(33).fill(1)]) {
    t.true(isCode('BAD_SECRET_KEY')(t.throws(() => publicKeyOf(bad))));
    t.true(isCode('BAD_SECRET_KEY')(t.throws(() => sign(bad, new Uint8Array(1)))));
  }
  t.true(isCode('BAD_SECRET_KEY')(t.throws(() => publicKeyOf('x' as unknown as Uint8Array))));
  t.notThrows(() => publicKeyOf(scalar(N - 1n)));
});

test('public keys that are not compressed curve points are refused', (t) => {
  const g = hex('0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798');
  const uncompressed = hex(
    '0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8',
  );
  const badPrefix = Uint8Array.from(g);
  badPrefix[0] = 4;
  const offCurve = hex('02' + '00'.repeat(31) + '05'); // x = 5: x^3 + 7 = 132 is not a square mod p
  for (const bad of [uncompressed, badPrefix, offCurve, g.subarray(0, 32), new Uint8Array(33)]) {
    t.false(isValidPublicKey(bad));
    t.true(isCode('BAD_PUBLIC_KEY')(t.throws(() => peerIdOf(bad))));
  }
  t.false(isValidPublicKey('02' as unknown));
});

test('sign/verify round trip, checked against OpenSSL too', (t) => {
  const { secretKey, publicKey } = generateKeyPair();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (message) => {
      const signature = sign(secretKey, message);
      return signature.length === 64 && verify(publicKey, message, signature) && opensslVerify(publicKey, message, signature);
    }),
    { numRuns: 50 },
  );
  t.pass();
});

test('signatures are low-S and deterministic', (t) => {
  const { secretKey } = generateKeyPair();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (message) => {
      const signature = sign(secretKey, message);
      const s = BigInt(`0x${toHex(signature.subarray(32))}`);
      return s <= N / 2n && toHex(sign(secretKey, message)) === toHex(signature);
    }),
    { numRuns: 30 },
  );
  t.pass();
});

test('a high-S twin of a valid signature is rejected (no malleability)', (t) => {
  const { secretKey, publicKey } = generateKeyPair();
  const message = new TextEncoder().encode('edge-agent test');
  const signature = sign(secretKey, message);
  const s = BigInt(`0x${toHex(signature.subarray(32))}`);
  const twin = Uint8Array.from(signature);
  twin.set(scalar(N - s), 32);
  t.true(opensslVerify(publicKey, message, twin)); // mathematically valid...
  t.false(verify(publicKey, message, twin)); // ...but refused
});

test('modified messages, signatures or keys do not verify', (t) => {
  const { secretKey, publicKey } = generateKeyPair();
  const other = generateKeyPair().publicKey;
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 100 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (message, at, bit) => {
      const signature = sign(secretKey, message);
      const m2 = Uint8Array.from(message);
      m2[at % m2.length]! ^= 1 << bit;
      const s2 = Uint8Array.from(signature);
      s2[at % 64]! ^= 1 << bit;
      return !verify(publicKey, m2, signature) && !verify(publicKey, message, s2) && !verify(other, message, signature);
    }),
    { numRuns: 50 },
  );
  t.pass();
});

test('verify returns false, never throws, on malformed keys and signatures', (t) => {
  const message = new Uint8Array(8);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 70 }), fc.uint8Array({ maxLength: 70 }), (publicKey, signature) => {
      return verify(publicKey, message, signature) === false;
    }),
    { numRuns: 200 },
  );
  const { secretKey, publicKey } = generateKeyPair();
  const signature = sign(secretKey, message);
  t.false(verify('nope' as unknown as Uint8Array, message, signature));
  t.false(verify(publicKey, message, null as unknown as Uint8Array));
  t.false(verify(publicKey, message, new Uint8Array(64))); // r = s = 0
  t.false(verify(publicKey, message, new Uint8Array(64).fill(0xff))); // r, s >= n
  t.true(isCode('BAD_ARGUMENT')(t.throws(() => verify(publicKey, 'text' as unknown as Uint8Array, signature))));
});

test('verify agrees with noble on valid, tampered, high-S, out-of-range and wrong-key signatures and malformed keys', (t) => {
  const secret = fc.bigInt({ min: 1n, max: N - 1n });
  let checked = 0;
  fc.assert(
    fc.property(
      secret,
      secret,
      fc.uint8Array({ maxLength: 120 }),
      fc.nat({ max: 511 }),
      fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
      fc.nat({ max: 7 }),
      (sk, otherSk, message, bitAt, x, pad) => {
        const secretKey = scalar(sk);
        const publicKey = publicKeyOf(secretKey);
        const otherKey = publicKeyOf(scalar(otherSk));
        const signature = sign(secretKey, message);
        const r = bigOf(signature.subarray(0, 32));
        const s = bigOf(signature.subarray(32));
        const flipped = Uint8Array.from(signature);
        flipped[bitAt >> 3]! ^= 1 << (bitAt & 7);
        const flippedKey = Uint8Array.from(publicKey);
        flippedKey[(bitAt >> 3) % 33]! ^= 1 << (bitAt & 7);
        const prefix4 = Uint8Array.from(publicKey);
        prefix4[0] = 4;
        const randomX = Uint8Array.of(2 + (bitAt & 1), ...scalar(x)); // often not on the curve, sometimes x >= p
        const xPlusP = Uint8Array.of(publicKey[0]!, ...scalar(bigOf(publicKey.subarray(1)) + P)); // wraps when >= 2^256
        // The same bytes inside a larger buffer: the key cache and OpenSSL must honour byteOffset.
        const embedded = new Uint8Array(pad + 33 + 3);
        embedded.set(publicKey, pad);
        const keyView = embedded.subarray(pad, pad + 33);
        const messageBox = new Uint8Array(pad + message.length + 2);
        messageBox.set(message, pad);
        const messageView = messageBox.subarray(pad, pad + message.length);
        const cases: [Uint8Array, Uint8Array, Uint8Array][] = [
          [publicKey, message, signature],
          [keyView, messageView, signature],
          [publicKey, message, flipped],
          [flippedKey, message, signature],
          [publicKey, message, withRS(signature, undefined, N - s)], // high-S twin
          [publicKey, message, withRS(signature, undefined, N / 2n)], // largest low S
          [publicKey, message, withRS(signature, undefined, N / 2n + 1n)], // smallest high S
          [publicKey, message, withRS(signature, 0n, undefined)],
          [publicKey, message, withRS(signature, undefined, 0n)],
          [publicKey, message, withRS(signature, N, undefined)],
          [publicKey, message, withRS(signature, undefined, N)],
          [publicKey, message, withRS(signature, r + N, undefined)], // same r mod n, out of range
          [publicKey, message, withRS(signature, undefined, s + N)],
          [publicKey, message, withRS(signature, 2n ** 256n - 1n, 2n ** 256n - 1n)],
          [otherKey, message, signature],
          [prefix4, message, signature],
          [randomX, message, signature],
          [xPlusP, message, signature],
          [Uint8Array.of(0, ...publicKey.subarray(1)), message, signature],
        ];
        for (const [key, m, sig] of cases) {
          let ours: boolean;
          try {
            ours = verify(key, m, sig);
          } catch {
            return false; // never a throw on a bad key or signature
          }
          if (ours !== nobleVerify(key, m, sig)) return false;
          checked++;
        }
        // And the expected verdicts themselves, so that agreement is not agreement on nonsense.
        return verify(publicKey, message, signature) && verify(keyView, messageView, signature) && !verify(publicKey, message, withRS(signature, undefined, N - s));
      },
    ),
    { numRuns: 60 },
  );
  t.true(checked >= 60 * 19);
});

test('verify agrees with noble on random bytes posing as keys and signatures', (t) => {
  const g = hex('0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798');
  fc.assert(
    fc.property(
      fc.oneof(fc.uint8Array({ minLength: 33, maxLength: 33 }), fc.constant(g), fc.uint8Array({ minLength: 32, maxLength: 34 })),
      fc.uint8Array({ maxLength: 40 }),
      fc.oneof(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.uint8Array({ maxLength: 66 })),
      (publicKey, message, signature) => {
        const ours = verify(publicKey, message, signature);
        return typeof ours === 'boolean' && ours === nobleVerify(publicKey, message, signature);
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});

test('verify stays correct through many more distinct keys than its key cache holds', (t) => {
  // 700 keys against a cache of 256: each one is parsed, cached, evicted and parsed again.
  const message = new TextEncoder().encode('cache churn');
  const keys = Array.from({ length: 700 }, (_, i) => {
    const secretKey = scalar(BigInt(i) * 0x9e3779b97f4a7c15n + 1n);
    return { publicKey: publicKeyOf(secretKey), signature: sign(secretKey, message) };
  });
  let mismatches = 0;
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < keys.length; i++) {
      const { publicKey, signature } = keys[i]!;
      if (!verify(publicKey, message, signature)) mismatches++;
      if (verify(keys[(i + 1) % keys.length]!.publicKey, message, signature)) mismatches++; // a cached neighbour's key
    }
  }
  // Invalid keys are refused every time, however often they are presented (never cached as valid).
  const offCurve = hex('02' + '00'.repeat(31) + '05');
  for (let i = 0; i < 300; i++) if (verify(offCurve, message, keys[0]!.signature)) mismatches++;
  // A key array reused for another key must not be served the old parse (the cache is keyed by content).
  const reused = Uint8Array.from(keys[0]!.publicKey);
  t.true(verify(reused, message, keys[0]!.signature));
  reused.set(keys[1]!.publicKey);
  t.false(verify(reused, message, keys[0]!.signature));
  t.true(verify(reused, message, keys[1]!.signature));
  t.is(mismatches, 0);
});

test('toHex and shortId validate their input', (t) => {
  t.is(toHex(new Uint8Array([0, 1, 0xab, 0xff])), '0001abff');
  t.is(toHex(new Uint8Array(4).subarray(1, 3)), '0000');
  t.true(isCode('BAD_ARGUMENT')(t.throws(() => toHex('ab' as unknown as Uint8Array))));
  t.true(isCode('BAD_ARGUMENT')(t.throws(() => shortId(new Uint8Array(31)))));
});
