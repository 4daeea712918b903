import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock/index.js';
import { loadConfig } from '../../src/config/index.js';
import { loadIdentity, toHex } from '../../src/identity/index.js';
import {
  LOCK_FILE,
  ProvisionError,
  provisionFleet,
  type ProgressSnapshot,
  type ProvisionErrorCode,
  type ProvisionPlan,
  type ProvisionResult,
} from '../../src/provision/index.js';
import { SEED_KEY, sevenBoards, tempDir, writeJson, type BoardEntry } from './fixtures.js';

const T0 = Date.UTC(2025, 5, 1);

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

/** SHA-256 of every file in every board's state directory. */
async function stateHashes(out: string): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  for (const host of await readdir(join(out, 'boards'))) {
    const state = join(out, 'boards', host, 'state');
    const names = await readdir(state).catch(() => []);
    for (const name of names) {
      hashes.set(`${host}/${name}`, createHash('sha256').update(await readFile(join(state, name))).digest('hex'));
    }
  }
  return hashes;
}

async function readInventory(out: string): Promise<{ boards: { hostname: string; publicKey: string; peerId: string; removed?: boolean; removedAt?: string }[]; committee: { members: string[] } }> {
  return JSON.parse(await readFile(join(out, 'inventory.json'), 'utf8'));
}

function statuses(r: ProvisionResult): Record<string, string> {
  return Object.fromEntries(r.boards.map((b) => [b.hostname, b.status]));
}

test.serial('a 7-board fleet: provisioned, provisioned again without changing an identity, then one board removed and one added', async (t) => {
  const dir = await tempDir(t);
  const out = join(dir, 'out');
  const manifest = await writeJson(join(dir, 'fleet.json'), sevenBoards());
  const plans: ProvisionPlan[] = [];
  const snapshots: ProgressSnapshot[] = [];
  const clock = new ManualClock(T0);
  const first = await provisionFleet({ manifest, out, clock, jobs: 2, onPlan: (p) => plans.push(p), onProgress: (s) => snapshots.push(s) });

  t.is(first.dir, out);
  t.deepEqual(Object.values(statuses(first)), Array(7).fill('new'));
  t.is(plans[0]?.workers, 2);
  t.is(plans[0]?.create.length, 7);
  t.deepEqual(snapshots.at(-1), { done: 7, total: 7, solving: 0, hashesPerSec: 0, etaSeconds: 0 });
  t.is(await mode(out), 0o700);
  t.is(await mode(join(out, 'inventory.json')), 0o644);
  await t.throwsAsync(stat(join(out, LOCK_FILE)), undefined, 'the lock is released');

  const inventory = await readInventory(out);
  t.deepEqual(inventory.boards.map((b) => b.hostname), ['dev-07', 'pi-01', 'pi-02', 'pi-03', 'pi-04', 'pi-05', 'pi-06']);
  t.is(inventory.committee.members.length, 3);
  for (const board of sevenBoards().boards) {
    const home = join(out, 'boards', board.hostname);
    t.is(await mode(home), 0o700, board.hostname);
    t.is(await mode(join(home, 'state')), 0o700, board.hostname);
    t.is(await mode(join(home, 'state', 'keystore.bin')), 0o600, board.hostname);
    t.is(await mode(join(home, 'state', 'device.secret')), 0o600, board.hostname);
    t.is((await mode(join(home, 'state', 'identity.json'))) & 0o022, 0, 'identity.json is public but writable by its owner only');
    t.deepEqual((await readdir(home)).sort(), ['config.json', 'state']);

    const identity = await loadIdentity(join(home, 'state'));
    const listed = inventory.boards.find((b) => b.hostname === board.hostname)!;
    t.is(toHex(identity.peerId), listed.peerId);
    t.is(identity.pow.difficulty, 4);
    identity.destroy();

    const config = await loadConfig(join(home, 'config.json'));
    t.is(config.nodeName, board.hostname);
    t.is(config.board, board.board);
    t.is(config.role, board.role);
    const others = inventory.boards.filter((b) => b.hostname !== board.hostname);
    t.is(config.network.bootstrap.length, 7, 'the 6 others and the seed');
    for (const other of others) t.true(config.network.bootstrap.some((p) => p.startsWith(`${other.publicKey}@`)), `${board.hostname} lists ${other.hostname}`);
    t.false(config.network.bootstrap.some((p) => p.startsWith(`${listed.publicKey}@`)), 'not itself');
    t.is(config.network.bootstrap.at(-1), `${SEED_KEY}@seed.example.org:7450`);
  }

  // Twice: nothing new, every identity byte for byte the same, no search at all.
  const hashes = await stateHashes(out);
  t.is(hashes.size, 21);
  plans.length = 0;
  const second = await provisionFleet({ manifest, out, clock, onPlan: (p) => plans.push(p) });
  t.deepEqual(Object.values(statuses(second)), Array(7).fill('kept'));
  t.deepEqual(plans[0], { fleet: 'greenhouse', difficulty: 4, workers: 0, create: [], keep: sevenBoards().boards.map((b) => b.hostname), remove: [] });
  t.deepEqual(await stateHashes(out), hashes);
  t.deepEqual((await readInventory(out)).boards, inventory.boards);

  // pi-05 leaves, pi-08 (a Zero 2 W) joins.
  const changed = sevenBoards();
  changed.boards = changed.boards.filter((b) => b.hostname !== 'pi-05');
  const newcomer: BoardEntry = { hostname: 'pi-08', board: 'rpi-zero-2w', role: 'worker', addresses: ['10.0.0.18'] };
  changed.boards.push(newcomer);
  await writeJson(manifest, changed);
  clock.advance(60_000);
  const third = await provisionFleet({ manifest, out, clock });
  t.deepEqual(statuses(third), { 'dev-07': 'kept', 'pi-01': 'kept', 'pi-02': 'kept', 'pi-03': 'kept', 'pi-04': 'kept', 'pi-05': 'removed', 'pi-06': 'kept', 'pi-08': 'new' });
  const after = await readInventory(out);
  const gone = after.boards.find((b) => b.hostname === 'pi-05')!;
  t.true(gone.removed);
  t.is(gone.removedAt, new Date(T0 + 60_000).toISOString());
  const added = after.boards.find((b) => b.hostname === 'pi-08')!;
  const nowHashes = await stateHashes(out);
  for (const [file, hash] of hashes) t.is(nowHashes.get(file), hash, `${file} unchanged, pi-05's included`);
  for (const board of changed.boards) {
    const config = await loadConfig(join(out, 'boards', board.hostname, 'config.json'));
    t.false(config.network.bootstrap.some((p) => p.startsWith(`${gone.publicKey}@`)), `${board.hostname} no longer dials pi-05`);
    if (board.hostname !== 'pi-08') t.true(config.network.bootstrap.includes(`${added.publicKey}@10.0.0.18:7450`), `${board.hostname} dials pi-08`);
    t.is(config.network.bootstrap.length, 7);
  }
});

/** A small fleet for the refusal tests: one committee member, two workers. */
function threeBoards(): ReturnType<typeof sevenBoards> {
  const m = sevenBoards();
  m.fleet.committee = { size: 1, threshold: 1 };
  m.boards = m.boards.filter((b) => ['pi-01', 'pi-04', 'pi-05'].includes(b.hostname));
  return m;
}

test.serial('what it cannot trust it refuses, changing nothing: a broken state, a lost state, another fleet, a held lock', async (t) => {
  const dir = await tempDir(t);
  const out = join(dir, 'out');
  const manifest = await writeJson(join(dir, 'fleet.json'), threeBoards());
  await provisionFleet({ manifest, out, jobs: 1 });
  const hashes = await stateHashes(out);
  const state = (h: string): string => join(out, 'boards', h, 'state');
  const refused = async (code: ProvisionErrorCode, pattern: RegExp): Promise<void> => {
    const err = await t.throwsAsync(provisionFleet({ manifest, out }), { instanceOf: ProvisionError });
    t.is(err?.code, code);
    t.regex(err?.message ?? '', pattern);
    await t.throwsAsync(stat(join(out, LOCK_FILE)), undefined, 'the lock is released on failure too');
  };

  await rename(join(state('pi-04'), 'identity.json'), join(dir, 'identity.json'));
  await refused('CORRUPT_STATE', /boards\/pi-04\/state: there is no identity\.json .*move the directory away/);
  await rename(join(dir, 'identity.json'), join(state('pi-04'), 'identity.json'));

  await rm(join(state('pi-05'), 'keystore.bin'));
  await refused('CORRUPT_STATE', /pi-05\/state: identity\.json is there but keystore\.bin is not/);
  await rm(state('pi-05'), { recursive: true });
  await refused('STATE_MISSING', /pi-05\/state is gone, but .*inventory\.json lists pi-05 with peer id [0-9a-f]{64}/);
  hashes.forEach((_, file) => file.startsWith('pi-05/') && hashes.delete(file));

  const other = { ...threeBoards(), fleet: { ...threeBoards().fleet, name: 'barn' } };
  await writeJson(join(dir, 'barn.json'), other);
  const err = await t.throwsAsync(provisionFleet({ manifest: join(dir, 'barn.json'), out }), { instanceOf: ProvisionError });
  t.is(err?.code, 'FLEET_MISMATCH');

  await writeFile(join(out, LOCK_FILE), '1\n');
  const locked = await t.throwsAsync(provisionFleet({ manifest, out }), { instanceOf: ProvisionError });
  t.is(locked?.code, 'LOCKED');
  await rm(join(out, LOCK_FILE));
  const nowHashes = await stateHashes(out);
  for (const [file, hash] of hashes) t.is(nowHashes.get(file), hash, file);
});

test.serial('leftovers of an interrupted run are cleared; an abort leaves no half-made identity', async (t) => {
  const dir = await tempDir(t);
  const out = join(dir, 'out');
  const manifest = await writeJson(join(dir, 'fleet.json'), threeBoards());
  // What a power cut in mid-keygen leaves: a temporary directory, never the state itself.
  await mkdir(join(out, 'boards', 'pi-01', '.state-Ab12Cd'), { recursive: true });
  await writeFile(join(out, 'boards', 'pi-01', '.state-Ab12Cd', 'device.secret'), new Uint8Array(32));
  const ok = await provisionFleet({ manifest, out, jobs: 2 });
  t.deepEqual(Object.values(statuses(ok)), ['new', 'new', 'new']);
  t.deepEqual(await readdir(join(out, 'boards', 'pi-01')), ['config.json', 'state']);

  // Difficulty 40 never finishes here: abort at the first progress report.
  const hard = threeBoards();
  hard.fleet.powDifficulty = 40;
  hard.boards.push({ hostname: 'pi-09', board: 'rpi-5', role: 'worker', addresses: ['10.0.0.19'] }, { hostname: 'pi-10', board: 'rpi-5', role: 'worker', addresses: ['10.0.0.20'] });
  await writeJson(manifest, hard);
  const before = await readFile(join(out, 'inventory.json'), 'utf8');
  const abort = new AbortController();
  const err = await t.throwsAsync(provisionFleet({ manifest, out, jobs: 2, signal: abort.signal, onProgress: () => abort.abort() }), { instanceOf: ProvisionError });
  t.is(err?.code, 'ABORTED');
  t.regex(err?.message ?? '', /0 of 2 new identities were made/);
  for (const host of ['pi-09', 'pi-10']) t.deepEqual(await readdir(join(out, 'boards', host)), [], `${host} holds nothing`);
  t.is(await readFile(join(out, 'inventory.json'), 'utf8'), before, 'the inventory is untouched');
  await t.throwsAsync(stat(join(out, LOCK_FILE)));
});

test('bad options are caller errors', async (t) => {
  for (const opts of [undefined, { manifest: '', out: '/x' }, { manifest: '/m', out: '/x', jobs: 0 }, { manifest: '/m', out: '/x', signal: {} }]) {
    const err = await t.throwsAsync(provisionFleet(opts as never), { instanceOf: ProvisionError });
    t.is(err?.code, 'BAD_ARGUMENT');
  }
});
