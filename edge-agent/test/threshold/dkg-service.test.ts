/**
 * DKG among five members over real secure channels (BOLT 8 over TCP on
 * loopback), then a committee signature with the shares it produced,
 * verified as plain Ed25519.
 */
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditTrail, verifyAuditDir } from '../../src/audit/index.js';
import { systemClock } from '../../src/clock/index.js';
import {
  MemoryNonceStore,
  SignerCore,
  SignerService,
  coordinateSignature,
  groupPublicFromFrost,
  makeMemberShare,
  runDkg,
  thresholdDkgConfirm,
  verifyGroupSignature,
  type DkgOutcome,
} from '../../src/threshold/index.js';
import { sign } from '../../src/identity/index.js';
import { fullMesh } from './mesh.js';


test('five members run a 3-of-5 DKG over the channels, agree, and sign with the result', async (t) => {
  const n = 5;
  const { started, messengers, roster } = await fullMesh(t, n);
  const sessionId = randomBytes(16);
  // All five members share one event loop here (and ava runs other files beside it), so Δ must cover five
  // members' work with room to spare: a DKG whose Δ is too short can split the group key (docs/threshold.md).
  const start = Date.now() + 1000;
  // Member 1 records into a real audit trail; the others into a list.
  const dir = await mkdtemp(join(tmpdir(), 'edge-dkg-audit-'));
  const trail = await AuditTrail.open(dir, { clock: systemClock });
  t.teardown(async () => {
    await trail.close();
    await rm(dir, { recursive: true, force: true });
  });
  const entries: [string, Record<string, unknown>][] = [];
  const outcomes: DkgOutcome[] = await Promise.all(
    started.map((s, i) =>
      runDkg({
        messenger: messengers[i]!,
        roster,
        self: i + 1,
        threshold: 3,
        sessionId,
        start,
        deltaMs: 1000,
        secretKey: s.keys.secretKey,
        audit: i === 0 ? (kind, data) => trail.append(kind, data) : async (kind, data) => void entries.push([kind, data]),
      }),
    ),
  );
  for (const o of outcomes) t.is(o.kind, 'done', JSON.stringify(o.kind === 'abort' ? o : {}));
  const done = outcomes.filter((o): o is Extract<DkgOutcome, { kind: 'done' }> => o.kind === 'done');
  const key = Buffer.from(done[0]!.groupKey).toString('hex');
  t.true(done.every((d) => Buffer.from(d.groupKey).toString('hex') === key), 'one group key');
  t.true(done.every((d) => d.qualified.join() === '1,2,3,4,5'), 'everyone qualified');
  t.is(entries.length, 4);
  t.deepEqual(entries[0]![1], { session: Buffer.from(sessionId).toString('hex'), disqualified: [], equivocations: 0, outcome: 'done', groupKey: key, qualified: [1, 2, 3, 4, 5] });
  t.true(entries.every(([kind]) => kind === 'threshold.dkg'));
  t.true((await verifyAuditDir(dir)).ok, 'the trail verifies');

  // The shares sign: members 2..5 serve, member 1 coordinates.
  const group = groupPublicFromFrost(done[0]!.public);
  const peers = new Map(started.map((s, i) => [i + 1, s.manager.peerId] as const));
  const signers = done.map((d, i) => new SignerCore({ group, share: makeMemberShare(i + 1, d.share!.signingShare), nonces: new MemoryNonceStore() }));
  for (let i = 1; i < n; i++) new SignerService({ messenger: messengers[i]!, signer: signers[i]!, roster: peers }).start();
  const message = new TextEncoder().encode('the committee exists');
  const signed: [string, Record<string, unknown>][] = [];
  const r = await coordinateSignature({ messenger: messengers[0]!, group, roster: peers, message, available: [1, 2, 3, 4, 5], local: signers[0]!, audit: async (kind, data) => void signed.push([kind, data]) });
  t.true(verifyGroupSignature(group, r.signature, message));
  t.deepEqual(signed, [
    ['threshold.sign', { groupKey: key, messageSha256: createHash('sha256').update(message).digest('hex'), signers: [1, 2, 3], excluded: [], attempts: 1 }],
  ]);
  // A trail that refuses the entry: no signature is handed out unrecorded.
  await t.throwsAsync(
    coordinateSignature({ messenger: messengers[0]!, group, roster: peers, message, available: [1, 2, 3, 4, 5], local: signers[0]!, audit: () => Promise.reject(new Error('disk full')) }),
    { message: /audit trail refused.*disk full/ },
  );
});

test('key confirmation: a member that claims a different result makes everyone abort instead of splitting', async (t) => {
  const n = 4;
  const { started, messengers, roster } = await fullMesh(t, n);
  // Member 4 deals honestly but confirms a different digest (signed, so it is its word against the others').
  const liar = messengers[3]!;
  const send = liar.send.bind(liar);
  (liar as { send: typeof liar.send }).send = ((peer: Uint8Array, type: unknown, body: { digest?: Uint8Array }) => {
    if (type === thresholdDkgConfirm && body.digest !== undefined) {
      const digest = Uint8Array.from(body.digest);
      digest[0]! ^= 1;
      return send(peer, thresholdDkgConfirm, { ...(body as { sessionId: Uint8Array; signature: Uint8Array }), digest, signature: sign(started[3]!.keys.secretKey, digest) });
    }
    return send(peer, type as never, body as never);
  }) as typeof liar.send;
  const sessionId = randomBytes(16);
  const start = Date.now() + 1000;
  const outcomes = await Promise.all(
    started.map((s, i) => runDkg({ messenger: messengers[i]!, roster, self: i + 1, threshold: 2, sessionId, start, deltaMs: 1000, secretKey: s.keys.secretKey })),
  );
  for (const o of outcomes.slice(0, 3)) {
    t.is(o.kind, 'abort');
    if (o.kind === 'abort') t.regex(o.reason, /members 4 ended with a different result/);
  }
});

test('a run given up through its signal rejects with ABORTED, records nothing, and leaves its session free', async (t) => {
  const { started, messengers, roster } = await fullMesh(t, 2);
  const sessionId = randomBytes(16);
  const recorded: string[] = [];
  const options = (i: number, signal?: AbortSignal) => ({
    messenger: messengers[i]!,
    roster,
    self: i + 1,
    threshold: 2,
    sessionId,
    start: Date.now() + 60_000,
    deltaMs: 500,
    secretKey: started[i]!.keys.secretKey,
    audit: async (kind: string) => void recorded.push(kind),
    ...(signal ? { signal } : {}),
  });
  const giveUp = new AbortController();
  const run = runDkg(options(0, giveUp.signal));
  giveUp.abort();
  await t.throwsAsync(run, { code: 'ABORTED' } as never);
  t.deepEqual(recorded, []);
  // The session id is free again: a new run may take it (and is given up before it starts).
  const again = new AbortController();
  again.abort();
  await t.throwsAsync(runDkg(options(0, again.signal)), { code: 'ABORTED' } as never);
  const third = new AbortController();
  const running = runDkg(options(0, third.signal));
  third.abort();
  await t.throwsAsync(running, { code: 'ABORTED' } as never);
});
