import test from 'ava';
import fc from 'fast-check';
import { chmod, mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SCRYPT, KeystoreError, Keystore, MAX_SECRETS, MAX_SECRET_BYTES, type ScryptParams } from '../../src/identity/index.js';

// Test-only cost (256 KiB, ~1 ms); the default cost is checked once below.
const FAST: ScryptParams = { logN: 8, r: 8, p: 1 };
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const isCode = (code: string) => (err: unknown) => err instanceof KeystoreError && err.code === code;

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-agent-keystore-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('a new keystore, its device secret and its directory are private to the user', async (t) => {
  const dir = join(await tempDir(t), 'data');
  const ks = await Keystore.open(dir, { create: true, scrypt: FAST });
  ks.close();
  t.is((await stat(join(dir, 'keystore.bin'))).mode & 0o777, 0o600);
  t.is((await stat(join(dir, 'device.secret'))).mode & 0o777, 0o600);
  t.is((await stat(dir)).mode & 0o777, 0o700);
  t.is((await readFile(join(dir, 'device.secret'))).length, 32);
});

test('without create, a missing keystore is NOT_FOUND', async (t) => {
  const dir = await tempDir(t);
  const err = await t.throwsAsync(Keystore.open(dir));
  t.true(isCode('NOT_FOUND')(err));
  t.true(err!.message.includes(join(dir, 'keystore.bin')));
});

test('secrets round-trip through the file', async (t) => {
  const dir = await tempDir(t);
  const passphrase = utf8('correct horse');
  const ks = await Keystore.open(dir, { create: true, passphrase, scrypt: FAST });
  await ks.set('identity', Uint8Array.of(1, 2, 3));
  await ks.set('wifi.psk', utf8('hunter2'));
  await ks.set('empty', new Uint8Array(0));
  await ks.delete('wifi.psk');
  await ks.delete('never-there');
  ks.close();
  const again = await Keystore.open(dir, { passphrase });
  t.deepEqual(again.names(), ['empty', 'identity']);
  t.deepEqual(again.get('identity'), Uint8Array.of(1, 2, 3));
  t.deepEqual(again.get('empty'), new Uint8Array(0));
  t.is(again.get('wifi.psk'), undefined);
  t.true(again.has('identity'));
  t.false(again.has('wifi.psk'));
  again.close();
});

test('any set of valid names and secrets round-trips', async (t) => {
  const dir = await tempDir(t);
  const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
  await fc.assert(
    fc.asyncProperty(fc.dictionary(name, fc.uint8Array({ maxLength: 100 }), { maxKeys: 8 }), async (entries) => {
      await rm(join(dir, 'keystore.bin'), { force: true });
      const ks = await Keystore.open(dir, { create: true, scrypt: FAST });
      for (const [k, v] of Object.entries(entries)) await ks.set(k, v);
      ks.close();
      const again = await Keystore.open(dir);
      const ok = again.names().join() === Object.keys(entries).sort().join() && Object.entries(entries).every(([k, v]) => Buffer.from(again.get(k)!).equals(v));
      again.close();
      return ok;
    }),
    { numRuns: 20 },
  );
  t.pass();
});

test('get returns a copy and set keeps a copy', async (t) => {
  const dir = await tempDir(t);
  const ks = await Keystore.open(dir, { create: true, scrypt: FAST });
  const secret = Uint8Array.of(9, 9, 9);
  await ks.set('k', secret);
  secret.fill(0);
  const got = ks.get('k')!;
  got.fill(1);
  t.deepEqual(ks.get('k'), Uint8Array.of(9, 9, 9));
  ks.close();
});

test('every write uses a fresh salt and nonce', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'keystore.bin');
  const ks = await Keystore.open(dir, { create: true, scrypt: FAST });
  await ks.set('k', Uint8Array.of(7));
  const first = await readFile(file);
  await ks.set('k', Uint8Array.of(7));
  const second = await readFile(file);
  ks.close();
  t.is(first.length, second.length);
  t.false(first.subarray(8, 24).equals(second.subarray(8, 24)), 'salt (bytes 8..23) must differ');
  t.false(first.subarray(24, 36).equals(second.subarray(24, 36)), 'nonce (bytes 24..35) must differ');
  t.false(first.subarray(72).equals(second.subarray(72)), 'ciphertext must differ');
});

test('the default cost is the real one, and it is recorded in the header', async (t) => {
  const dir = await tempDir(t);
  (await Keystore.open(dir, { create: true })).close();
  const header = await readFile(join(dir, 'keystore.bin'));
  t.deepEqual([header[5], header[6], header[7]], [DEFAULT_SCRYPT.logN, DEFAULT_SCRYPT.r, DEFAULT_SCRYPT.p]);
  t.true(DEFAULT_SCRYPT.logN >= 14 && DEFAULT_SCRYPT.r >= 8);
  // The reader takes the cost from the file, whatever the opener would write with.
  (await Keystore.open(dir, { scrypt: FAST })).close();
  t.pass();
});

test('a wrong or missing passphrase is WRONG_KEY, naming the file', async (t) => {
  const dir = await tempDir(t);
  (await Keystore.open(dir, { create: true, passphrase: utf8('right'), scrypt: FAST })).close();
  for (const passphrase of [utf8('wrong'), undefined, utf8('righ'), utf8('right ')]) {
    const err = await t.throwsAsync(Keystore.open(dir, { passphrase }));
    t.true(isCode('WRONG_KEY')(err));
    t.true(err!.message.includes(join(dir, 'keystore.bin')));
  }
});

test('a replaced device secret is WRONG_KEY', async (t) => {
  const dir = await tempDir(t);
  (await Keystore.open(dir, { create: true, scrypt: FAST })).close();
  await writeFile(join(dir, 'device.secret'), new Uint8Array(32).fill(1), { mode: 0o600 });
  t.true(isCode('WRONG_KEY')(await t.throwsAsync(Keystore.open(dir))));
});

test('a deleted device secret is DEVICE_SECRET_MISSING, even with create', async (t) => {
  const dir = await tempDir(t);
  (await Keystore.open(dir, { create: true, scrypt: FAST })).close();
  await unlink(join(dir, 'device.secret'));
  for (const create of [false, true]) {
    const err = await t.throwsAsync(Keystore.open(dir, { create }));
    t.true(isCode('DEVICE_SECRET_MISSING')(err));
    t.true(err!.message.includes(join(dir, 'device.secret')));
  }
});

test('a device secret that group or others can access is refused', async (t) => {
  const dir = await tempDir(t);
  (await Keystore.open(dir, { create: true, scrypt: FAST })).close();
  for (const mode of [0o640, 0o604, 0o660, 0o601]) {
    await chmod(join(dir, 'device.secret'), mode);
    const err = await t.throwsAsync(Keystore.open(dir));
    t.true(isCode('INSECURE_PERMISSIONS')(err));
    t.true(err!.message.includes(join(dir, 'device.secret')));
  }
  await chmod(join(dir, 'device.secret'), 0o400);
  (await Keystore.open(dir)).close();
});

test('a device secret of the wrong size is DEVICE_SECRET_INVALID', async (t) => {
  const dir = await tempDir(t);
  (await Keystore.open(dir, { create: true, scrypt: FAST })).close();
  for (const size of [0, 31, 33]) {
    await writeFile(join(dir, 'device.secret'), new Uint8Array(size), { mode: 0o600 });
    t.true(isCode('DEVICE_SECRET_INVALID')(await t.throwsAsync(Keystore.open(dir))));
  }
});

test('an existing device secret is reused when the keystore is created', async (t) => {
  const dir = await tempDir(t);
  const secret = new Uint8Array(32).fill(0x5a);
  await writeFile(join(dir, 'device.secret'), secret, { mode: 0o600 });
  (await Keystore.open(dir, { create: true, scrypt: FAST })).close();
  t.deepEqual(new Uint8Array(await readFile(join(dir, 'device.secret'))), secret);
  (await Keystore.open(dir)).close();
  t.pass();
});

test('names must be short and printable', async (t) => {
  const dir = await tempDir(t);
  const ks = await Keystore.open(dir, { create: true, scrypt: FAST });
  for (const bad of ['', '__proto__', '.hidden', 'a b', 'é', 'x'.repeat(65), 'tab\t', 'new\nline', 7 as unknown as string]) {
    t.true(isCode('BAD_ARGUMENT')(await t.throwsAsync(ks.set(bad, new Uint8Array(1)))), String(bad));
    t.true(isCode('BAD_ARGUMENT')(t.throws(() => ks.get(bad))));
  }
  fc.assert(
    fc.property(fc.string(), (name) => {
      try {
        ks.has(name);
        return /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name);
      } catch (err) {
        return isCode('BAD_ARGUMENT')(err);
      }
    }),
  );
  await ks.set('x'.repeat(64), new Uint8Array(1));
  ks.close();
});

test('secrets have a size limit and the store a count limit', async (t) => {
  const dir = await tempDir(t);
  const ks = await Keystore.open(dir, { create: true, scrypt: FAST });
  t.true(isCode('BAD_ARGUMENT')(await t.throwsAsync(ks.set('big', new Uint8Array(MAX_SECRET_BYTES + 1)))));
  t.true(isCode('BAD_ARGUMENT')(await t.throwsAsync(ks.set('str', 'abc' as unknown as Uint8Array))));
  await Promise.all(Array.from({ length: MAX_SECRETS }, (_, i) => ks.set(`k${i}`, new Uint8Array(MAX_SECRET_BYTES))));
  t.true(isCode('FULL')(await t.throwsAsync(ks.set('one-more', new Uint8Array(1)))));
  await ks.set('k0', new Uint8Array(2)); // replacing is fine
  ks.close();
  const again = await Keystore.open(dir);
  t.is(again.names().length, MAX_SECRETS);
  again.close();
});

test('concurrent changes all land, in order', async (t) => {
  const dir = await tempDir(t);
  const ks = await Keystore.open(dir, { create: true, scrypt: FAST });
  await Promise.all([...Array.from({ length: 10 }, (_, i) => ks.set(`k${i}`, Uint8Array.of(i))), ks.delete('k3'), ks.set('k4', Uint8Array.of(44))]);
  ks.close();
  const again = await Keystore.open(dir);
  t.deepEqual(again.names(), ['k0', 'k1', 'k2', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9']);
  t.deepEqual(again.get('k4'), Uint8Array.of(44));
  again.close();
});

test('a closed keystore refuses every use', async (t) => {
  const dir = await tempDir(t);
  const ks = await Keystore.open(dir, { create: true, scrypt: FAST });
  const pending = ks.set('k', Uint8Array.of(1));
  ks.close();
  ks.close();
  t.true(isCode('CLOSED')(t.throws(() => ks.get('k'))));
  t.true(isCode('CLOSED')(t.throws(() => ks.names())));
  t.true(isCode('CLOSED')(await t.throwsAsync(ks.set('k', Uint8Array.of(1)))));
  t.true(isCode('CLOSED')(await t.throwsAsync(ks.delete('k'))));
  t.true(isCode('CLOSED')(await t.throwsAsync(pending)));
});

test('bad options are BAD_ARGUMENT', async (t) => {
  const dir = await tempDir(t);
  t.true(isCode('BAD_ARGUMENT')(await t.throwsAsync(Keystore.open(''))));
  t.true(isCode('BAD_ARGUMENT')(await t.throwsAsync(Keystore.open(dir, { passphrase: 'pw' as unknown as Uint8Array }))));
  t.true(isCode('BAD_ARGUMENT')(await t.throwsAsync(Keystore.open(dir, { passphrase: new Uint8Array(1025) }))));
  t.true(isCode('BAD_ARGUMENT')(await t.throwsAsync(Keystore.open(dir, { create: true, scrypt: { logN: 22, r: 8, p: 1 } }))));
  t.true(isCode('BAD_ARGUMENT')(await t.throwsAsync(Keystore.open(dir, { create: true, scrypt: { logN: 8, r: 0, p: 1 } }))));
});

/**
 * Records every fill(0) on a byte array while `fn` runs, with what the array held
 * just before: the way to see, from outside, which buffers close() wiped.
 */
function recordWipes(fn: () => void): { before: Uint8Array; buffer: Uint8Array }[] {
  const seen: { before: Uint8Array; buffer: Uint8Array }[] = [];
  const protos = [Uint8Array.prototype, Buffer.prototype] as const;
  const originals = protos.map((p) => Object.getOwnPropertyDescriptor(p, 'fill'));
  const inherited = Object.getPrototypeOf(Uint8Array.prototype).fill as (this: Uint8Array, ...args: unknown[]) => Uint8Array;
  for (const [i, proto] of protos.entries()) {
    const original = (originals[i]?.value ?? inherited) as (this: Uint8Array, ...args: unknown[]) => Uint8Array;
    Object.defineProperty(proto, 'fill', {
      configurable: true,
      writable: true,
      value(this: Uint8Array, ...args: unknown[]) {
        if (args[0] === 0) seen.push({ before: Uint8Array.from(this), buffer: this });
        return original.apply(this, args);
      },
    });
  }
  try {
    fn();
  } finally {
    for (const [i, proto] of protos.entries()) {
      const d = originals[i];
      if (d) Object.defineProperty(proto, 'fill', d);
      else delete (proto as { fill?: unknown }).fill;
    }
  }
  return seen;
}

test.serial('close() zeroes the secrets, device secret and passphrase it held', async (t) => {
  const dir = await tempDir(t);
  const passphrase = utf8('passphrase-under-test');
  const secret = new Uint8Array(48).fill(0xa5);
  const ks = await Keystore.open(dir, { create: true, passphrase, scrypt: FAST });
  await ks.set('observed', secret);
  const deviceSecret = await readFile(join(dir, 'device.secret'));
  const wipes = recordWipes(() => ks.close());
  const held = wipes.find((w) => Buffer.from(w.before).equals(secret));
  t.truthy(held, 'a buffer holding the secret was wiped');
  t.true(held!.buffer.every((b) => b === 0));
  const password = wipes.find((w) => Buffer.from(w.before).equals(Buffer.concat([deviceSecret, passphrase])));
  t.truthy(password, 'the device secret ‖ passphrase copy was wiped');
  t.true(password!.buffer.every((b) => b === 0));
  t.deepEqual(passphrase, utf8('passphrase-under-test'), "the caller's passphrase is theirs, not wiped");
});
