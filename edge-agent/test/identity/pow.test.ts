import test from 'ava';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import {
  DEFAULT_POW_DIFFICULTY,
  IdentityError,
  MAX_POW_DIFFICULTY,
  difficultyForSeconds,
  expectedPowSeconds,
  generateKeyPair,
  leadingZeroBits,
  measureHashRate,
  solvePow,
  verifyPow,
} from '../../src/identity/index.js';

const isCode = (code: string) => (err: unknown) => err instanceof IdentityError && err.code === code;

/** Leading zero bits, counted the slow and obvious way: as a string of bits. */
function zerosOf(bytes: Uint8Array): number {
  const bits = [...bytes].map((b) => b.toString(2).padStart(8, '0')).join('');
  const first = bits.indexOf('1');
  return first === -1 ? bits.length : first;
}

function powZeros(publicKey: Uint8Array, nonce: Uint8Array): number {
  return zerosOf(createHash('sha256').update(publicKey).update(nonce).digest());
}

test('leadingZeroBits edge cases', (t) => {
  t.is(leadingZeroBits(new Uint8Array(0)), 0);
  t.is(leadingZeroBits(Uint8Array.of(0xff)), 0);
  t.is(leadingZeroBits(Uint8Array.of(0x80)), 0);
  t.is(leadingZeroBits(Uint8Array.of(0x7f)), 1);
  t.is(leadingZeroBits(Uint8Array.of(0x01)), 7);
  t.is(leadingZeroBits(Uint8Array.of(0x00)), 8);
  t.is(leadingZeroBits(Uint8Array.of(0, 0x80)), 8);
  t.is(leadingZeroBits(Uint8Array.of(0, 0x40, 0)), 9);
  t.is(leadingZeroBits(Uint8Array.of(0, 0, 0, 1)), 31);
  t.is(leadingZeroBits(new Uint8Array(32)), 256);
  t.true(isCode('BAD_ARGUMENT')(t.throws(() => leadingZeroBits([0, 0] as unknown as Uint8Array))));
});

test('leadingZeroBits agrees with counting bits as text', (t) => {
  // Bias toward zero bytes so that long zero runs actually occur.
  const byte = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 }));
  fc.assert(fc.property(fc.array(byte, { maxLength: 40 }), (xs) => leadingZeroBits(Uint8Array.from(xs)) === zerosOf(Uint8Array.from(xs))));
  t.pass();
});

test('a solved proof verifies, and meets its difficulty when recomputed independently', async (t) => {
  for (const difficulty of [0, 1, 7, 8, 9, 12]) {
    const { publicKey } = generateKeyPair();
    const nonce = await solvePow(publicKey, difficulty);
    t.is(nonce.length, 8);
    t.true(verifyPow(publicKey, nonce, difficulty));
    t.true(powZeros(publicKey, nonce) >= difficulty);
  }
});

test('a higher difficulty than the proof reaches fails', async (t) => {
  const { publicKey } = generateKeyPair();
  const nonce = await solvePow(publicKey, 8);
  const reached = powZeros(publicKey, nonce);
  t.true(verifyPow(publicKey, nonce, reached));
  t.false(verifyPow(publicKey, nonce, reached + 1));
});

test('verifyPow is exactly "hash of key ‖ nonce has enough zeros" for any key, nonce and difficulty', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 33, maxLength: 33 }), fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.integer({ min: 0, max: 6 }), (pk, nonce, d) => {
      return verifyPow(pk, nonce, d) === powZeros(pk, nonce) >= d;
    }),
    { numRuns: 500 },
  );
  t.pass();
});

test('a wrong nonce or a wrong key fails', async (t) => {
  const difficulty = 10;
  const { publicKey } = generateKeyPair();
  const nonce = await solvePow(publicKey, difficulty);
  // Walk single-bit changes until one lands below the difficulty (almost always the first).
  let checked = 0;
  for (let bit = 0; bit < 64; bit++) {
    const wrong = Uint8Array.from(nonce);
    wrong[bit >> 3]! ^= 1 << (bit & 7);
    t.is(verifyPow(publicKey, wrong, difficulty), powZeros(publicKey, wrong) >= difficulty);
    if (powZeros(publicKey, wrong) < difficulty) checked++;
  }
  t.true(checked > 0);
  let keysChecked = 0;
  for (let i = 0; i < 8; i++) {
    const other = generateKeyPair().publicKey;
    t.is(verifyPow(other, nonce, difficulty), powZeros(other, nonce) >= difficulty);
    if (powZeros(other, nonce) < difficulty) keysChecked++;
  }
  t.true(keysChecked > 0);
});

test('verifyPow: malformed key or nonce is false, a bad difficulty throws', (t) => {
  const { publicKey } = generateKeyPair();
  const nonce = new Uint8Array(8);
  t.true(verifyPow(publicKey, nonce, 0));
  t.false(verifyPow(publicKey.subarray(1), nonce, 0));
  t.false(verifyPow(publicKey, new Uint8Array(7), 0));
  t.false(verifyPow('key' as unknown as Uint8Array, nonce, 0));
  for (const bad of [-1, MAX_POW_DIFFICULTY + 1, 1.5, Number.NaN, '3' as unknown as number]) {
    t.true(isCode('BAD_ARGUMENT')(t.throws(() => verifyPow(publicKey, nonce, bad))));
  }
});

test('solvePow validates its arguments', async (t) => {
  const { publicKey } = generateKeyPair();
  t.true(isCode('BAD_PUBLIC_KEY')(await t.throwsAsync(solvePow(new Uint8Array(33), 1))));
  t.true(isCode('BAD_ARGUMENT')(await t.throwsAsync(solvePow(publicKey, 257))));
  t.true(isCode('BAD_ARGUMENT')(await t.throwsAsync(solvePow(publicKey, 1, { onProgress: 5 as unknown as () => void }))));
  t.true(isCode('BAD_ARGUMENT')(await t.throwsAsync(solvePow(publicKey, 1, { signal: {} as AbortSignal }))));
});

test('an already aborted signal rejects at once with ABORTED', async (t) => {
  const { publicKey } = generateKeyPair();
  const controller = new AbortController();
  controller.abort(new Error('user pressed Ctrl-C'));
  const err = await t.throwsAsync(solvePow(publicKey, 1, { signal: controller.signal }));
  t.true(isCode('ABORTED')(err));
  t.is((err as Error & { cause?: Error }).cause?.message, 'user pressed Ctrl-C');
});

test('aborting a running search rejects with ABORTED; progress was reported meanwhile', async (t) => {
  const { publicKey } = generateKeyPair();
  const controller = new AbortController();
  const reports: [number, number][] = [];
  const search = solvePow(publicKey, 200, {
    signal: controller.signal,
    onProgress: (attempts, rate) => {
      reports.push([attempts, rate]);
      if (reports.length === 2) controller.abort();
    },
  });
  t.true(isCode('ABORTED')(await t.throwsAsync(search)));
  t.is(reports.length, 2);
  t.true(reports[0]![0] > 0 && reports[1]![0] > reports[0]![0]);
  t.true(reports.every(([, rate]) => Number.isFinite(rate) && rate > 0));
});

test('the search yields to the event loop while it runs', async (t) => {
  const { publicKey } = generateKeyPair();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 20); // only fires if the loop yields
  t.true(isCode('ABORTED')(await t.throwsAsync(solvePow(publicKey, 200, { signal: controller.signal }))));
  clearTimeout(timer);
});

test('onProgress is called once more on success with the final count', async (t) => {
  const { publicKey } = generateKeyPair();
  let last = 0;
  await solvePow(publicKey, 6, { onProgress: (attempts) => (last = attempts) });
  t.true(last >= 1);
});

test('expected seconds and difficulty for seconds are inverse on a log scale', (t) => {
  t.is(expectedPowSeconds(10, 1024), 1);
  t.is(expectedPowSeconds(0, 4), 0.25);
  t.is(difficultyForSeconds(1, 2 ** 17), 17);
  t.is(difficultyForSeconds(1, 2 ** 17 * 1.4), 17); // 17.49 rounds down
  t.is(difficultyForSeconds(1, 2 ** 17 * 1.5), 18); // 17.58 rounds up
  t.is(difficultyForSeconds(0.001, 10), 0);
  t.is(difficultyForSeconds(1e300, 1e300), MAX_POW_DIFFICULTY);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 200 }), fc.double({ min: 1, max: 1e9, noNaN: true }), (d, rate) => {
      return difficultyForSeconds(expectedPowSeconds(d, rate), rate) === d;
    }),
  );
  for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    t.true(isCode('BAD_ARGUMENT')(t.throws(() => expectedPowSeconds(10, bad))));
    t.true(isCode('BAD_ARGUMENT')(t.throws(() => difficultyForSeconds(bad, 1000))));
  }
});

test('measureHashRate returns a positive rate and validates its argument', (t) => {
  const rate = measureHashRate(5);
  t.true(Number.isFinite(rate) && rate > 0);
  for (const bad of [0, -5, Number.NaN, 60_001]) t.true(isCode('BAD_ARGUMENT')(t.throws(() => measureHashRate(bad))));
});

test('DEFAULT_POW_DIFFICULTY is a sane integer', (t) => {
  t.true(Number.isInteger(DEFAULT_POW_DIFFICULTY));
  t.true(DEFAULT_POW_DIFFICULTY >= 12 && DEFAULT_POW_DIFFICULTY <= 24);
});
