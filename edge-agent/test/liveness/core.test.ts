/** The liveness tracker without I/O: explicit `now` on every call. */
import test from 'ava';
import fc from 'fast-check';
import { AnswerLimiter, LivenessError, LivenessTracker, type LivenessStatus, type StatusChange } from '../../src/liveness/index.js';

const P = 'a'.repeat(64);
const Q = 'b'.repeat(64);

function nonce(n: number): Uint8Array {
  return new Uint8Array(32).fill(n);
}

/** Issues a challenge and lets it expire: one miss. */
function missOnce(tracker: LivenessTracker, peer: string, at: number, n = 1): StatusChange[] {
  const changes = tracker.issue(peer, nonce(n), at);
  return [...changes, ...tracker.expire(at + tracker.deadlineMs + 1)];
}

test('K consecutive misses make a peer offline exactly at K', (t) => {
  const tracker = new LivenessTracker({ deadlineMs: 100, missesOffline: 3 });
  t.deepEqual(missOnce(tracker, P, 0), []);
  t.deepEqual(missOnce(tracker, P, 1000), []);
  t.is(tracker.stats(P)?.status, 'unknown');
  t.is(tracker.stats(P)?.consecutiveMisses, 2);
  const changes = missOnce(tracker, P, 2000);
  t.deepEqual(changes, [{ peer: P, from: 'unknown', to: 'offline', at: 2101, consecutiveMisses: 3 }]);
  // Further misses keep it offline without announcing it again.
  t.deepEqual(missOnce(tracker, P, 3000), []);
  t.deepEqual(tracker.stats(P), { status: 'offline', consecutiveMisses: 4, totalMisses: 4, answered: 0, lastRttMs: null });
});

test('an answer resets the consecutive misses and sets online', (t) => {
  const tracker = new LivenessTracker({ deadlineMs: 100, missesOffline: 2 });
  tracker.issue(P, nonce(1), 0);
  t.deepEqual(tracker.answer(P, nonce(1), true, 40), { outcome: 'answered', changes: [{ peer: P, from: 'unknown', to: 'online', at: 40, consecutiveMisses: 0 }] });
  t.deepEqual(tracker.stats(P), { status: 'online', consecutiveMisses: 0, totalMisses: 0, answered: 1, lastRttMs: 40 });
  t.deepEqual(missOnce(tracker, P, 1000), []);
  t.is(tracker.stats(P)?.status, 'online');
  t.deepEqual(missOnce(tracker, P, 2000).map((c) => [c.from, c.to]), [['online', 'offline']]);
  tracker.issue(P, nonce(9), 3000);
  // Exactly at the deadline is still on time.
  const back = tracker.answer(P, nonce(9), true, 3100);
  t.deepEqual(back.changes.map((c) => [c.from, c.to]), [['offline', 'online']]);
  t.deepEqual(tracker.stats(P), { status: 'online', consecutiveMisses: 0, totalMisses: 2, answered: 2, lastRttMs: 100 });
  t.is(tracker.outstanding(P), undefined);
});

test('late answers and invalid signatures count as misses', (t) => {
  const tracker = new LivenessTracker({ deadlineMs: 100, missesOffline: 2 });
  tracker.issue(P, nonce(1), 0);
  t.deepEqual(tracker.answer(P, nonce(1), true, 101), { outcome: 'late', changes: [] });
  tracker.issue(P, nonce(2), 200);
  const invalid = tracker.answer(P, nonce(2), false, 210);
  t.is(invalid.outcome, 'invalid');
  t.deepEqual(invalid.changes.map((c) => c.to), ['offline']);
  tracker.issue(P, nonce(3), 300);
  t.is(tracker.fail(P, nonce(3), 301).outcome, 'failed');
  t.deepEqual(tracker.stats(P), { status: 'offline', consecutiveMisses: 3, totalMisses: 3, answered: 0, lastRttMs: null });
  // Each challenge ends once: a second report about it is unknown.
  t.is(tracker.answer(P, nonce(3), true, 302).outcome, 'unknown');
  t.is(tracker.stats(P)?.totalMisses, 3);
});

test('answers for no challenge, another nonce or another peer are ignored', (t) => {
  const tracker = new LivenessTracker({ deadlineMs: 100 });
  t.deepEqual(tracker.answer(P, nonce(1), true, 0), { outcome: 'unknown', changes: [] });
  t.is(tracker.size, 0, 'an unknown peer is not followed because it answered');
  tracker.issue(P, nonce(1), 0);
  t.is(tracker.answer(P, nonce(2), true, 1).outcome, 'unknown');
  t.is(tracker.answer(Q, nonce(1), true, 1).outcome, 'unknown');
  t.is(tracker.fail(P, nonce(2), 1).outcome, 'unknown');
  t.deepEqual(tracker.stats(P), { status: 'unknown', consecutiveMisses: 0, totalMisses: 0, answered: 0, lastRttMs: null });
  t.is(tracker.answer(P, nonce(1), true, 2).outcome, 'answered');
});

test('issuing again while a challenge is outstanding counts the old one as missed', (t) => {
  const tracker = new LivenessTracker({ deadlineMs: 100, missesOffline: 2 });
  tracker.issue(P, nonce(1), 0);
  t.deepEqual(tracker.issue(P, nonce(2), 10), []);
  t.is(tracker.stats(P)?.consecutiveMisses, 1);
  t.deepEqual(tracker.issue(P, nonce(3), 20).map((c) => c.to), ['offline']);
  t.is(tracker.answer(P, nonce(1), true, 21).outcome, 'unknown');
  t.is(tracker.answer(P, nonce(2), true, 21).outcome, 'unknown');
  t.deepEqual(tracker.outstanding(P), { nonce: nonce(3), issuedAt: 20, deadline: 120 });
  // expire() only takes what is past its deadline.
  t.deepEqual(tracker.expire(120), []);
  t.is(tracker.stats(P)?.totalMisses, 2);
  tracker.expire(121);
  t.is(tracker.stats(P)?.totalMisses, 3);
});

test('the tracker keeps its own copy of the nonce', (t) => {
  const tracker = new LivenessTracker();
  const n = nonce(5);
  tracker.issue(P, n, 0);
  n.fill(6);
  t.is(tracker.answer(P, nonce(5), true, 1).outcome, 'answered');
});

test('the number of peers followed is bounded; forget makes room', (t) => {
  const tracker = new LivenessTracker({ maxPeers: 2 });
  tracker.issue(P, nonce(1), 0);
  tracker.issue(Q, nonce(1), 0);
  const error = t.throws(() => tracker.issue('c'.repeat(64), nonce(1), 0), { instanceOf: LivenessError });
  t.is(error?.code, 'TOO_MANY_PEERS');
  t.is(tracker.size, 2);
  tracker.issue(P, nonce(2), 1); // a followed peer may always be challenged again
  t.true(tracker.forget(P));
  t.false(tracker.forget(P));
  t.deepEqual(tracker.issue('c'.repeat(64), nonce(1), 2), []);
  t.deepEqual(tracker.peers(), [Q, 'c'.repeat(64)]);
});

test('tracker inputs are validated', (t) => {
  const bad = (fn: () => unknown) => t.throws(fn, { instanceOf: LivenessError, code: 'BAD_ARGUMENT' });
  bad(() => new LivenessTracker({ deadlineMs: 0 }));
  bad(() => new LivenessTracker({ deadlineMs: 1.5 }));
  bad(() => new LivenessTracker({ missesOffline: 0 }));
  bad(() => new LivenessTracker({ maxPeers: -1 }));
  bad(() => new LivenessTracker(null as never));
  const tracker = new LivenessTracker();
  bad(() => tracker.issue(P.toUpperCase(), nonce(1), 0));
  bad(() => tracker.issue('ab', nonce(1), 0));
  bad(() => tracker.issue(P, new Uint8Array(31), 0));
  bad(() => tracker.issue(P, nonce(1), Number.NaN));
  bad(() => tracker.answer(P, nonce(1), 'yes' as never, 0));
  bad(() => tracker.expire(Infinity));
  bad(() => tracker.stats(42 as never));
  t.is(tracker.size, 0);
});

test('property: counters and status stay consistent over any sequence of calls', (t) => {
  const K = 3;
  const peers = [P, Q, 'c'.repeat(64)] as const;
  const op = fc.oneof(
    fc.record({ kind: fc.constant('issue' as const), peer: fc.nat(2), n: fc.nat(3), dt: fc.nat(150) }),
    fc.record({ kind: fc.constant('answer' as const), peer: fc.nat(2), n: fc.nat(3), valid: fc.boolean(), dt: fc.nat(150) }),
    fc.record({ kind: fc.constant('fail' as const), peer: fc.nat(2), n: fc.nat(3), dt: fc.nat(150) }),
    fc.record({ kind: fc.constant('expire' as const), dt: fc.nat(150) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const tracker = new LivenessTracker({ deadlineMs: 100, missesOffline: K });
      const issued = new Map<string, number>();
      const last = new Map<string, LivenessStatus>();
      const follow = (changes: readonly StatusChange[]): void => {
        for (const c of changes) {
          // Changes chain: each starts where the previous one for that peer ended, and changes something.
          if (c.from !== (last.get(c.peer) ?? 'unknown') || c.from === c.to) throw new Error(`broken change ${JSON.stringify(c)}`);
          last.set(c.peer, c.to);
        }
      };
      let now = 0;
      for (const o of ops) {
        now += o.dt;
        if (o.kind === 'expire') {
          follow(tracker.expire(now));
          continue;
        }
        const peer = peers[o.peer]!;
        if (o.kind === 'issue') {
          follow(tracker.issue(peer, nonce(o.n), now));
          issued.set(peer, (issued.get(peer) ?? 0) + 1);
        } else if (o.kind === 'answer') {
          follow(tracker.answer(peer, nonce(o.n), o.valid, now).changes);
        } else {
          follow(tracker.fail(peer, nonce(o.n), now).changes);
        }
      }
      for (const peer of tracker.peers()) {
        const s = tracker.stats(peer)!;
        const open = tracker.outstanding(peer) === undefined ? 0 : 1;
        // Every challenge ended exactly once, or is the one still outstanding.
        if (s.answered + s.totalMisses + open !== issued.get(peer)) return false;
        if (s.consecutiveMisses > s.totalMisses) return false;
        const expected: LivenessStatus = s.consecutiveMisses >= K ? 'offline' : s.answered > 0 ? 'online' : 'unknown';
        if (s.status !== expected) return false;
        if (s.status !== (last.get(peer) ?? 'unknown')) return false;
        if ((s.lastRttMs === null) !== (s.answered === 0)) return false;
        if (s.lastRttMs !== null && (s.lastRttMs < 0 || s.lastRttMs > 100)) return false;
      }
      return tracker.size === issued.size;
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('the answer budget refills with time and is kept per challenger', (t) => {
  const limiter = new AnswerLimiter({ answersPerSecond: 1, answerBurst: 2, maxPeers: 2 });
  t.true(limiter.take(P, 0));
  t.true(limiter.take(P, 0));
  t.false(limiter.take(P, 0));
  t.true(limiter.take(Q, 0), 'another challenger has its own budget');
  t.true(limiter.take(Q, 0));
  t.false(limiter.take(P, 500));
  t.true(limiter.take(P, 1000));
  t.false(limiter.take(P, 500), 'a clock stepped back gives nothing');
  // Full: a third challenger gets in only once someone's bucket is full again.
  t.false(limiter.take('c'.repeat(64), 1000));
  t.true(limiter.take('c'.repeat(64), 5000));
  t.is(limiter.size, 1);
  t.throws(() => new AnswerLimiter({ answersPerSecond: 0 }), { instanceOf: LivenessError, code: 'BAD_ARGUMENT' });
  t.throws(() => new AnswerLimiter({ answerBurst: 0.5 }), { instanceOf: LivenessError, code: 'BAD_ARGUMENT' });
  t.throws(() => limiter.take(P, Number.NaN), { instanceOf: LivenessError, code: 'BAD_ARGUMENT' });
});
