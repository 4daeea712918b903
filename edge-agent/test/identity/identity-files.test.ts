import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock/index.js';
import {
  IdentityError,
  Keystore,
  KeystoreError,
  createIdentity,
  generateKeyPair,
  loadIdentity,
  publicKeyOf,
  solvePow,
  toHex,
  verify,
  verifyPow,
  type ScryptParams,
} from '../../src/identity/index.js';

const FAST: ScryptParams = { logN: 8, r: 8, p: 1 };
const DIFFICULTY = 4;
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const isCode = (code: string) => (err: unknown) => (err instanceof IdentityError || err instanceof KeystoreError) && err.code === code;

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-agent-identity-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function readRecord(dir: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(dir, 'identity.json'), 'utf8')) as Record<string, unknown>;
}

async function writeRecord(dir: string, record: Record<string, unknown>): Promise<void> {
  await writeFile(join(dir, 'identity.json'), JSON.stringify(record));
}

test('createIdentity writes identity.json and the keystore; loadIdentity reads the same identity back', async (t) => {
  const dir = await tempDir(t);
  const clock = new ManualClock(Date.UTC(2025, 0, 2, 3, 4, 5));
  const created = await createIdentity(dir, { difficulty: DIFFICULTY, clock, scrypt: FAST });
  const record = await readRecord(dir);
  t.deepEqual(Object.keys(record).sort(), ['createdAt', 'peerId', 'powDifficulty', 'powNonce', 'publicKey']);
  t.is(record.publicKey, toHex(created.publicKey));
  t.is(record.peerId, createHash('sha256').update(created.publicKey).digest('hex'));
  t.is(record.powNonce, toHex(created.pow.nonce));
  t.is(record.powDifficulty, DIFFICULTY);
  t.is(record.createdAt, '2025-01-02T03:04:05.000Z');
  t.true(verifyPow(created.publicKey, created.pow.nonce, DIFFICULTY));
  t.is((await stat(join(dir, 'keystore.bin'))).mode & 0o777, 0o600);

  const loaded = await loadIdentity(dir);
  t.deepEqual(loaded.publicKey, created.publicKey);
  t.deepEqual(loaded.peerId, created.peerId);
  t.deepEqual(loaded.pow, created.pow);
  const message = utf8('edge-agent/hello');
  t.true(verify(created.publicKey, message, loaded.sign(message)));
  t.deepEqual(loaded.sign(message), created.sign(message)); // same key, deterministic signatures
  created.destroy();
  loaded.destroy();
});

test('the keystore holds the secret key under "identity"', async (t) => {
  const dir = await tempDir(t);
  const identity = await createIdentity(dir, { difficulty: DIFFICULTY, scrypt: FAST });
  const ks = await Keystore.open(dir);
  t.deepEqual(ks.names(), ['identity']);
  t.is(ks.get('identity')!.length, 32);
  ks.close();
  identity.destroy();
});

test('a second createIdentity is refused with EXISTS and changes nothing', async (t) => {
  const dir = await tempDir(t);
  (await createIdentity(dir, { difficulty: DIFFICULTY, scrypt: FAST })).destroy();
  const before = await readFile(join(dir, 'identity.json'));
  const err = await t.throwsAsync(createIdentity(dir, { difficulty: DIFFICULTY, scrypt: FAST }));
  t.true(isCode('EXISTS')(err));
  t.true(err!.message.includes(join(dir, 'identity.json')));
  t.deepEqual(await readFile(join(dir, 'identity.json')), before);
});

test('a keystore that already holds an identity key is not overwritten either', async (t) => {
  const dir = await tempDir(t);
  const ks = await Keystore.open(dir, { create: true, scrypt: FAST });
  await ks.set('identity', new Uint8Array(32).fill(1));
  ks.close();
  t.true(isCode('EXISTS')(await t.throwsAsync(createIdentity(dir, { difficulty: DIFFICULTY, scrypt: FAST }))));
});

test('a passphrase is needed to load an identity created with one', async (t) => {
  const dir = await tempDir(t);
  (await createIdentity(dir, { difficulty: DIFFICULTY, passphrase: utf8('pw'), scrypt: FAST })).destroy();
  t.true(isCode('WRONG_KEY')(await t.throwsAsync(loadIdentity(dir))));
  t.true(isCode('WRONG_KEY')(await t.throwsAsync(loadIdentity(dir, { passphrase: utf8('pW') }))));
  (await loadIdentity(dir, { passphrase: utf8('pw') })).destroy();
  t.pass();
});

test('an aborted creation leaves nothing behind', async (t) => {
  const dir = await tempDir(t);
  const controller = new AbortController();
  controller.abort();
  t.true(isCode('ABORTED')(await t.throwsAsync(createIdentity(dir, { difficulty: 30, signal: controller.signal, scrypt: FAST }))));
  t.true(isCode('NOT_FOUND')(await t.throwsAsync(loadIdentity(dir))));
  t.true(isCode('NOT_FOUND')(await t.throwsAsync(Keystore.open(dir))));
});

test('createIdentity validates its arguments', async (t) => {
  const dir = await tempDir(t);
  t.true(isCode('BAD_ARGUMENT')(await t.throwsAsync(createIdentity('', { difficulty: 1 }))));
  t.true(isCode('BAD_ARGUMENT')(await t.throwsAsync(createIdentity(dir, undefined as unknown as { difficulty: number }))));
  t.true(isCode('BAD_ARGUMENT')(await t.throwsAsync(createIdentity(dir, { difficulty: -1, scrypt: FAST }))));
  t.true(isCode('BAD_ARGUMENT')(await t.throwsAsync(createIdentity(dir, { difficulty: 1, clock: {} as ManualClock }))));
});

test('a missing identity is NOT_FOUND; so is a keystore without the identity key', async (t) => {
  const dir = await tempDir(t);
  const err = await t.throwsAsync(loadIdentity(dir));
  t.true(isCode('NOT_FOUND')(err));
  t.true(err!.message.includes(join(dir, 'identity.json')));
  (await createIdentity(dir, { difficulty: DIFFICULTY, scrypt: FAST })).destroy();
  const ks = await Keystore.open(dir);
  await ks.delete('identity');
  ks.close();
  t.true(isCode('NOT_FOUND')(await t.throwsAsync(loadIdentity(dir))));
});

test('a malformed identity.json is CORRUPT, naming the file', async (t) => {
  const dir = await tempDir(t);
  (await createIdentity(dir, { difficulty: DIFFICULTY, scrypt: FAST })).destroy();
  const good = await readRecord(dir);
  const variants: [string, string | Record<string, unknown>][] = [
    ['not JSON', '{"publicKey": '],
    ['an array', '[]'],
    ['extra field', { ...good, extra: 1 }],
    ['missing field', { ...good, createdAt: undefined }],
    ['uppercase hex', { ...good, publicKey: (good.publicKey as string).toUpperCase() }],
    ['bad date', { ...good, createdAt: 'yesterday' }],
    ['difficulty out of range', { ...good, powDifficulty: 257 }],
    ['peer id of another key', { ...good, peerId: '00'.repeat(32) }],
    ['public key off the curve', { ...good, publicKey: `02${'00'.repeat(31)}05` }],
    ['oversized', ' '.repeat(5000)],
  ];
  for (const [what, content] of variants) {
    await writeFile(join(dir, 'identity.json'), typeof content === 'string' ? content : JSON.stringify(content));
    const err = await t.throwsAsync(loadIdentity(dir));
    t.true(isCode('CORRUPT')(err), what);
    t.true(err!.message.includes(join(dir, 'identity.json')), what);
  }
});

test('a proof of work that does not reach its stated difficulty is BAD_POW', async (t) => {
  const dir = await tempDir(t);
  (await createIdentity(dir, { difficulty: DIFFICULTY, scrypt: FAST })).destroy();
  await writeRecord(dir, { ...(await readRecord(dir)), powDifficulty: 256 });
  const err = await t.throwsAsync(loadIdentity(dir));
  t.true(isCode('BAD_POW')(err));
  t.true(err!.message.includes(join(dir, 'identity.json')));
});

test('a public key that is not the stored secret key’s is KEY_MISMATCH', async (t) => {
  const dir = await tempDir(t);
  (await createIdentity(dir, { difficulty: DIFFICULTY, scrypt: FAST })).destroy();
  const other = generateKeyPair();
  const nonce = await solvePow(other.publicKey, DIFFICULTY);
  await writeRecord(dir, {
    ...(await readRecord(dir)),
    publicKey: toHex(other.publicKey),
    peerId: createHash('sha256').update(other.publicKey).digest('hex'),
    powNonce: toHex(nonce),
  });
  const err = await t.throwsAsync(loadIdentity(dir));
  t.true(isCode('KEY_MISMATCH')(err));
  t.true(err!.message.includes(join(dir, 'identity.json')));
});

test('an invalid secret key in the keystore is CORRUPT', async (t) => {
  const dir = await tempDir(t);
  (await createIdentity(dir, { difficulty: DIFFICULTY, scrypt: FAST })).destroy();
  const ks = await Keystore.open(dir, { scrypt: FAST });
  await ks.set('identity', new Uint8Array(32)); // zero is not a valid scalar
  ks.close();
  t.true(isCode('CORRUPT')(await t.throwsAsync(loadIdentity(dir))));
});

test('the exposed keys are copies; destroy() stops signing', async (t) => {
  const dir = await tempDir(t);
  const identity = await createIdentity(dir, { difficulty: DIFFICULTY, scrypt: FAST });
  const publicKey = identity.publicKey;
  identity.publicKey.fill(0);
  identity.peerId.fill(0);
  identity.pow.nonce.fill(0);
  t.deepEqual(identity.publicKey, publicKey);
  t.true(verifyPow(identity.publicKey, identity.pow.nonce, DIFFICULTY));
  const secret = identity.secretKeyCopy();
  t.deepEqual(publicKeyOf(secret), publicKey, 'the copy is the secret key of this identity');
  secret.fill(0);
  t.deepEqual(publicKeyOf(identity.secretKeyCopy()), publicKey, 'wiping the copy leaves the identity intact');
  identity.destroy();
  identity.destroy();
  t.true(isCode('DESTROYED')(t.throws(() => identity.sign(utf8('x')))));
  t.true(isCode('DESTROYED')(t.throws(() => identity.secretKeyCopy())));
});

test.serial('destroy() zeroes the secret key it held', async (t) => {
  const dir = await tempDir(t);
  const identity = await createIdentity(dir, { difficulty: DIFFICULTY, scrypt: FAST });
  const ks = await Keystore.open(dir);
  const secretKey = ks.get('identity')!;
  ks.close();
  // Observe the wipe: record fill(0) calls with what the array held just before.
  const seen: { before: Uint8Array; buffer: Uint8Array }[] = [];
  const inherited = Object.getPrototypeOf(Uint8Array.prototype).fill as (this: Uint8Array, ...args: unknown[]) => Uint8Array;
  Object.defineProperty(Uint8Array.prototype, 'fill', {
    configurable: true,
    writable: true,
    value(this: Uint8Array, ...args: unknown[]) {
      if (args[0] === 0) seen.push({ before: Uint8Array.from(this), buffer: this });
      return inherited.apply(this, args);
    },
  });
  try {
    identity.destroy();
  } finally {
    delete (Uint8Array.prototype as { fill?: unknown }).fill;
  }
  const wiped = seen.find((w) => Buffer.from(w.before).equals(secretKey));
  t.truthy(wiped);
  t.true(wiped!.buffer.every((b) => b === 0));
});
