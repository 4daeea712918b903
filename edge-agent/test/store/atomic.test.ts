import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { createFileAtomic, writeFileAtomic } from '../../src/store/index.js';
import { tempDir } from './helpers.js';

test('createFileAtomic creates a file with its content and mode, once', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'f');
  t.true(await createFileAtomic(path, Uint8Array.of(1, 2), { mode: 0o640 }));
  t.deepEqual([...(await readFile(path))], [1, 2]);
  t.is((await stat(path)).mode & 0o777, 0o640);
  t.false(await createFileAtomic(path, Uint8Array.of(3)), 'an existing file is not replaced');
  t.deepEqual([...(await readFile(path))], [1, 2]);
  t.deepEqual(await readdir(dir), ['f'], 'no temporary file is left behind');
});

test('createFileAtomic racing itself creates the file exactly once', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'f');
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => createFileAtomic(path, Uint8Array.of(i))));
  t.is(results.filter(Boolean).length, 1);
  t.deepEqual([...(await readFile(path))], [results.indexOf(true)]);
  t.deepEqual(await readdir(dir), ['f']);
});

test('createFileAtomic and writeFileAtomic refuse bad arguments', async (t) => {
  const dir = await tempDir(t);
  await t.throwsAsync(createFileAtomic('', Uint8Array.of(1)), { instanceOf: TypeError });
  await t.throwsAsync(createFileAtomic(join(dir, 'f'), 'x' as never), { instanceOf: TypeError });
  await t.throwsAsync(createFileAtomic(join(dir, 'none', 'f'), Uint8Array.of(1)), { code: 'ENOENT' });
  t.deepEqual(await readdir(dir), [], 'a failed call leaves nothing behind');
});

test('writeFileAtomic replaces a file whole, leaving no temporary file', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'g');
  await writeFile(path, 'old content');
  await writeFileAtomic(path, Uint8Array.of(7), { mode: 0o600 });
  t.deepEqual([...(await readFile(path))], [7]);
  t.is((await stat(path)).mode & 0o777, 0o600);
  t.deepEqual(await readdir(dir), ['g']);
});
