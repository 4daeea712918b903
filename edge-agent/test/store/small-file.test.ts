import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSmallFile } from '../../src/store/index.js';

class TooLarge extends Error {}

test('reads a small file whole, and a missing one as undefined', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'small-file-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'f');
  await writeFile(file, 'hello');
  const opts = { maxBytes: 5, tooLarge: (n: number) => new TooLarge(String(n)) };
  t.is((await readSmallFile(file, opts))?.toString(), 'hello');
  t.is(await readSmallFile(join(dir, 'missing'), opts), undefined);
});

test('a file over the bound is refused with the caller’s error, and inspect can refuse first', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'small-file-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'f');
  await writeFile(file, 'hello!');
  const err = await t.throwsAsync(readSmallFile(file, { maxBytes: 5, tooLarge: (n) => new TooLarge(String(n)) }));
  t.true(err instanceof TooLarge);
  t.is(err?.message, '6');
  await t.throwsAsync(
    readSmallFile(dir, { maxBytes: 5, tooLarge: () => new TooLarge(), inspect: (s) => { if (!s.isFile()) throw new Error('not a file'); } }),
    { message: 'not a file' },
  );
});
