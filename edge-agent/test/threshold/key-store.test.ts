import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Keystore } from '../../src/identity/index.js';
import { ThresholdError, dealerKeys, loadCommitteeKey, makeMemberShare, saveCommitteeKey } from '../../src/threshold/index.js';

// Cheap scrypt for tests only (the keystore's own tests do the same).
const FAST = { logN: 10, r: 8, p: 1 };

test('a member keeps its committee key in the encrypted keystore and gets it back after reopening', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'edge-committee-key-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { group, shares } = dealerKeys(3, 5);
  const ks = await Keystore.open(dir, { create: true, scrypt: FAST });
  t.is(loadCommitteeKey(ks, 'fleet'), undefined);
  await saveCommitteeKey(ks, 'fleet', { group, share: shares[1]! });
  ks.close();
  const again = await Keystore.open(dir);
  t.teardown(() => again.close());
  const key = loadCommitteeKey(again, 'fleet')!;
  t.is(key.share.member, 2);
  t.deepEqual([...key.share.signingShare], [...shares[1]!.signingShare]);
  t.deepEqual([...key.group.groupKey], [...group.groupKey]);
  // A share that does not belong to the group is refused on the way in.
  await t.throwsAsync(saveCommitteeKey(again, 'other', { group, share: makeMemberShare(3, shares[1]!.signingShare) }), { instanceOf: ThresholdError, message: /share/i });
  // A damaged entry is refused on the way out, never used.
  await again.set('committee.broken', Uint8Array.of(1, 2, 3));
  t.throws(() => loadCommitteeKey(again, 'broken'), { instanceOf: ThresholdError });
  t.throws(() => loadCommitteeKey(again, '../x'), { instanceOf: ThresholdError, message: /name/ });
});
