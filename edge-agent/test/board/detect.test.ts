import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BoardError, detectBoard, loadProfiles, parseProfile, type BoardProfile } from '../../src/board/index.js';
import { sampleProfile } from './helpers.js';

let dir = '';
let profiles: readonly BoardProfile[] = [];
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edge-agent-detect-'));
  profiles = await loadProfiles();
});
test.after.always(async () => {
  await rm(dir, { recursive: true, force: true });
});

let seq = 0;
/** A fake /proc/device-tree/model: the kernel ends it with a NUL. */
async function modelFile(model: string): Promise<string> {
  const path = join(dir, `model-${seq++}`);
  await writeFile(path, `${model}\0`);
  return path;
}

const missing = join(tmpdir(), 'edge-agent-no-such-dir', 'model');

test('each Raspberry Pi is recognised from its device-tree model', async (t) => {
  const cases: [string, string][] = [
    ['Raspberry Pi 4 Model B Rev 1.4', 'rpi-4b'],
    ['Raspberry Pi 4 Model B Rev 1.1', 'rpi-4b'],
    ['Raspberry Pi 5 Model B Rev 1.0', 'rpi-5'],
    ['Raspberry Pi Compute Module 4 Rev 1.0', 'rpi-cm4'],
    ['Raspberry Pi Zero 2 W Rev 1.0', 'rpi-zero-2w'],
  ];
  for (const [model, id] of cases) {
    const detected = await detectBoard({ modelFile: await modelFile(model), arch: 'arm64', profiles });
    t.deepEqual({ ...detected, profile: detected.profile.id }, { profile: id, detectedBy: 'device-tree', model }, model);
    t.true(Object.isFrozen(detected));
  }
});

test('near-miss models fall back to the architecture, keeping the model for the log', async (t) => {
  for (const model of ['Raspberry Pi 500 Rev 1.0', 'Raspberry Pi Compute Module 4S Rev 1.0', 'Pine64 RockPro64 v2.1']) {
    const detected = await detectBoard({ modelFile: await modelFile(model), arch: 'arm64', profiles });
    t.deepEqual({ ...detected, profile: detected.profile.id }, { profile: 'generic-arm64', detectedBy: 'architecture', model }, model);
  }
});

test('without a device tree the architecture decides', async (t) => {
  const x64 = await detectBoard({ modelFile: missing, arch: 'x64', profiles });
  t.is(x64.profile.id, 'x86-64-dev');
  t.is(x64.detectedBy, 'architecture');
  t.true(x64.model === undefined || (typeof x64.model === 'string' && x64.model.length > 0));
  t.is((await detectBoard({ modelFile: missing, arch: 'arm64', profiles })).profile.id, 'generic-arm64');
  // An empty model file is no model at all.
  t.is((await detectBoard({ modelFile: await modelFile(''), arch: 'arm64', profiles })).profile.id, 'generic-arm64');
});

test('an architecture without a fallback profile is NO_MATCH, pointing at the config', async (t) => {
  const err = await t.throwsAsync(detectBoard({ modelFile: await modelFile('Some Board'), arch: 'arm', profiles }), { instanceOf: BoardError });
  t.is(err?.code, 'NO_MATCH');
  t.is(
    err?.message,
    'board: no profile matches model "Some Board" and architecture "arm"; expected "board" in the config set to one of generic-arm64, rpi-4b, rpi-5, rpi-cm4, rpi-zero-2w, x86-64-dev',
  );
});

test('the override wins over the device tree, and "auto" means detect', async (t) => {
  const pi5 = await modelFile('Raspberry Pi 5 Model B Rev 1.0');
  t.deepEqual(await detectBoard({ override: 'rpi-zero-2w', modelFile: pi5, profiles }), {
    profile: profiles.find((p) => p.id === 'rpi-zero-2w'),
    detectedBy: 'override',
  });
  t.is((await detectBoard({ override: 'auto', modelFile: pi5, profiles })).profile.id, 'rpi-5');
});

test('an unknown override is UNKNOWN_BOARD, listing the known ids', async (t) => {
  const err = await t.throwsAsync(detectBoard({ override: 'rpi-3b', profiles }), { instanceOf: BoardError });
  t.is(err?.code, 'UNKNOWN_BOARD');
  t.is(err?.message, 'board: expected "auto" or a known profile id (generic-arm64, rpi-4b, rpi-5, rpi-cm4, rpi-zero-2w, x86-64-dev), got "rpi-3b"');
});

test('the longest model string wins, and it must end at a word boundary', async (t) => {
  const general = parseProfile(sampleProfile({ id: 'general', match: ['Acme Board'] }), 'general.json');
  const specific = parseProfile(sampleProfile({ id: 'specific', match: ['Acme Board Pro'] }), 'specific.json');
  const set = [specific, general];
  const detect = async (model: string) => (await detectBoard({ modelFile: await modelFile(model), arch: 'riscv64', profiles: set })).profile.id;
  t.is(await detect('Acme Board Pro Rev 2'), 'specific');
  t.is(await detect('Acme Board Pro'), 'specific');
  t.is(await detect('Acme Board Rev 2'), 'general');
  t.is(await detect('Acme Board Professional'), 'general');
  await t.throwsAsync(detect('Acme Boards'), { instanceOf: BoardError, message: /no profile matches model "Acme Boards"/ });
});

test('a model path that cannot be read (other than absent) is UNREADABLE', async (t) => {
  const err = await t.throwsAsync(detectBoard({ modelFile: dir, arch: 'arm64', profiles }), { instanceOf: BoardError });
  t.is(err?.code, 'UNREADABLE');
  t.is(err?.message, `${dir}: the device-tree model cannot be read (EISDIR)`);
});

test('without profiles given, the shipped ones are used', async (t) => {
  const detected = await detectBoard({ override: 'rpi-4b' });
  t.is(detected.profile.id, 'rpi-4b');
});

test('bad options are caller errors', async (t) => {
  for (const opts of [null, { override: 4 }, { modelFile: '' }, { arch: 1 }, { profiles: {} }]) {
    const err = await t.throwsAsync(detectBoard(opts as never), { instanceOf: BoardError });
    t.is(err?.code, 'BAD_ARGUMENT');
  }
});
