import test from 'ava';
import { parseConfig, parsePeerAddress } from '../../src/config/index.js';
import { generateKeyPair, peerIdOf, toHex } from '../../src/identity/index.js';
import {
  BOARD_DATA_DIR,
  ProvisionError,
  bootstrapFor,
  buildBoardConfig,
  buildInventory,
  parseManifest,
  renderBoardConfig,
  type Manifest,
} from '../../src/provision/index.js';
import { BOARD_IDS, OPERATOR_KEY, SEED_KEY, sevenBoards } from './fixtures.js';

function fleet(change?: (m: ReturnType<typeof sevenBoards>) => void) {
  const raw = sevenBoards();
  change?.(raw);
  const manifest: Manifest = parseManifest(raw, { boardIds: BOARD_IDS });
  const ids = new Map(
    manifest.boards.map((b) => {
      const { publicKey, secretKey } = generateKeyPair();
      secretKey.fill(0);
      return [b.hostname, { publicKey: toHex(publicKey), peerId: toHex(peerIdOf(publicKey)) }] as const;
    }),
  );
  return { manifest, ids, inventory: buildInventory(manifest, ids, undefined, 0) };
}

test('each config names its board, role and committee, and passes parseConfig', (t) => {
  const { manifest, ids, inventory } = fleet();
  for (const b of manifest.boards) {
    const text = renderBoardConfig(manifest, inventory, b.hostname, `/out/${b.hostname}/config.json`);
    const config = parseConfig(JSON.parse(text));
    t.is(config.fleet, 'greenhouse');
    t.is(config.nodeName, b.hostname);
    t.is(config.dataDir, BOARD_DATA_DIR);
    t.is(config.board, b.board);
    t.is(config.role, b.role);
    t.deepEqual(config.committee, { threshold: 2, members: ['pi-01', 'pi-02', 'pi-03'].map((h) => ids.get(h)!.peerId) });
    t.is(config.network.listen, '0.0.0.0:7450');
    t.is(config.telemetry.broker, 'mqtts://broker.lan:8883');
    t.deepEqual(config.operators, [{ name: 'alice', publicKey: OPERATOR_KEY }]);
    t.is(config.identity.powDifficulty, 4);
    t.true(text.endsWith('}\n'));
  }
});

test('the bootstrap list is every other live board at its first address, then the extra peers', (t) => {
  const { manifest, ids, inventory } = fleet();
  const list = bootstrapFor(manifest, inventory, 'pi-05');
  t.is(list.length, 7);
  t.deepEqual(list, [
    `${ids.get('dev-07')!.publicKey}@dev-07.lan:7450`,
    `${ids.get('pi-01')!.publicKey}@10.0.0.11:7450`,
    `${ids.get('pi-02')!.publicKey}@10.0.0.12:7450`,
    `${ids.get('pi-03')!.publicKey}@10.0.0.13:7460`,
    `${ids.get('pi-04')!.publicKey}@[fd00::14]:7450`,
    `${ids.get('pi-06')!.publicKey}@10.0.0.16:7450`,
    `${SEED_KEY}@seed.example.org:7450`,
  ]);
  for (const peer of list) t.notThrows(() => parsePeerAddress(peer));
  t.deepEqual(parsePeerAddress(list[4]).host, 'fd00::14');
});

test('removed boards are left out of every bootstrap list; a fleet without broker has no telemetry section', (t) => {
  const { manifest, ids, inventory } = fleet((m) => delete m.fleet.broker);
  const smaller = parseManifest({ ...sevenBoards(), boards: sevenBoards().boards.filter((b) => b.hostname !== 'pi-06') }, { boardIds: BOARD_IDS });
  ids.delete('pi-06');
  const after = buildInventory(smaller, ids, inventory, 1);
  const config = buildBoardConfig(manifest, after, 'pi-01') as { network: { bootstrap: string[] }; telemetry?: unknown };
  t.is(config.network.bootstrap.length, 6);
  t.false(config.network.bootstrap.some((p) => p.includes('10.0.0.16')));
  t.false('telemetry' in config);
  t.is(t.throws(() => buildBoardConfig(manifest, after, 'pi-06'), { instanceOf: ProvisionError })?.code, 'BAD_ARGUMENT');
});
