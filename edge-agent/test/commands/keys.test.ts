import test from 'ava';
import { generateKeyPair, toHex } from '../../src/identity/index.js';
import {
  CommandError,
  operatorPublicKey,
  parseOperatorKey,
  verifyOperatorSignature,
} from '../../src/commands/index.js';
import { hex } from './helpers.js';

const isCode = (code: string) => (err: unknown) => err instanceof CommandError && err.code === code;

// RFC 8032, section 7.1, TEST 1: an empty message.
const RFC_SECRET = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const RFC_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const RFC_SIG =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';

test('RFC 8032 test 1 verifies through parseOperatorKey as an Ed25519 key', (t) => {
  const key = parseOperatorKey(RFC_PUBLIC);
  t.is(key.algorithm, 'ed25519');
  t.is(key.id, RFC_PUBLIC);
  t.true(verifyOperatorSignature(key, new Uint8Array(0), hex(RFC_SIG)));
  // One flipped bit anywhere in the signature, or a non-empty message, and it fails.
  for (const bit of [0, 7, 255, 256, 511]) {
    const sig = hex(RFC_SIG);
    sig[bit >> 3]! ^= 1 << (bit & 7);
    t.false(verifyOperatorSignature(key, new Uint8Array(0), sig), `bit ${bit}`);
  }
  t.false(verifyOperatorSignature(key, new Uint8Array(1), hex(RFC_SIG)));
});

test('the RFC 8032 test 1 secret key gives its public key', (t) => {
  t.is(toHex(operatorPublicKey('ed25519', hex(RFC_SECRET))), RFC_PUBLIC);
});

test('a secp256k1 key is told apart by its length and checked as ECDSA', (t) => {
  const { publicKey } = generateKeyPair();
  const key = parseOperatorKey(toHex(publicKey));
  t.is(key.algorithm, 'secp256k1');
  t.deepEqual(key.publicKey, publicKey);
  // The Ed25519 signature means nothing under a secp256k1 key, even of the right length.
  t.false(verifyOperatorSignature(key, new Uint8Array(0), hex(RFC_SIG)));
});

test('uppercase hex is accepted and the id is lowercase', (t) => {
  t.is(parseOperatorKey(RFC_PUBLIC.toUpperCase()).id, RFC_PUBLIC);
});

test('keys of the wrong length, not hex, or not valid points are refused with BAD_KEY', (t) => {
  const bad = [
    '',
    'zz',
    RFC_PUBLIC.slice(2),
    RFC_PUBLIC + '00',
    RFC_PUBLIC.replace('d', 'g'),
    // 33 bytes, but 0x05 is no compressed-point prefix.
    '05' + '11'.repeat(32),
    // 33 bytes with a valid prefix, but x = 5 is not on secp256k1 (x^3 + 7 = 132 is no square mod p).
    '02' + '00'.repeat(31) + '05',
    // The Ed25519 identity point and the point of order 2: small order, one signature fits many messages.
    '01' + '00'.repeat(31),
    'ec' + 'ff'.repeat(30) + '7f',
    // y = p (not canonical).
    'ed' + 'ff'.repeat(30) + '7f',
  ];
  for (const s of bad) t.throws(() => parseOperatorKey(s), { instanceOf: CommandError, code: 'BAD_KEY' }, s);
  t.throws(() => parseOperatorKey(42 as unknown as string), { instanceOf: CommandError, code: 'BAD_KEY' });
});

test('verifyOperatorSignature treats a signature of the wrong length as invalid, never a throw', (t) => {
  const key = parseOperatorKey(RFC_PUBLIC);
  t.false(verifyOperatorSignature(key, new Uint8Array(0), hex(RFC_SIG).subarray(0, 63)));
  t.false(verifyOperatorSignature(key, new Uint8Array(0), new Uint8Array(0)));
  t.false(verifyOperatorSignature(key, new Uint8Array(0), new Uint8Array(64)));
});

test('operatorPublicKey refuses secret keys of the wrong length or out of range', (t) => {
  t.true(isCode('BAD_KEY')(t.throws(() => operatorPublicKey('ed25519', new Uint8Array(31)))));
  t.true(isCode('BAD_KEY')(t.throws(() => operatorPublicKey('secp256k1', new Uint8Array(32)))));
});
