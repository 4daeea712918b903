import test from 'ava';
import { generateKeyPair, peerIdOf, toHex } from '../../src/identity/index.js';
import {
  ProvisionError,
  buildInventory,
  parseInventory,
  parseManifest,
  renderInventory,
  type Manifest,
  type PublicIdentity,
} from '../../src/provision/index.js';
import { BOARD_IDS, sevenBoards } from './fixtures.js';

const T0 = Date.UTC(2025, 0, 1);

function identity(): PublicIdentity {
  const { publicKey, secretKey } = generateKeyPair();
  secretKey.fill(0);
  return { publicKey: toHex(publicKey), peerId: toHex(peerIdOf(publicKey)) };
}

function manifestOf(change?: (m: ReturnType<typeof sevenBoards>) => void): Manifest {
  const m = sevenBoards();
  change?.(m);
  return parseManifest(m, { boardIds: BOARD_IDS });
}

function identitiesFor(m: Manifest, known = new Map<string, PublicIdentity>()): Map<string, PublicIdentity> {
  return new Map(m.boards.map((b) => [b.hostname, known.get(b.hostname) ?? identity()]));
}

test('the inventory lists every board by host name, with the committee members in that order', (t) => {
  const m = manifestOf();
  const ids = identitiesFor(m);
  const inv = buildInventory(m, ids, undefined, T0);
  t.is(inv.fleet, 'greenhouse');
  t.is(inv.generatedAt, '2025-01-01T00:00:00.000Z');
  t.deepEqual(inv.boards.map((b) => b.hostname), ['dev-07', 'pi-01', 'pi-02', 'pi-03', 'pi-04', 'pi-05', 'pi-06']);
  t.deepEqual(inv.committee, { size: 3, threshold: 2, members: ['pi-01', 'pi-02', 'pi-03'].map((h) => ids.get(h)!.peerId) });
  const pi3 = inv.boards.find((b) => b.hostname === 'pi-03')!;
  t.deepEqual(pi3, { hostname: 'pi-03', board: 'rpi-cm4', role: 'committee', ...ids.get('pi-03')!, addresses: ['10.0.0.13:7460'], port: 7450 });
  t.false('removed' in pi3);
  t.deepEqual(parseInventory(JSON.parse(renderInventory(inv)), 'inventory.json'), inv);
});

test('a board gone from the manifest is marked removed once, keeps its record, and leaves the committee', (t) => {
  const m1 = manifestOf();
  const ids = identitiesFor(m1);
  const first = buildInventory(m1, ids, undefined, T0);
  const m2 = manifestOf((m) => {
    m.boards = m.boards.filter((b) => b.hostname !== 'pi-03' && b.hostname !== 'pi-05');
    m.boards.push({ hostname: 'pi-09', board: 'rpi-cm4', role: 'committee', addresses: ['10.0.0.19'] });
  });
  const second = buildInventory(m2, identitiesFor(m2, ids), first, T0 + 1000);
  const pi3 = second.boards.find((b) => b.hostname === 'pi-03')!;
  t.is(pi3.removed, true);
  t.is(pi3.removedAt, '2025-01-01T00:00:01.000Z');
  t.is(pi3.peerId, ids.get('pi-03')!.peerId);
  t.is(second.boards.length, 8);
  t.false(second.committee.members.includes(ids.get('pi-03')!.peerId));
  t.is(second.committee.members.length, 3);
  // A later run keeps the first removal time; a board that comes back is live again.
  const third = buildInventory(m2, identitiesFor(m2, ids), parseInventory(JSON.parse(renderInventory(second)), 'i'), T0 + 5000);
  t.is(third.boards.find((b) => b.hostname === 'pi-03')!.removedAt, '2025-01-01T00:00:01.000Z');
  const back = buildInventory(m1, ids, third, T0 + 9000);
  const pi5 = back.boards.find((b) => b.hostname === 'pi-05')!;
  t.false('removed' in pi5);
  t.is(back.boards.filter((b) => b.removed === true).map((b) => b.hostname).join(), 'pi-09');
});

test('two live boards with one identity are refused', (t) => {
  const m = manifestOf();
  const ids = identitiesFor(m);
  ids.set('pi-06', ids.get('pi-02')!);
  const err = t.throws(() => buildInventory(m, ids, undefined, T0), { instanceOf: ProvisionError });
  t.is(err?.code, 'DUPLICATE_IDENTITY');
  t.regex(err?.message ?? '', /^boards pi-02 and pi-06 hold the same identity/);
  ids.delete('pi-06');
  t.is(t.throws(() => buildInventory(m, ids, undefined, T0), { instanceOf: ProvisionError })?.code, 'BAD_ARGUMENT');
});

test('a damaged inventory is CORRUPT_INVENTORY naming the field', (t) => {
  const m = manifestOf();
  const good = JSON.parse(renderInventory(buildInventory(m, identitiesFor(m), undefined, T0))) as { boards: Record<string, unknown>[] };
  good.boards[1]!.peerId = 'xyz';
  const err = t.throws(() => parseInventory(good, '/out/inventory.json'), { instanceOf: ProvisionError });
  t.is(err?.code, 'CORRUPT_INVENTORY');
  t.is(err?.message, '/out/inventory.json: boards[1].peerId: expected a peer id: 64 lowercase hex digits, got "xyz"');
  const twice = JSON.parse(renderInventory(buildInventory(m, identitiesFor(m), undefined, T0))) as { boards: unknown[] };
  twice.boards.push(twice.boards[0]);
  t.regex(t.throws(() => parseInventory(twice, 'i'), { instanceOf: ProvisionError })?.message ?? '', /board dev-07 is listed twice/);
});
