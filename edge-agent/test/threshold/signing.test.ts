import test from 'ava';
import { ManualClock } from '../../src/clock/index.js';
import {
  MemoryNonceStore,
  SignerCore,
  SigningCoordinator,
  ThresholdError,
  dealerKeys,
  verifyGroupSignature,
  type CoordinatorAction,
  type GroupPublic,
  type MemberShare,
  type SigningCommitment,
  type SigningResult,
} from '../../src/threshold/signing-index.js';

type Behaviour = 'honest' | 'cheat' | 'silent' | 'silent-share' | 'refuse' | 'small-order';

/** (0, -1): a valid encoding of a point of order 2. */
const ORDER_2 = Uint8Array.from([0xec, ...new Array<number>(30).fill(0xff), 0x7f]);

const TIMEOUT = 1000;

/**
 * Drives a coordinator against in-process signers: every request is answered
 * asynchronously (as over a network, all at once), timers run on a ManualClock.
 */
async function runSigning(
  group: GroupPublic,
  shares: MemberShare[],
  behaviour: Record<number, Behaviour>,
  message: Uint8Array,
  opts: { available?: number[]; exclude?: number[]; maxAttempts?: number } = {},
): Promise<{ result?: SigningResult; error?: ThresholdError; requests: CoordinatorAction[] }> {
  const clock = new ManualClock(0);
  const signers = new Map(shares.map((s) => [s.member, new SignerCore({ group, share: s, nonces: new MemoryNonceStore() })]));
  const coordinator = new SigningCoordinator({
    group,
    message,
    available: opts.available ?? shares.map((s) => s.member),
    exclude: opts.exclude ?? [],
    maxAttempts: opts.maxAttempts ?? 3,
    timeoutMs: TIMEOUT,
  });
  let outcome: { result?: SigningResult; error?: ThresholdError } | undefined;
  const requests: CoordinatorAction[] = [];
  const feed = (actions: CoordinatorAction[]): void => {
    for (const a of actions) {
      switch (a.type) {
        case 'request-commitment': {
          requests.push(a);
          const b = behaviour[a.member] ?? 'honest';
          if (b === 'silent') break;
          void signers.get(a.member)!.commit().then((c) => {
            const sent = b === 'small-order' ? { ...c, binding: ORDER_2 } : c;
            feed(coordinator.onCommitment(a.attempt, a.member, sent));
          });
          break;
        }
        case 'request-share': {
          requests.push(a);
          const b = behaviour[a.member] ?? 'honest';
          if (b === 'silent-share') break;
          queueMicrotask(() => {
            if (b === 'refuse') return feed(coordinator.onRefusal(a.attempt, a.member, 'refused'));
            let s;
            try {
              s = signers.get(a.member)!.sign({ message: a.message, commitments: a.commitments });
            } catch (err) {
              if (!(err instanceof ThresholdError)) throw err;
              return feed(coordinator.onRefusal(a.attempt, a.member, 'refused'));
            }
            const share = b === 'cheat' ? { member: s.member, share: Uint8Array.from(s.share, (x, i) => (i === 0 ? x ^ 1 : x)) } : s;
            feed(coordinator.onShare(a.attempt, a.member, share));
          });
          break;
        }
        case 'set-timer':
          clock.setTimer(a.ms, () => feed(coordinator.onTimeout(a.timer)));
          break;
        case 'done':
          outcome = { result: a.result };
          break;
        case 'failed':
          outcome = { error: a.error };
          break;
      }
    }
  };
  feed(coordinator.start());
  for (let i = 0; i < 100 && outcome === undefined; i++) {
    for (let j = 0; j < 5; j++) await new Promise((r) => setImmediate(r)); // let every answer arrive
    if (outcome === undefined) clock.advance(TIMEOUT);
  }
  if (outcome === undefined) throw new Error('signing never finished');
  return { ...outcome, requests };
}

const key35 = dealerKeys(3, 5);
const key57 = dealerKeys(5, 7);
const msg = new TextEncoder().encode('rotate the fleet CA');

test('3-of-5, everyone honest: one attempt, first three members, signature verifies', async (t) => {
  const { result } = await runSigning(key35.group, key35.shares, {}, msg);
  t.truthy(result);
  t.deepEqual(result!.signers, [1, 2, 3]);
  t.deepEqual(result!.excluded, []);
  t.is(result!.attempts, 1);
  t.true(verifyGroupSignature(key35.group, result!.signature, msg));
});

test('5-of-7, everyone honest', async (t) => {
  const { result } = await runSigning(key57.group, key57.shares, {}, msg, { available: [7, 6, 5, 4, 3, 2], exclude: [3] });
  t.deepEqual(result!.signers, [2, 4, 5, 6, 7]);
  t.true(verifyGroupSignature(key57.group, result!.signature, msg));
});

test('a cheating signer is named, excluded, and the retry succeeds', async (t) => {
  const { result } = await runSigning(key35.group, key35.shares, { 2: 'cheat' }, msg);
  t.deepEqual(result!.excluded, [{ member: 2, reason: 'bad-share' }]);
  t.deepEqual(result!.signers, [1, 3, 4]);
  t.is(result!.attempts, 2);
  t.true(verifyGroupSignature(key35.group, result!.signature, msg));
});

test('a member silent in round one times out and is replaced within the same attempt', async (t) => {
  const { result, requests } = await runSigning(key35.group, key35.shares, { 1: 'silent' }, msg);
  t.deepEqual(result!.excluded, [{ member: 1, reason: 'timeout' }]);
  t.deepEqual(result!.signers, [2, 3, 4]);
  t.is(result!.attempts, 1);
  // members 2 and 3 were asked for a commitment once: theirs were kept
  t.is(requests.filter((r) => r.type === 'request-commitment' && r.member === 2).length, 1);
  t.true(verifyGroupSignature(key35.group, result!.signature, msg));
});

test('a member silent in round two times out; a new attempt with fresh commitments succeeds', async (t) => {
  const { result } = await runSigning(key35.group, key35.shares, { 3: 'silent-share' }, msg);
  t.deepEqual(result!.excluded, [{ member: 3, reason: 'timeout' }]);
  t.deepEqual(result!.signers, [1, 2, 4]);
  t.is(result!.attempts, 2);
  t.true(verifyGroupSignature(key35.group, result!.signature, msg));
});

test('a member that sends a small-order commitment is blamed, not the signers that refuse the list', async (t) => {
  const { result } = await runSigning(key35.group, key35.shares, { 2: 'small-order' }, msg);
  t.deepEqual(result!.excluded, [{ member: 2, reason: 'malformed' }]);
  t.deepEqual(result!.signers, [1, 3, 4]);
  t.is(result!.attempts, 2);
  t.true(verifyGroupSignature(key35.group, result!.signature, msg));
});

test('a member that refuses is replaced', async (t) => {
  const { result } = await runSigning(key35.group, key35.shares, { 1: 'refuse' }, msg);
  t.deepEqual(result!.excluded, [{ member: 1, reason: 'refused' }]);
  t.deepEqual(result!.signers, [2, 3, 4]);
});

test('not enough honest signers: NOT_ENOUGH_SIGNERS naming the culprits', async (t) => {
  const { error } = await runSigning(key35.group, key35.shares, { 2: 'cheat', 4: 'cheat', 5: 'silent' }, msg, { maxAttempts: 5 });
  t.true(error instanceof ThresholdError);
  t.is(error!.code, 'NOT_ENOUGH_SIGNERS');
  t.deepEqual([...error!.culprits].sort(), ['2', '4', '5']);
  t.regex(error!.message, /2 \(bad-share\).*4 \(bad-share\).*5 \(timeout\)/);

  const all = await runSigning(key35.group, key35.shares, { 1: 'cheat', 2: 'cheat', 3: 'cheat' }, msg);
  t.is(all.error!.code, 'NOT_ENOUGH_SIGNERS');
  t.deepEqual([...all.error!.culprits], ['1', '2', '3']);
});

test('fewer available members than the threshold fails at once', async (t) => {
  const { error, requests } = await runSigning(key35.group, key35.shares, {}, msg, { available: [1, 2] });
  t.is(error!.code, 'NOT_ENOUGH_SIGNERS');
  t.is(requests.length, 0);
});

test('retries are bounded: ABORTED with the culprits when attempts run out', async (t) => {
  const { error } = await runSigning(key57.group, key57.shares, { 1: 'cheat', 6: 'cheat' }, msg, { maxAttempts: 2 });
  // attempt 1 {1..5} blames 1; attempt 2 {2..6} blames 6; no third attempt
  t.is(error!.code, 'ABORTED');
  t.deepEqual([...error!.culprits], ['1', '6']);
});

test('stale, duplicate and unsolicited answers are ignored', async (t) => {
  const { group, shares } = key35;
  const signers = shares.map((s) => new SignerCore({ group, share: s, nonces: new MemoryNonceStore() }));
  const c = new SigningCoordinator({ group, message: msg, available: [1, 2, 3, 4, 5], timeoutMs: TIMEOUT });
  const first = c.start();
  t.deepEqual(first.filter((a) => a.type === 'request-commitment').map((a) => (a as { member: number }).member), [1, 2, 3]);
  const commits = await Promise.all(signers.map((s) => s.commit()));
  t.deepEqual(c.onCommitment(1, 5, commits[4]!), [], 'member 5 was not asked');
  t.deepEqual(c.onCommitment(2, 1, commits[0]!), [], 'wrong attempt');
  t.deepEqual(c.onCommitment(1, 1, commits[0]!), []);
  t.deepEqual(c.onCommitment(1, 1, commits[0]!), [], 'duplicate');
  t.deepEqual(c.onTimeout(999), [], 'unknown timer');
  t.deepEqual(c.onCommitment(1, 2, commits[1]!), []);
  const round2 = c.onCommitment(1, 3, commits[2]!);
  const reqs = round2.filter((a) => a.type === 'request-share');
  t.is(reqs.length, 3);
  // a commitment claiming to be someone else's is malformed: its sender is dropped
  const c2 = new SigningCoordinator({ group, message: msg, available: [1, 2, 3, 4, 5] });
  c2.start();
  const out = c2.onCommitment(1, 2, commits[0]!);
  t.deepEqual(c2.excluded, [{ member: 2, reason: 'malformed' }]);
  t.true(out.some((a) => a.type === 'request-commitment' && a.member === 4));
});

test('bad coordinator options are BAD_ARGUMENT', (t) => {
  const { group } = key35;
  for (const opts of [
    { group, message: msg, available: [0, 1, 2] },
    { group, message: msg, available: [1, 2, 6] },
    { group, message: 'text' as unknown as Uint8Array, available: [1, 2, 3] },
    { group, message: msg, available: [1, 2, 3], maxAttempts: 0 },
    { group, message: msg, available: [1, 2, 3], timeoutMs: -1 },
  ]) {
    t.is(t.throws(() => new SigningCoordinator(opts), { instanceOf: ThresholdError })!.code, 'BAD_ARGUMENT');
  }
});

test('the signer refuses inconsistent sign requests without spending its nonce', async (t) => {
  const { group, shares } = key35;
  const approve = (m: Uint8Array): boolean => Buffer.from(m).toString() !== 'forbidden';
  const me = new SignerCore({ group, share: shares[0]!, nonces: new MemoryNonceStore(), maxMessageBytes: 64, approve });
  const others = await Promise.all([1, 2, 3].map((i) => new SignerCore({ group, share: shares[i]!, nonces: new MemoryNonceStore() }).commit()));
  const mine = await me.commit();
  const code = (commitments: readonly SigningCommitment[], message: Uint8Array = msg): string =>
    t.throws(() => me.sign({ message, commitments }), { instanceOf: ThresholdError })!.code;
  t.is(code([others[0]!, others[1]!, others[2]!]), 'MALFORMED', 'own commitment missing');
  t.is(code([mine, others[0]!, others[0]!]), 'MALFORMED', 'member twice');
  t.is(code([mine, others[0]!]), 'MALFORMED', 'below threshold');
  t.is(code([mine, others[0]!, { ...others[1]!, member: 9 }]), 'MALFORMED', 'not a member');
  t.is(code([mine, others[0]!, others[1]!], new Uint8Array(65)), 'MALFORMED', 'message too long');
  t.is(code([mine, others[0]!, others[1]!], Buffer.from('forbidden')), 'ABORTED', 'policy');
  // none of that spent the nonce: the real request still signs
  t.notThrows(() => me.sign({ message: msg, commitments: [mine, others[0]!, others[1]!] }));
  t.is(code([mine, others[0]!, others[1]!]), 'NONCE_REUSE');
});

test('a signer whose share does not match the group is refused at construction', (t) => {
  const { group } = key35;
  const foreign = dealerKeys(3, 5).shares[0]!;
  t.is(t.throws(() => new SignerCore({ group, share: foreign, nonces: new MemoryNonceStore() }), { instanceOf: ThresholdError })!.code, 'BAD_SHARE');
});
