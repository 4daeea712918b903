import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, defaultConfig, loadConfig, type ConfigErrorCode } from '../../src/config/index.js';

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edge-agent-config-'));
});
test.after.always(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function fails(t: import('ava').ExecutionContext, path: string, code: ConfigErrorCode): Promise<string> {
  const err = await t.throwsAsync(loadConfig(path), { instanceOf: ConfigError });
  t.is(err?.code, code);
  t.true(err?.message.startsWith(`${path}: `), err?.message);
  return err?.message ?? '';
}

test('loads a valid file and applies defaults', async (t) => {
  const path = await file('ok.json', '{ "fleet": "barn", "log": { "level": "warn" } }\n');
  const config = await loadConfig(path);
  t.is(config.fleet, 'barn');
  t.is(config.log.level, 'warn');
  t.is(config.dataDir, defaultConfig().dataDir);
  t.true(Object.isFrozen(config));
});

test('a UTF-8 byte-order mark is accepted', async (t) => {
  const path = await file('bom.json', '\uFEFF{"fleet": "bom"}');
  t.is((await loadConfig(path)).fleet, 'bom');
});

test('a missing file is NOT_FOUND', async (t) => {
  const path = join(dir, 'absent.json');
  t.is(await fails(t, path, 'NOT_FOUND'), `${path}: no such file; expected the node's JSON config there`);
});

test('a directory, or a path through a file, is UNREADABLE', async (t) => {
  t.is(await fails(t, dir, 'UNREADABLE'), `${dir}: expected a regular file, got a directory`);
  const notDir = await file('plain.json', '{}');
  t.regex(await fails(t, join(notDir, 'config.json'), 'UNREADABLE'), /the file cannot be read \(ENOTDIR\)$/);
});

test('a huge file is TOO_LARGE, not read into memory', async (t) => {
  const path = await file('huge.json', new Uint8Array((1 << 20) + 1).fill(0x20));
  t.regex(await fails(t, path, 'TOO_LARGE'), /expected at most 1048576 bytes, got 1048577$/);
});

test('bytes that are not UTF-8 are BAD_JSON', async (t) => {
  const path = await file('latin1.json', new Uint8Array([0x7b, 0x22, 0xe9, 0x22, 0x7d]));
  t.regex(await fails(t, path, 'BAD_JSON'), /not valid UTF-8$/);
});

test('invalid JSON is BAD_JSON with line and column', async (t) => {
  const trailing = await file('trailing.json', '{\n  "fleet": "a",\n}\n');
  t.is(
    await fails(t, trailing, 'BAD_JSON'),
    `${trailing}: not valid JSON at line 3, column 1: expected a double-quoted property name, got "}"`,
  );
  const comment = await file('comment.json', '{\n  "fleet": "a" // mine\n}\n');
  t.is(await fails(t, comment, 'BAD_JSON'), `${comment}: not valid JSON at line 2, column 16: expected "," or "}", got "/"`);
  const empty = await file('empty.json', '');
  t.is(await fails(t, empty, 'BAD_JSON'), `${empty}: not valid JSON at line 1, column 1: expected a value, got the end of the text`);
});

test('a schema failure is INVALID, starting with the path and naming the field', async (t) => {
  const path = await file('bad-listen.json', '{ "network": { "listen": 42 } }');
  t.is(await fails(t, path, 'INVALID'), `${path}: network.listen: expected "host:port", got 42`);
});

test('a bad path argument is a caller error', async (t) => {
  for (const bad of ['', 42, undefined]) {
    const err = await t.throwsAsync(loadConfig(bad as string), { instanceOf: ConfigError });
    t.is(err?.code, 'BAD_ARGUMENT');
  }
});
