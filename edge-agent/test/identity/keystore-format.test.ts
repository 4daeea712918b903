import test from 'ava';
import fc from 'fast-check';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeystoreError, Keystore, type ScryptParams } from '../../src/identity/index.js';

const FAST: ScryptParams = { logN: 8, r: 8, p: 1 };
const passphrase = new TextEncoder().encode('tamper test');

// Byte ranges of format version 1 (see keystore-format.ts).
const MAGIC_END = 4;
const VERSION = 4;
const PARAMS_END = 8;
const CHECK_END = 72;

async function sealedStore(t: { teardown(fn: () => Promise<void>): void }): Promise<{ dir: string; file: string; bytes: Buffer }> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-agent-keystore-format-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const ks = await Keystore.open(dir, { create: true, passphrase, scrypt: FAST });
  await ks.set('identity', new Uint8Array(32).fill(0x11));
  await ks.set('other', new Uint8Array(5).fill(0x22));
  ks.close();
  const file = join(dir, 'keystore.bin');
  return { dir, file, bytes: await readFile(file) };
}

/** The KeystoreError code opening `bytes` gives; fails the test on success or on any other kind of error. */
async function openCode(dir: string, file: string, bytes: Uint8Array): Promise<string> {
  await writeFile(file, bytes);
  try {
    (await Keystore.open(dir, { passphrase })).close();
  } catch (err) {
    if (err instanceof KeystoreError && err.message.includes(file)) return err.code;
    throw err;
  }
  throw new Error(`opened a damaged keystore (${bytes.length} bytes)`);
}

function expectedForFlip(at: number): string[] {
  if (at < MAGIC_END) return ['NOT_A_KEYSTORE'];
  if (at === VERSION) return ['UNSUPPORTED_VERSION'];
  if (at < PARAMS_END) return ['WRONG_KEY', 'TAMPERED']; // other cost: other key; out of bounds: refused
  if (at < CHECK_END) return ['WRONG_KEY']; // salt, nonce, length and the check value itself
  return ['TAMPERED']; // ciphertext and tag
}

test('every single-byte change (low and high bit) is detected with the right code, never opened', async (t) => {
  const { dir, file, bytes } = await sealedStore(t);
  const seen = new Set<string>();
  for (let at = 0; at < bytes.length; at++) {
    for (const mask of [0x01, 0x80]) {
      const damaged = Buffer.from(bytes);
      damaged[at]! ^= mask;
      const code = await openCode(dir, file, damaged);
      seen.add(code);
      if (!expectedForFlip(at).includes(code)) t.fail(`byte ${at} ^ 0x${mask.toString(16)} gave ${code}`);
    }
  }
  t.deepEqual([...seen].sort(), ['NOT_A_KEYSTORE', 'TAMPERED', 'UNSUPPORTED_VERSION', 'WRONG_KEY']);
  // The undamaged file still opens.
  await writeFile(file, bytes);
  (await Keystore.open(dir, { passphrase })).close();
});

test('every truncation is TRUNCATED', async (t) => {
  const { dir, file, bytes } = await sealedStore(t);
  for (let length = 0; length < bytes.length; length++) {
    const code = await openCode(dir, file, bytes.subarray(0, length));
    if (code !== 'TRUNCATED') t.fail(`cut at ${length} gave ${code}`);
  }
  t.pass();
});

test('trailing bytes are TAMPERED', async (t) => {
  const { dir, file, bytes } = await sealedStore(t);
  t.is(await openCode(dir, file, Buffer.concat([bytes, Uint8Array.of(0)])), 'TAMPERED');
});

test('a file from elsewhere is NOT_A_KEYSTORE; a future version is UNSUPPORTED_VERSION', async (t) => {
  const { dir, file, bytes } = await sealedStore(t);
  t.is(await openCode(dir, file, Buffer.from('{"secrets": {}}\n')), 'NOT_A_KEYSTORE');
  const future = Buffer.from(bytes);
  future[VERSION] = 2;
  t.is(await openCode(dir, file, future), 'UNSUPPORTED_VERSION');
  const err = await t.throwsAsync(Keystore.open(dir, { passphrase }));
  t.regex(err!.message, /version 2/);
});

test('an oversized file is refused before it is read', async (t) => {
  const { dir, file } = await sealedStore(t);
  t.is(await openCode(dir, file, new Uint8Array(3 * 1024 * 1024)), 'TOO_LARGE');
});

test('arbitrary bytes, or arbitrary bytes behind a valid header, only ever give a KeystoreError', async (t) => {
  const { dir, file, bytes } = await sealedStore(t);
  await fc.assert(
    fc.asyncProperty(fc.boolean(), fc.uint8Array({ maxLength: 200 }), async (keepHeader, tail) => {
      const candidate = keepHeader ? Buffer.concat([bytes.subarray(0, CHECK_END), tail]) : Buffer.from(tail);
      return typeof (await openCode(dir, file, candidate)) === 'string';
    }),
    { numRuns: 100 },
  );
  t.pass();
});

test('header fields sit where the format says', async (t) => {
  const { bytes } = await sealedStore(t);
  t.is(bytes.subarray(0, MAGIC_END).toString('latin1'), 'EAKS');
  t.is(bytes[VERSION], 1);
  t.deepEqual([...bytes.subarray(5, PARAMS_END)], [FAST.logN, FAST.r, FAST.p]);
  t.is(bytes.readUInt32BE(36), bytes.length - CHECK_END - 16);
});
