import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../helpers/cli.js';
import { rehash, tamper, trailWith } from '../audit/helpers.js';

async function trail(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-agent-audit-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await trailWith(dir, 10);
  return dir;
}

/** `audit verify` must exit 1 with one line naming the first bad seq. */
async function expectBroken(t: import('ava').ExecutionContext, dir: string, seq: number): Promise<void> {
  const r = await cli(['audit', 'verify', '--dir', dir]);
  t.is(r.code, 1, r.stdout);
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.regex(r.stderr, new RegExp(`broken at seq ${seq}:`), r.stderr);
}

test('a clean trail verifies with exit 0', async (t) => {
  const dir = await trail(t);
  const r = await cli(['audit', 'verify', '--dir', dir]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /ok, 10 entries, last seq 9/);
});

test('an edited entry is named by its seq', async (t) => {
  const dir = await trail(t);
  await tamper(dir, (es) => es.map((e) => (e.seq === 4 ? { ...e, data: { ...e.data, note: 'forged' } } : e)));
  await expectBroken(t, dir, 4);
});

test('an edited and rehashed entry is named by its seq', async (t) => {
  const dir = await trail(t);
  await tamper(dir, (es) => es.map((e) => (e.seq === 6 ? rehash({ ...e, kind: 'config.change', data: { forged: true } }) : e)));
  await expectBroken(t, dir, 7);
});

test('a deleted entry is named by the seq that went missing', async (t) => {
  const dir = await trail(t);
  await tamper(dir, (es) => es.filter((e) => e.seq !== 3));
  await expectBroken(t, dir, 3);
});

test('reordered entries are named at the first seq out of place', async (t) => {
  const dir = await trail(t);
  await tamper(dir, (es) => {
    const copy = [...es];
    [copy[5], copy[6]] = [copy[6]!, copy[5]!];
    return copy;
  });
  await expectBroken(t, dir, 5);
});
