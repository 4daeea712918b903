/**
 * Proactive refresh among five members over real secure channels (BOLT 8 over
 * TCP on loopback): the group key stays, every share changes, the old shares
 * no longer fit the new package, and the new shares sign over the channels.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { ed25519_FROST } from '@noble/curves/ed25519.js';
import type { FrostSecret } from '@noble/curves/abstract/frost.js';
import {
  MemoryNonceStore,
  SignerCore,
  SignerService,
  ThresholdError,
  coordinateSignature,
  dealerKeys,
  groupPublicFromFrost,
  identifierOf,
  makeMemberShare,
  runRefresh,
  verifyGroupSignature,
  type DkgOutcome,
} from '../../src/threshold/index.js';
import { fullMesh } from './mesh.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('five members refresh a 3-of-5 key over the channels: same key, new shares, and the new shares sign', async (t) => {
  const n = 5;
  const { started, messengers, roster } = await fullMesh(t, n);

  // The starting key comes from a dealer: this test is about the refresh, not the DKG.
  const { group: oldGroup, shares: oldShares } = dealerKeys(3, n);
  const oldSecrets: FrostSecret[] = oldShares.map((s) => ({ identifier: identifierOf(s.member), signingShare: Uint8Array.from(s.signingShare) }));
  const sessionId = randomBytes(16);
  // All five members share one event loop here, so Δ must cover five members' work, not one: about 40
  // secp256k1 verifications (~5 ms each on a loaded 2-core machine) land in the first phase. A late
  // package would disqualify its dealer, and its member would lose its share; hence a generous Δ.
  const start = Date.now() + 500;
  const outcomes: DkgOutcome[] = await Promise.all(
    started.map((s, i) =>
      runRefresh({ messenger: messengers[i]!, roster, public: oldGroup.frost, share: oldSecrets[i]!, sessionId, start, deltaMs: 1000, secretKey: s.keys.secretKey }),
    ),
  );
  for (const o of outcomes) t.is(o.kind, 'done', JSON.stringify(o.kind === 'abort' ? o : {}));
  const done = outcomes.filter((o): o is Extract<DkgOutcome, { kind: 'done' }> => o.kind === 'done');
  t.is(done.length, n);
  t.true(done.every((d) => hex(d.groupKey) === hex(oldGroup.groupKey)), 'the group key stays');
  t.deepEqual(done.map((d) => d.qualified.join()), Array(n).fill('1,2,3,4,5'), 'everyone qualified');
  const newPublic = done[0]!.public;
  t.true(done.every((d) => JSON.stringify(d.public, (_k, v: unknown) => (v instanceof Uint8Array ? hex(v) : v)) === JSON.stringify(newPublic, (_k, v: unknown) => (v instanceof Uint8Array ? hex(v) : v))), 'one new package');
  for (let i = 0; i < n; i++) {
    const fresh = done[i]!.share!;
    t.is(fresh.identifier, oldSecrets[i]!.identifier);
    t.not(hex(fresh.signingShare), hex(oldSecrets[i]!.signingShare), `share ${i + 1} changed`);
    t.notThrows(() => ed25519_FROST.validateSecret(fresh, newPublic), `new share ${i + 1} fits the new package`);
    t.throws(() => ed25519_FROST.validateSecret(oldSecrets[i]!, newPublic), undefined, `old share ${i + 1} does not fit the new package`);
  }

  // The new shares sign: members 2..5 serve, member 1 coordinates; members 1, 3 and 5 alone too.
  const group = groupPublicFromFrost(newPublic);
  t.is(hex(group.groupKey), hex(oldGroup.groupKey));
  const peers = new Map(started.map((s, i) => [i + 1, s.manager.peerId] as const));
  const signers = done.map((d, i) => new SignerCore({ group, share: makeMemberShare(i + 1, d.share!.signingShare), nonces: new MemoryNonceStore() }));
  for (let i = 1; i < n; i++) new SignerService({ messenger: messengers[i]!, signer: signers[i]!, roster: peers }).start();
  const message = new TextEncoder().encode('the committee refreshed');
  const r = await coordinateSignature({ messenger: messengers[0]!, group, roster: peers, message, available: [1, 3, 5], local: signers[0]! });
  t.deepEqual([...r.signers].sort(), [1, 3, 5]);
  t.true(verifyGroupSignature(oldGroup, r.signature, message), 'a plain Ed25519 signature under the unchanged key');
});

test('runRefresh refuses a roster that misses a member of the package, before anything is sent', async (t) => {
  const { started, messengers } = await fullMesh(t, 1);
  const s = started[0]!;
  const messenger = messengers[0]!;
  const { group, shares } = dealerKeys(2, 3);
  const share: FrostSecret = { identifier: identifierOf(1), signingShare: Uint8Array.from(shares[0]!.signingShare) };
  const base = { messenger, public: group.frost, share, sessionId: randomBytes(16), start: Date.now(), deltaMs: 100, secretKey: s.keys.secretKey };
  const error = t.throws(() => runRefresh({ ...base, roster: new Map([[1, s.keys.publicKey], [2, s.keys.publicKey]]) }), { instanceOf: ThresholdError });
  t.is(error?.code, 'BAD_ARGUMENT');
  t.regex(error?.message ?? '', /member 3/);
  t.throws(() => runRefresh({ ...base, roster: new Map([[1, s.keys.publicKey], [2, s.keys.publicKey], [3, s.keys.publicKey]]), deltaMs: 0 }), { instanceOf: ThresholdError });
});
