import test from 'ava';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadIdentity, toHex } from '../../src/identity/index.js';
import { cli } from '../helpers/cli.js';
import { sevenBoards, tempDir, writeJson } from './fixtures.js';

test('edge-agent provision: a 7-board fleet, a summary on stdout, and no secret anywhere in what it prints or shares', async (t) => {
  const dir = await tempDir(t);
  const out = join(dir, 'out');
  const manifest = await writeJson(join(dir, 'fleet.json'), sevenBoards());
  const r = await cli(['provision', '--manifest', manifest, '--out', out, '--jobs', '2']);
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  t.is(lines[0], 'fleet greenhouse: 7 boards (3 committee, 4 workers): 7 new, 0 kept, 0 removed');
  t.regex(lines[1] ?? '', /^ {2}hostname +board +role +peer id +status$/);
  t.regex(lines[2] ?? '', /^ {2}dev-07 +x86-64-dev +worker +[0-9a-f]{8} +new$/);
  t.is(lines.at(-1), `inventory: ${join(out, 'inventory.json')}`);
  t.regex(r.stderr, /^proof of work: 7 new identities at difficulty 4 on 2 threads/);
  t.regex(r.stderr, /proof of work: 7\/7 boards in /);

  const again = await cli(['provision', '--manifest', manifest, '--out', out]);
  t.is(again.code, 0, again.stderr);
  t.regex(again.stdout, /7 boards \(3 committee, 4 workers\): 0 new, 7 kept, 0 removed/);
  t.is(again.stderr, '', 'nothing to search for, nothing on stderr');

  // Every secret the run made: the identity keys and the device secrets. None may appear in
  // what was printed, in the inventory or in any config.
  const shared = [r.stdout, r.stderr, again.stdout, again.stderr, await readFile(join(out, 'inventory.json'), 'utf8')];
  const secrets: string[] = [];
  for (const host of await readdir(join(out, 'boards'))) {
    const state = join(out, 'boards', host, 'state');
    const identity = await loadIdentity(state);
    const key = identity.secretKeyCopy();
    secrets.push(toHex(key));
    key.fill(0);
    identity.destroy();
    secrets.push((await readFile(join(state, 'device.secret'))).toString('hex'));
    shared.push(await readFile(join(out, 'boards', host, 'config.json'), 'utf8'));
  }
  t.is(secrets.length, 14);
  const text = shared.join('\n').toLowerCase();
  for (const secret of secrets) {
    t.is(secret.length, 64);
    t.false(text.includes(secret), 'a secret key in hex');
    t.false(text.includes(secret.slice(0, 16)), 'even a piece of one');
  }
});

test('edge-agent provision: usage errors exit 2, manifest errors exit 1 with one line naming the field', async (t) => {
  const dir = await tempDir(t);
  for (const args of [['provision', '--manifest', 'x.json'], ['provision', '--manifest', 'x', '--out', dir, '--jobs', '0']]) {
    const r = await cli(args);
    t.is(r.code, 2, args.join(' '));
    t.regex(r.stderr, /^edge-agent: .*\(see edge-agent --help\)\n$/);
  }
  const m = sevenBoards();
  m.boards[4]!.hostname = 'pi-02';
  const manifest = await writeJson(join(dir, 'fleet.json'), m);
  const r = await cli(['provision', '--manifest', manifest, '--out', join(dir, 'out')]);
  t.is(r.code, 1);
  t.is(r.stderr, `edge-agent: ${manifest}: boards[4].hostname: expected a host name no other board uses, got "pi-02", as does boards[1]\n`);
  t.is(r.stdout, '');
});
