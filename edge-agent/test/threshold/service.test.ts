/**
 * The signing service over real secure channels (BOLT 8 over TCP on
 * loopback): five members, a 3-of-5 key, one coordinator asking the others
 * in parallel; a member that cheats is named and excluded, a silent one is
 * timed out, and the retry still signs.
 */
import { randomBytes } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import {
  MemoryNonceStore,
  SignerCore,
  SignerService,
  ThresholdError,
  coordinateSignature,
  dealerKeys,
  encodeCommitment,
  encodeSignatureShare,
  thresholdCommit,
  thresholdSign,
  verifyGroupSignature,
  withThresholdMessages,
  decodeCommitmentList,
} from '../../src/threshold/index.js';
import { Messenger } from '../../src/transport/index.js';
import { coreMessages } from '../../src/wire/index.js';
import { address, startManager, until } from '../transport/net-helpers.js';

const registry = withThresholdMessages(coreMessages);
type Behaviour = 'honest' | 'cheat' | 'silent' | 'picky';
/** What a picky member signs: only messages that start with this. */
const APPROVED_PREFIX = 'admit ';

async function committee(t: ExecutionContext, behave: (member: number) => Behaviour = () => 'honest', rosterOf?: (roster: Map<number, Uint8Array>) => Map<number, Uint8Array>) {
  const { group, shares } = dealerKeys(3, 5);
  const started = await Promise.all(shares.map(() => startManager()));
  const roster = new Map(started.map((s, i) => [i + 1, s.manager.peerId] as const));
  const members = started.map((s, i) => {
    const messenger = new Messenger({ manager: s.manager, registry });
    const signer = new SignerCore({ group, share: shares[i]!, nonces: new MemoryNonceStore() });
    const b = behave(i + 1);
    if (b === 'honest') new SignerService({ messenger, signer, roster: rosterOf?.(roster) ?? roster }).start();
    if (b === 'picky') {
      const approve = (message: Uint8Array): boolean => new TextDecoder().decode(message).startsWith(APPROVED_PREFIX);
      new SignerService({ messenger, signer, roster: rosterOf?.(roster) ?? roster, approve }).start();
    }
    if (b === 'cheat') {
      // Honest commitments, then a share that is a valid scalar but not the right one.
      messenger.handle(thresholdCommit, async () => encodeCommitment(await signer.commit()));
      messenger.handle(thresholdSign, (req) => {
        const share = encodeSignatureShare(signer.sign({ message: req.body.message, commitments: decodeCommitmentList(req.body.commitments) }));
        // A random scalar (below the group order): two cheaters' errors must not cancel in the sum, as two
        // opposite bit flips would.
        const bad = randomBytes(32);
        bad[31]! &= 0x0f;
        return { ...share, share: new Uint8Array(bad) };
      });
    }
    if (b === 'silent') {
      // A hung member: it takes requests and never answers (one with no handler at all is refused at once).
      messenger.handle(thresholdCommit, () => new Promise<never>(() => {}));
      messenger.handle(thresholdSign, () => new Promise<never>(() => {}));
    }
    return { manager: s.manager, messenger, signer };
  });
  t.teardown(async () => {
    for (const m of members) m.messenger.close();
    await Promise.all(members.map((m) => m.manager.close()));
  });
  for (let i = 1; i < started.length; i++) await started[0]!.manager.dial(address(started[i]!.keys, started[i]!.port));
  await until(() => started[0]!.manager.channels().length === 4, 10_000, 'coordinator linked to all');
  const sign = (message: Uint8Array, timeoutMs = 2000) =>
    coordinateSignature({ messenger: members[0]!.messenger, group, roster, message, available: [1, 2, 3, 4, 5], local: members[0]!.signer, timeoutMs });
  return { group, sign };
}

test('3-of-5 over the channels: the signature verifies as plain Ed25519', async (t) => {
  const { group, sign } = await committee(t);
  const message = new TextEncoder().encode('admit board 42');
  const r = await sign(message);
  t.true(verifyGroupSignature(group, r.signature, message));
  t.deepEqual(r.signers, [1, 2, 3]);
  t.is(r.attempts, 1);
  t.deepEqual(r.excluded, []);
});

test('a cheating member is named and excluded, a silent one timed out, and the retry signs', async (t) => {
  const { group, sign } = await committee(t, (m) => (m === 2 ? 'cheat' : m === 3 ? 'silent' : 'honest'));
  const message = new TextEncoder().encode('rotate key');
  const r = await sign(message, 500);
  t.true(verifyGroupSignature(group, r.signature, message));
  t.deepEqual(r.signers, [1, 4, 5]);
  t.deepEqual(
    [...r.excluded].sort((a, b) => a.member - b.member),
    [
      { member: 2, reason: 'bad-share' },
      { member: 3, reason: 'timeout' },
    ],
  );
});

test('too few honest members: it fails naming the culprits', async (t) => {
  const { sign } = await committee(t, (m) => (m === 2 || m === 4 ? 'cheat' : m === 3 ? 'silent' : 'honest'));
  const err = await t.throwsAsync(sign(Uint8Array.of(1), 400), { instanceOf: ThresholdError });
  t.true(['2', '3', '4'].every((c) => err!.culprits.includes(c)), err!.culprits.join());
});

test('members serve only their roster: a coordinator missing from it is refused', async (t) => {
  const { sign } = await committee(t, () => 'honest', (roster) => new Map([...roster].filter(([m]) => m !== 1)));
  const err = await t.throwsAsync(sign(Uint8Array.of(2), 400), { instanceOf: ThresholdError });
  t.true(err!.culprits.length >= 3, err!.message);
});

test('members that check what they sign: approved messages are signed, others cannot reach the threshold', async (t) => {
  // Members 2..5 sign only what they approve; the coordinator (member 1) alone is one share short of 3.
  const { group, sign } = await committee(t, (m) => (m === 1 ? 'honest' : 'picky'));
  const ok = new TextEncoder().encode('admit board 7');
  t.true(verifyGroupSignature(group, (await sign(ok)).signature, ok));
  const err = await t.throwsAsync(sign(new TextEncoder().encode('revoke everything')), { instanceOf: ThresholdError });
  t.truthy(err);
  t.regex(err!.message, /approved|ABORTED|excluded|too few|not enough/i);
});
