/**
 * Resharing over real secure channels (BOLT 8 over TCP on loopback): a 2-of-3
 * key moves to a 3-of-4 committee that drops member 1 and adds two members;
 * the group key stays, the new shares sign, and the outcome is in the trail.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import type { FrostSecret } from '@noble/curves/abstract/frost.js';
import { ThresholdError, dealerKeys, identifierOf, runReshare, type DkgOutcome } from '../../src/threshold/index.js';
import { signAndVerify } from './dkg-helpers.js';
import { fullMesh } from './mesh.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('a 2-of-3 key reshared over the channels to a 3-of-4 committee (one member out, two in): same key, new shares sign', async (t) => {
  const { started, messengers, roster } = await fullMesh(t, 5);
  const { group, shares } = dealerKeys(2, 3);
  const old: FrostSecret[] = shares.map((s) => ({ identifier: identifierOf(s.member), signingShare: Uint8Array.from(s.signingShare) }));
  const dealers = [1, 2, 3].map((party) => ({ party, index: party }));
  const receivers = [2, 3, 4, 5].map((party, i) => ({ party, index: i + 1 }));
  const sessionId = randomBytes(16);
  const start = Date.now() + 500;
  const audits: string[][] = started.map(() => []);
  const outcomes: DkgOutcome[] = await Promise.all(
    started.map((s, i) =>
      runReshare({
        messenger: messengers[i]!,
        roster,
        self: i + 1,
        oldPublic: group.frost,
        ...(i < 3 ? { oldShare: old[i]! } : {}),
        dealers,
        receivers,
        threshold: 3,
        sessionId,
        start,
        deltaMs: 1000,
        secretKey: s.keys.secretKey,
        audit: async (kind) => void audits[i]!.push(kind),
      }),
    ),
  );
  for (const o of outcomes) t.is(o.kind, 'done', JSON.stringify(o.kind === 'abort' ? o : {}));
  const done = outcomes.filter((o): o is Extract<DkgOutcome, { kind: 'done' }> => o.kind === 'done');
  t.is(done.length, 5);
  t.true(done.every((d) => hex(d.groupKey) === hex(group.groupKey)), 'the group key stays');
  t.deepEqual(done.map((d) => d.qualified.join()), Array(5).fill('1,2,3'));
  t.is(done[0]!.share, undefined, 'member 1 left the committee: no share');
  const fresh = done.slice(1).map((d) => d.share!);
  const message = new TextEncoder().encode('the committee was reshared');
  t.true(signAndVerify(done[1]!.public, [fresh[0]!, fresh[2]!, fresh[3]!], message), 'three of the new shares sign under the old key');
  const twoSign = (): boolean => {
    try {
      return signAndVerify(done[1]!.public, [fresh[0]!, fresh[1]!], message);
    } catch {
      return false; // noble refuses fewer signers than the threshold
    }
  };
  t.false(twoSign(), 'two no longer do');
  t.deepEqual(audits, Array(5).fill(['threshold.reshare']));
});

test('runReshare refuses parties missing from the roster before anything is sent', async (t) => {
  const { started, messengers } = await fullMesh(t, 1);
  const s = started[0]!;
  const { group } = dealerKeys(2, 3);
  const base = {
    messenger: messengers[0]!,
    self: 1,
    oldPublic: group.frost,
    dealers: [1, 2].map((party) => ({ party, index: party })),
    receivers: [1, 2, 3].map((party) => ({ party, index: party })),
    threshold: 2,
    sessionId: randomBytes(16),
    start: Date.now(),
    deltaMs: 100,
    secretKey: s.keys.secretKey,
  };
  const error = t.throws(() => runReshare({ ...base, roster: new Map([[1, s.keys.publicKey], [2, s.keys.publicKey]]) }), { instanceOf: ThresholdError });
  t.is(error?.code, 'BAD_ARGUMENT');
  t.regex(error?.message ?? '', /party 3/);
});
