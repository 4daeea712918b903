import test from 'ava';
import { CERTIFIED_SIGNATURE_BYTES, ConsensusError, ConsensusKey, certifiedVerifier } from '../../src/consensus/index.js';
import { generateKeyPair } from '../../src/identity/index.js';

const group = new Uint8Array(16).fill(7);
const otherGroup = new Uint8Array(16).fill(8);
const msg = new TextEncoder().encode('pre-prepare bytes');

test('a derived key is the same after a restart, and its signatures carry their certificate', (t) => {
  const id = generateKeyPair();
  const a = ConsensusKey.derive(id.secretKey, group, 'replica', 3);
  const b = ConsensusKey.derive(id.secretKey, group, 'replica', 3);
  t.deepEqual(a.publicKey, b.publicKey);
  t.notDeepEqual(ConsensusKey.derive(id.secretKey, group, 'replica', 4).publicKey, a.publicKey, 'another number, another key');
  t.notDeepEqual(ConsensusKey.derive(id.secretKey, group, 'client', 3).publicKey, a.publicKey, 'another role, another key');
  t.notDeepEqual(ConsensusKey.derive(id.secretKey, otherGroup, 'replica', 3).publicKey, a.publicKey, 'another group, another key');
  const sig = a.sign(msg);
  t.is(sig.length, CERTIFIED_SIGNATURE_BYTES);
  const verify = certifiedVerifier(group, 'replica', new Map([[3, id.publicKey]]));
  t.true(verify(3, msg, sig));
  t.true(verify(3, msg, b.sign(msg)), 'the restarted key verifies too');
});

test('a signature fails for another message, number, role, group, identity, or with a tampered part', (t) => {
  const id = generateKeyPair();
  const other = generateKeyPair();
  const key = ConsensusKey.derive(id.secretKey, group, 'replica', 1);
  const sig = key.sign(msg);
  const roster = new Map([
    [1, id.publicKey],
    [2, other.publicKey],
  ]);
  const verify = certifiedVerifier(group, 'replica', roster);
  t.false(verify(1, new Uint8Array([1, 2, 3]), sig), 'another message');
  t.false(verify(2, msg, sig), 'claimed by another number');
  t.false(verify(9, msg, sig), 'a number outside the roster');
  t.false(certifiedVerifier(group, 'client', roster)(1, msg, sig), 'the certificate names the replica role');
  t.false(certifiedVerifier(otherGroup, 'replica', roster)(1, msg, sig), 'the certificate names the group');
  t.false(certifiedVerifier(group, 'replica', new Map([[1, other.publicKey]]))(1, msg, sig), 'certified by another identity');
  // A key certified by nobody: an attacker's own Ed25519 key with the victim's certificate.
  const attacker = ConsensusKey.derive(other.secretKey, group, 'replica', 1);
  const spliced = attacker.sign(msg);
  spliced.set(sig.subarray(32, 96), 32);
  t.false(verify(1, msg, spliced), "another key under the victim's certificate");
  for (const at of [0, 40, 100, CERTIFIED_SIGNATURE_BYTES - 1]) {
    const bad = Uint8Array.from(sig);
    bad[at]! ^= 1;
    t.false(verify(1, msg, bad), `a flipped bit at ${at}`);
  }
  t.false(verify(1, msg, sig.subarray(0, 159)), 'short');
  t.false(verify(1, msg, new Uint8Array(0)), 'empty');
  t.true(verify(1, msg, sig), 'the cache kept nothing wrong');
});

test('bad arguments are typed; a destroyed key refuses to sign', (t) => {
  const id = generateKeyPair();
  const code = (fn: () => unknown): string | undefined => t.throws(fn, { instanceOf: ConsensusError })?.code;
  t.is(code(() => ConsensusKey.derive(new Uint8Array(31), group, 'replica', 0)), 'BAD_ARGUMENT');
  t.is(code(() => ConsensusKey.derive(id.secretKey, new Uint8Array(8), 'replica', 0)), 'BAD_ARGUMENT');
  t.is(code(() => ConsensusKey.derive(id.secretKey, group, 'nobody' as 'replica', 0)), 'BAD_ARGUMENT');
  t.is(code(() => ConsensusKey.derive(id.secretKey, group, 'client', -1)), 'BAD_ARGUMENT');
  t.is(code(() => certifiedVerifier(group, 'replica', {} as Map<number, Uint8Array>)), 'BAD_ARGUMENT');
  const key = ConsensusKey.derive(id.secretKey, group, 'client', 0);
  key.destroy();
  t.is(code(() => key.sign(msg)), 'BAD_STATE');
});
