import test from 'ava';
import fc from 'fast-check';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { DEFAULT_POW_DIFFICULTY } from '../../src/identity/index.js';
import { ProvisionError, addressWithPort, loadManifest, parseManifest } from '../../src/provision/index.js';
import { BOARD_IDS, SEED_KEY, sevenBoards, tempDir, writeJson } from './fixtures.js';

const FILE = 'fleet.json';

function invalid(t: import('ava').ExecutionContext, value: unknown): string {
  const err = t.throws(() => parseManifest(value, { boardIds: BOARD_IDS, source: FILE }), { instanceOf: ProvisionError });
  t.is(err?.code, 'INVALID_MANIFEST');
  t.false(err?.message.includes('\n'), 'one line');
  return err?.message ?? '';
}

function withChange(change: (m: ReturnType<typeof sevenBoards>) => void): unknown {
  const m = sevenBoards();
  change(m);
  return m;
}

test('a valid manifest parses, with defaults for port, difficulty, bootstrap and operators', (t) => {
  const m = parseManifest(sevenBoards(), { boardIds: BOARD_IDS });
  t.is(m.fleet.name, 'greenhouse');
  t.is(m.fleet.port, 7450);
  t.is(m.boards.length, 7);
  t.true(Object.isFrozen(m.boards[0]));
  const minimal = parseManifest(
    { fleet: { name: 'lab', committee: { size: 1, threshold: 1 } }, boards: [{ hostname: 'a', board: 'rpi-5', role: 'committee', addresses: ['a.lan'] }] },
    { boardIds: BOARD_IDS },
  );
  t.deepEqual(minimal.fleet, { name: 'lab', bootstrap: [], committee: { size: 1, threshold: 1 }, operators: [], port: 7450, powDifficulty: DEFAULT_POW_DIFFICULTY });
});

test('cross-field errors name the field: duplicate host name, unknown board model, threshold above size, committee size', (t) => {
  t.is(
    invalid(t, withChange((m) => (m.boards[3]!.hostname = 'pi-01'))),
    `${FILE}: boards[3].hostname: expected a host name no other board uses, got "pi-01", as does boards[0]`,
  );
  t.is(
    invalid(t, withChange((m) => (m.boards[2]!.board = 'rpi-3b'))),
    `${FILE}: boards[2].board: expected a board profile id (${BOARD_IDS.join(', ')}), got "rpi-3b"`,
  );
  t.is(
    invalid(t, withChange((m) => (m.fleet.committee = { size: 3, threshold: 4 }))),
    `${FILE}: fleet.committee.threshold: expected an integer from 1 to fleet.committee.size (3), got 4`,
  );
  t.is(
    invalid(t, withChange((m) => (m.fleet.committee = { size: 4, threshold: 2 }))),
    `${FILE}: fleet.committee.size: expected the number of boards with role "committee" (3), got 4`,
  );
  t.is(
    invalid(t, withChange((m) => (m.boards[6]!.role = 'committee'))),
    `${FILE}: fleet.committee.size: expected the number of boards with role "committee" (4), got 3`,
  );
});

test('field errors name the field and say what was expected', (t) => {
  t.is(invalid(t, withChange((m) => (m.boards[0]!.hostname = 'Pi-01'))), `${FILE}: boards[0].hostname: expected a lowercase host name (letters, digits, dashes and dots), got "Pi-01"`);
  t.is(invalid(t, withChange((m) => (m.boards[0]!.hostname = 'pi 01'))), `${FILE}: boards[0].hostname: expected a host name (letters, digits, dashes and dots), got "pi 01"`);
  t.regex(invalid(t, withChange((m) => (m.boards[1]!.addresses = ['10.0.0.1:0']))), /^fleet\.json: boards\[1\]\.addresses\[0\]: expected "host" or "host:port" .*, got "10\.0\.0\.1:0"$/);
  t.regex(invalid(t, withChange((m) => (m.boards[1]!.addresses = ['fd00::1']))), /: boards\[1\]\.addresses\[0\]: expected "host" or "host:port"/);
  t.is(invalid(t, withChange((m) => (m.boards[1]!.addresses = []))), `${FILE}: boards[1].addresses: expected a list of 1 to 16 items, got an array of 0`);
  t.is(invalid(t, withChange((m) => (m.boards[1]!.role = 'leader' as 'worker'))), `${FILE}: boards[1].role: expected one of "worker", "committee", got "leader"`);
  t.regex(invalid(t, withChange((m) => (m.fleet.bootstrap = ['nobody@h:1']))), /^fleet\.json: fleet\.bootstrap\[0\]: expected "<66-hex public key>@host:port"/);
  t.is(invalid(t, withChange((m) => (m.fleet.broker = 'http://x'))), `${FILE}: fleet.broker: expected mqtt://host:port or mqtts://host:port, got "http://x"`);
  t.is(invalid(t, withChange((m) => (m.fleet.powDifficulty = 41))), `${FILE}: fleet.powDifficulty: expected an integer from 0 to 40, got 41`);
  t.is(invalid(t, withChange((m) => (m.fleet.committee = { size: 0, threshold: 0 }))), `${FILE}: fleet.committee.size: expected an integer from 1 to 64, got 0`);
  t.regex(invalid(t, withChange((m) => ((m.fleet as Record<string, unknown>).brokr = 'x'))), /^fleet\.json: fleet\.brokr: unknown property \(known: name, broker, /);
  t.regex(invalid(t, []), /^fleet\.json: top level: expected an object with fleet, boards, got an array of 0$/);
});

test('a fleet too large for the config bootstrap limit is refused up front', (t) => {
  const boards = Array.from({ length: 65 }, (_, i) => ({ hostname: `n${i}`, board: 'rpi-5', role: i === 0 ? 'committee' : 'worker', addresses: [`n${i}.lan`] }));
  const fleet = { name: 'big', committee: { size: 1, threshold: 1 } };
  t.notThrows(() => parseManifest({ fleet, boards }, { boardIds: BOARD_IDS }));
  t.is(
    invalid(t, { fleet: { ...fleet, bootstrap: [`${SEED_KEY}@seed:1`] }, boards }),
    `${FILE}: boards: expected at most 64 boards (each board's network.bootstrap lists the others and fleet.bootstrap, at most 64 peers), got an array of 65`,
  );
});

test('addresses take the fleet port unless they name one', (t) => {
  t.is(addressWithPort('10.0.0.1', 7450), '10.0.0.1:7450');
  t.is(addressWithPort('10.0.0.1:1', 7450), '10.0.0.1:1');
  t.is(addressWithPort('[fd00::1]', 7450), '[fd00::1]:7450');
  t.is(addressWithPort('[fd00::1]:9', 7450), '[fd00::1]:9');
  t.is(addressWithPort('pi.lan', 1), 'pi.lan:1');
});

test('bad arguments are caller errors', (t) => {
  t.is(t.throws(() => parseManifest({}, { boardIds: 'rpi-5' as unknown as string[] }), { instanceOf: ProvisionError })?.code, 'BAD_ARGUMENT');
  t.is(t.throws(() => parseManifest({}, { boardIds: BOARD_IDS, source: '' }), { instanceOf: ProvisionError })?.code, 'BAD_ARGUMENT');
});

test('loadManifest: missing file, broken JSON with line and column, invalid field with the path first', async (t) => {
  const dir = await tempDir(t);
  const missing = join(dir, 'nope.json');
  const e1 = await t.throwsAsync(loadManifest(missing, BOARD_IDS), { instanceOf: ProvisionError });
  t.is(e1?.code, 'NOT_FOUND');
  t.is(e1?.message, `${missing}: no such file; expected the fleet manifest there`);
  const broken = join(dir, 'broken.json');
  await writeFile(broken, '{\n  "fleet": {,\n}');
  const e2 = await t.throwsAsync(loadManifest(broken, BOARD_IDS), { instanceOf: ProvisionError });
  t.is(e2?.code, 'BAD_JSON');
  t.regex(e2?.message ?? '', /broken\.json: not valid JSON at line 2, column 13/);
  const bad = await writeJson(join(dir, 'bad.json'), withChange((m) => (m.boards[1]!.board = 'pi')));
  const e3 = await t.throwsAsync(loadManifest(bad, BOARD_IDS), { instanceOf: ProvisionError });
  t.is(e3?.code, 'INVALID_MANIFEST');
  t.true(e3?.message.startsWith(`${bad}: boards[1].board: expected a board profile id`), e3?.message);
  const e4 = await t.throwsAsync(loadManifest(dir, BOARD_IDS), { instanceOf: ProvisionError });
  t.is(e4?.code, 'UNREADABLE');
  const ok = await writeJson(join(dir, 'ok.json'), sevenBoards());
  t.is((await loadManifest(ok, BOARD_IDS)).boards.length, 7);
});

test('any JSON value gives a manifest or INVALID_MANIFEST, nothing else (property)', (t) => {
  const check = (v: unknown): boolean => {
    try {
      parseManifest(v, { boardIds: BOARD_IDS, source: FILE });
      return true;
    } catch (err) {
      return err instanceof ProvisionError && err.code === 'INVALID_MANIFEST' && err.message.startsWith(`${FILE}: `);
    }
  };
  fc.assert(fc.property(fc.jsonValue(), check));
  const board = fc.record(
    { hostname: fc.oneof(fc.domain(), fc.string()), board: fc.constantFrom(...BOARD_IDS, 'x'), role: fc.constantFrom('committee', 'worker', 'x'), addresses: fc.array(fc.oneof(fc.ipV4(), fc.domain(), fc.string()), { maxLength: 3 }) },
    { requiredKeys: [] },
  );
  const manifest = fc.record({
    fleet: fc.record({ name: fc.constantFrom('lab', 'Lab'), committee: fc.record({ size: fc.integer({ min: -1, max: 4 }), threshold: fc.integer({ min: -1, max: 4 }) }) }),
    boards: fc.array(board, { maxLength: 5 }),
  });
  fc.assert(fc.property(manifest, check), { numRuns: 300 });
  t.pass();
});
