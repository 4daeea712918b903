/** What a liveness answer signs, and that it binds challenger, responder, nonce and key. */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { generateKeyPair, peerIdOf } from '../../src/identity/index.js';
import { LIVENESS_DOMAIN, LivenessError, answerBytes, signAnswer, verifyAnswer } from '../../src/liveness/index.js';

const responder = generateKeyPair();
const responderId = peerIdOf(responder.publicKey);
const challengerId = peerIdOf(generateKeyPair().publicKey);
const nonce = Uint8Array.from(randomBytes(32));

test('the signed bytes are the domain, both peer ids and the nonce', (t) => {
  const bytes = answerBytes(challengerId, responderId, nonce);
  const domain = Buffer.from(LIVENESS_DOMAIN, 'latin1');
  t.is(domain.length, 23);
  t.is(domain.at(-1), 0);
  t.deepEqual(bytes, Uint8Array.from(Buffer.concat([domain, challengerId, responderId, nonce])));
});

test('a signed answer verifies under the responder key', (t) => {
  const signature = signAnswer(responder.secretKey, challengerId, responderId, nonce);
  t.is(signature.length, 64);
  t.true(verifyAnswer(responder.publicKey, challengerId, responderId, nonce, signature));
});

test('the wrong challenger, responder, nonce, key or a changed signature fails', (t) => {
  const signature = signAnswer(responder.secretKey, challengerId, responderId, nonce);
  const other = generateKeyPair();
  const flip = (b: Uint8Array, i = 0) => {
    const c = Uint8Array.from(b);
    c[i]! ^= 1;
    return c;
  };
  t.false(verifyAnswer(responder.publicKey, flip(challengerId), responderId, nonce, signature), 'an answer made for another challenger');
  t.false(verifyAnswer(responder.publicKey, challengerId, flip(responderId), nonce, signature), 'an answer relayed as if from another peer');
  t.false(verifyAnswer(other.publicKey, challengerId, responderId, nonce, signature), 'checked under another key');
  t.false(verifyAnswer(responder.publicKey, challengerId, responderId, flip(nonce, 31), signature), 'an old nonce');
  t.false(verifyAnswer(responder.publicKey, challengerId, responderId, nonce, flip(signature, 40)));
  // Ids swapped: the challenger's role is part of what was signed.
  const swapped = signAnswer(responder.secretKey, responderId, challengerId, nonce);
  t.false(verifyAnswer(responder.publicKey, challengerId, responderId, nonce, swapped));
});

test('malformed keys and signatures from the network are false, not errors', (t) => {
  const signature = signAnswer(responder.secretKey, challengerId, responderId, nonce);
  t.false(verifyAnswer(new Uint8Array(33), challengerId, responderId, nonce, signature));
  t.false(verifyAnswer(responder.publicKey.subarray(1), challengerId, responderId, nonce, signature));
  t.false(verifyAnswer(responder.publicKey, challengerId, responderId, nonce, signature.subarray(0, 63)));
  t.false(verifyAnswer(responder.publicKey, challengerId, responderId, nonce, new Uint8Array(64)));
  t.false(verifyAnswer(responder.publicKey, challengerId, responderId, nonce, 'sig' as never));
});

test('our own inputs are validated', (t) => {
  const bad = (fn: () => unknown) => t.throws(fn, { instanceOf: LivenessError, code: 'BAD_ARGUMENT' });
  bad(() => signAnswer(new Uint8Array(32), challengerId, responderId, nonce));
  bad(() => signAnswer(responder.secretKey.subarray(1), challengerId, responderId, nonce));
  bad(() => signAnswer(responder.secretKey, challengerId.subarray(1), responderId, nonce));
  bad(() => signAnswer(responder.secretKey, challengerId, responderId, new Uint8Array(16)));
  bad(() => verifyAnswer(responder.publicKey, challengerId, 'id' as never, nonce, new Uint8Array(64)));
  bad(() => answerBytes(challengerId, responderId, new Uint8Array(33)));
});
