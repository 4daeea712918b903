import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BoardError, DEFAULT_PROFILE_DIR, loadProfiles, parseProfile, type BoardErrorCode } from '../../src/board/index.js';
import { profileDir, sampleProfile } from './helpers.js';

async function refused(
  t: import('ava').ExecutionContext,
  files: Record<string, unknown>,
  code: BoardErrorCode = 'INVALID_PROFILE',
): Promise<{ message: string; dir: string }> {
  const { dir, cleanup } = await profileDir(files);
  try {
    const err = await t.throwsAsync(loadProfiles(dir), { instanceOf: BoardError });
    t.is(err?.code, code);
    return { message: err?.message ?? '', dir };
  } finally {
    await cleanup();
  }
}

test('the shipped profiles load, sorted by id, frozen', async (t) => {
  const profiles = await loadProfiles();
  t.deepEqual(
    profiles.map((p) => p.id),
    ['generic-arm64', 'rpi-4b', 'rpi-5', 'rpi-cm4', 'rpi-zero-2w', 'x86-64-dev'],
  );
  t.true(Object.isFrozen(profiles));
  for (const p of profiles) {
    t.true(Object.isFrozen(p) && Object.isFrozen(p.ethernet) && Object.isFrozen(p.thermal) && Object.isFrozen(p.match), p.id);
    t.false('$schema' in p, p.id);
  }
  t.deepEqual(await loadProfiles(DEFAULT_PROFILE_DIR), profiles);
});

test('the shipped profiles state what the hardware has', async (t) => {
  const byId = new Map((await loadProfiles()).map((p) => [p.id, p]));
  const get = (id: string) => {
    const p = byId.get(id);
    if (!p) throw new Error(`no profile ${id}`);
    return p;
  };
  t.like(get('rpi-4b'), { arch: 'arm64', memoryMiB: 1024, ethernet: { interface: 'eth0', ptpHardwareClock: false } });
  t.like(get('rpi-cm4'), { memoryMiB: 1024, ethernet: { interface: 'eth0', ptpHardwareClock: true } });
  t.like(get('rpi-5'), { memoryMiB: 2048, ethernet: { interface: 'eth0', ptpHardwareClock: true } });
  t.like(get('rpi-zero-2w'), { memoryMiB: 512, networkInterface: 'wlan0', ethernet: { interface: null, ptpHardwareClock: false } });
  t.like(get('generic-arm64'), { arch: 'arm64', match: [] });
  t.like(get('x86-64-dev'), { arch: 'x64', match: [] });
  // The Zero 2 W is the tightest board: nothing may get a smaller budget or peer map.
  for (const p of byId.values()) {
    t.true(p.memoryBudgetMiB >= get('rpi-zero-2w').memoryBudgetMiB, p.id);
    t.true(p.peerMapMaxPeers <= p.memoryBudgetMiB * 64, p.id);
    t.true(p.notes.length > 0, p.id);
  }
});

test('a missing field is refused, naming the file and the field', async (t) => {
  const { id: _, ...noId } = sampleProfile();
  const { message, dir } = await refused(t, { 'a.json': noId });
  t.is(message, `${join(dir, 'a.json')}: id: expected a profile id: 1 to 63 lowercase letters, digits or dashes, not starting with a dash, got nothing`);
  const { thermal: __, ...noThermal } = sampleProfile();
  t.regex((await refused(t, { 'b.json': noThermal })).message, /b\.json: thermal: expected an object with throttleC, criticalC, got nothing$/);
});

test('a wrong type is refused, naming the nested field', async (t) => {
  const cases: [Record<string, unknown>, string][] = [
    [{ cores: '4' }, 'cores: expected an integer from 1 to 256, got "4"'],
    [{ arch: 'armhf' }, 'arch: expected one of "arm64", "x64", got "armhf"'],
    [{ match: 'Raspberry Pi' }, 'match: expected a list of 0 to 16 items, got "Raspberry Pi"'],
    [{ match: [' Padded'] }, 'match[0]: expected a model string without leading or trailing spaces, got " Padded"'],
    [{ ethernet: { interface: 0, ptpHardwareClock: false } }, 'ethernet.interface: expected a Linux interface name such as "eth0" or null, got 0'],
    [{ ethernet: { interface: 'eth0', ptpHardwareClock: 'yes' } }, 'ethernet.ptpHardwareClock: expected true or false, got "yes"'],
    [{ networkInterface: 'a-name-far-too-long' }, 'networkInterface: expected a Linux interface name such as "eth0" or null, got "a-name-far-too-long"'],
    [{ thermal: { throttleC: 80.5, criticalC: 85 } }, 'thermal.throttleC: expected an integer from 40 to 110, got 80.5'],
    [{ memoryMiB: 128 }, 'memoryMiB: expected an integer from 256 to 1048576, got 128'],
  ];
  for (const [override, expected] of cases) {
    const { message, dir } = await refused(t, { 'p.json': sampleProfile(override) });
    t.is(message, `${join(dir, 'p.json')}: ${expected}`);
  }
});

test('an unknown field is refused, at the top or nested', async (t) => {
  t.regex((await refused(t, { 'p.json': sampleProfile({ ram: 1024 }) })).message, /p\.json: ram: unknown property \(known: \$schema, id, /);
  t.regex(
    (await refused(t, { 'p.json': sampleProfile({ thermal: { throttleC: 80, criticalC: 85, shutdownC: 90 } }) })).message,
    /p\.json: thermal\.shutdownC: unknown property \(known: throttleC, criticalC\)/,
  );
});

test('the cross-field limits are enforced with the field to change', async (t) => {
  const cases: [Record<string, unknown>, string][] = [
    [{ memoryBudgetMiB: 257 }, 'memoryBudgetMiB: expected an integer <= memoryMiB / 4 (256), got 257'],
    [{ peerMapMaxPeers: 16385 }, 'peerMapMaxPeers: expected an integer <= memoryBudgetMiB × 64 (16384), got 16385'],
    [{ ethernet: { interface: null, ptpHardwareClock: true } }, 'ethernet.ptpHardwareClock: expected false when ethernet.interface is null, got true'],
    [{ thermal: { throttleC: 85, criticalC: 85 } }, 'thermal.criticalC: expected an integer above thermal.throttleC (85), got 85'],
  ];
  for (const [override, expected] of cases) {
    const { message, dir } = await refused(t, { 'p.json': sampleProfile(override) });
    t.is(message, `${join(dir, 'p.json')}: ${expected}`);
  }
});

test('duplicate ids, duplicate model strings and two fallbacks for one arch are refused', async (t) => {
  const dup = await refused(t, { 'a.json': sampleProfile(), 'b.json': sampleProfile({ match: ['Other'] }) });
  t.is(dup.message, `${join(dup.dir, 'b.json')}: id: expected an id no other profile uses, got "test-board", as does ${join(dup.dir, 'a.json')}`);
  const model = await refused(t, { 'a.json': sampleProfile(), 'b.json': sampleProfile({ id: 'other' }) });
  t.is(
    model.message,
    `${join(model.dir, 'b.json')}: match[0]: expected a model string no other entry claims, got "Test Board Model T", as does ${join(model.dir, 'a.json')}`,
  );
  const twice = await refused(t, { 'a.json': sampleProfile({ match: ['X', 'X'] }) });
  t.regex(twice.message, /a\.json: match\[1\]: expected a model string no other entry claims, got "X"/);
  const fallback = await refused(t, { 'a.json': sampleProfile({ match: [] }), 'b.json': sampleProfile({ id: 'b', match: [] }) });
  t.regex(fallback.message, /b\.json: match: expected model strings, since .*a\.json is already the arm64 fallback, got an empty list$/);
});

test('a profile that is not JSON is refused with line and column', async (t) => {
  const { message, dir } = await refused(t, { 'p.json': '{\n  "id": "x",\n}' });
  t.is(message, `${join(dir, 'p.json')}: not valid JSON at line 3, column 1: expected a double-quoted property name, got "}"`);
  t.regex((await refused(t, { 'p.json': new Uint8Array([0x7b, 0xff, 0x7d]) })).message, /p\.json: expected UTF-8 text, got bytes that are not valid UTF-8$/);
});

test('schema.json and other files are not profiles; an empty or missing folder is an error', async (t) => {
  const { dir, cleanup } = await profileDir({ 'schema.json': '{}', 'README.md': '#', 'p.json': sampleProfile() });
  try {
    t.deepEqual((await loadProfiles(dir)).map((p) => p.id), ['test-board']);
  } finally {
    await cleanup();
  }
  t.regex((await refused(t, { 'schema.json': '{}' }, 'NO_PROFILES')).message, /expected board profiles \(\*\.json besides schema\.json\), got none$/);
  const gone = await mkdtemp(join(tmpdir(), 'edge-agent-board-'));
  await rm(gone, { recursive: true });
  const err = await t.throwsAsync(loadProfiles(gone), { instanceOf: BoardError });
  t.is(err?.code, 'UNREADABLE');
  t.is(err?.message, `${gone}: the profile folder cannot be read (ENOENT)`);
});

test('parseProfile checks its argument and names the source', (t) => {
  t.is(parseProfile(sampleProfile(), 'x.json').id, 'test-board');
  t.is(t.throws(() => parseProfile(sampleProfile(), ''), { instanceOf: BoardError })?.code, 'BAD_ARGUMENT');
  t.is(t.throws(() => parseProfile([], 'x.json'), { instanceOf: BoardError })?.message.startsWith('x.json: top level: expected an object'), true);
});

test('loadProfiles checks its argument', async (t) => {
  const err = await t.throwsAsync(loadProfiles(42 as unknown as string), { instanceOf: BoardError });
  t.is(err?.code, 'BAD_ARGUMENT');
});
