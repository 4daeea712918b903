/**
 * Commitments fetched ahead (CommitmentPool): the pool itself with in-process
 * signers, then the signing service over real secure channels with a pool:
 * one round trip, a pooled commitment never signs twice, commitments pooled
 * before a member's restart are burned there (and the coordinator recovers),
 * and a cheater is still named when the aggregate fails.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import {
  CommitmentPool,
  MemoryNonceStore,
  NonceStore,
  SignerCore,
  SignerService,
  SigningCoordinator,
  ThresholdError,
  commitmentAnnouncer,
  commitmentFetcher,
  coordinateSignature,
  dealerKeys,
  decodeCommitmentList,
  encodeCommitment,
  encodeSignatureShare,
  thresholdCommit,
  thresholdPrepare,
  thresholdSign,
  verifyGroupSignature,
  withThresholdMessages,
  type MemberShare,
  type SigningCommitment,
} from '../../src/threshold/index.js';
import { Messenger, TransportError } from '../../src/transport/index.js';
import { coreMessages } from '../../src/wire/index.js';
import { address, startManager, until } from '../transport/net-helpers.js';

/** (0, -1): a valid encoding of a point of order 2. */
const ORDER_2 = Uint8Array.from([0xec, ...new Array<number>(30).fill(0xff), 0x7f]);
const key35 = dealerKeys(3, 5);
const hex = (c: SigningCommitment): string => Buffer.from(c.hiding).toString('hex');

function localSigners(shares: readonly MemberShare[]) {
  const calls = new Map<number, number>();
  const signers = new Map(shares.map((s) => [s.member, new SignerCore({ group: key35.group, share: s, nonces: new MemoryNonceStore() })]));
  const fetch = async (member: number): Promise<SigningCommitment> => {
    calls.set(member, (calls.get(member) ?? 0) + 1);
    return signers.get(member)!.commit();
  };
  return { signers, fetch, calls };
}

// ---------------------------------------------------------------- the pool alone

test('refill tops every member up to depth, once: concurrent refills do not over-fetch', async (t) => {
  const { fetch, calls } = localSigners(key35.shares);
  const pool = new CommitmentPool({ members: [1, 2, 3], fetch, depth: 3 });
  await Promise.all([pool.refill(), pool.refill()]);
  t.deepEqual([1, 2, 3].map((m) => pool.size(m)), [3, 3, 3]);
  t.deepEqual([1, 2, 3].map((m) => calls.get(m)), [3, 3, 3]);
  t.is(pool.size(4), 0);
  t.is(pool.take(4), undefined);
});

test('take hands each commitment out once; refill replaces what was taken', async (t) => {
  const { fetch, calls } = localSigners(key35.shares);
  const pool = new CommitmentPool({ members: [1, 2], fetch, depth: 2 });
  await pool.refill();
  const seen = new Set<string>();
  for (let i = 0; i < 2; i++) {
    const c = pool.take(1)!;
    t.is(c.member, 1);
    t.false(seen.has(hex(c)));
    seen.add(hex(c));
  }
  t.is(pool.take(1), undefined);
  t.is(pool.size(2), 2);
  await pool.refill();
  t.is(pool.size(1), 2);
  t.is(calls.get(1), 4);
  t.is(calls.get(2), 2);
  for (let i = 0; i < 2; i++) t.false(seen.has(hex(pool.take(1)!)));
});

test('invalid commitments and failed fetches are not pooled', async (t) => {
  const { signers } = localSigners(key35.shares);
  const pool = new CommitmentPool({
    members: [1, 2, 3, 4],
    depth: 2,
    fetch: async (member) => {
      const c = await signers.get(member)!.commit();
      if (member === 1) return { ...c, binding: ORDER_2 }; // small order
      if (member === 2) return { ...c, member: 3 }; // answers as someone else
      if (member === 3) throw new ThresholdError('ABORTED', 'unreachable');
      return c;
    },
  });
  await pool.refill();
  t.deepEqual([1, 2, 3, 4].map((m) => pool.size(m)), [0, 0, 0, 2]);
});

test('drop forgets a member, and a fetch in flight across the drop is not pooled', async (t) => {
  const { signers } = localSigners(key35.shares);
  let release: (() => void) | undefined;
  const gate = new Promise<void>((r) => (release = r));
  let slow = false;
  const pool = new CommitmentPool({
    members: [1],
    depth: 2,
    fetch: async (member) => {
      if (slow) await gate;
      return signers.get(member)!.commit();
    },
  });
  await pool.refill();
  t.is(pool.size(1), 2);
  pool.take(1);
  slow = true;
  const refilling = pool.refill();
  pool.drop(1);
  t.is(pool.size(1), 0);
  release!();
  await refilling;
  t.is(pool.size(1), 0);
  pool.close();
  t.is(pool.take(1), undefined);
});

test('bad pool options are BAD_ARGUMENT', (t) => {
  const fetch = async (): Promise<SigningCommitment> => ({ member: 1, hiding: new Uint8Array(32), binding: new Uint8Array(32) });
  for (const opts of [null, { members: [0], fetch }, { members: [1], fetch: 3 }, { members: [1], fetch, depth: 0 }, { members: [1], fetch, depth: 17 }]) {
    const err = t.throws(() => new CommitmentPool(opts as never), { instanceOf: ThresholdError });
    t.is(err!.code, 'BAD_ARGUMENT');
  }
});

test('coordinator: a stale refusal starts a new attempt once; the same member stale twice is excluded as refused', async (t) => {
  const { signers } = localSigners(key35.shares);
  const co = new SigningCoordinator({ group: key35.group, message: Uint8Array.of(1), available: [1, 2, 3, 4, 5] });
  const commitAll = async (attempt: number, members: number[]) => {
    let last: ReturnType<SigningCoordinator['onCommitment']> = [];
    for (const m of members) last = co.onCommitment(attempt, m, await signers.get(m)!.commit());
    return last;
  };
  co.start();
  let actions = await commitAll(1, [1, 2, 3]);
  t.true(actions.some((a) => a.type === 'request-share'));
  actions = co.onRefusal(1, 2, 'stale');
  t.is(co.attempt, 2);
  t.deepEqual(co.excluded, []);
  t.deepEqual(actions.filter((a) => a.type === 'request-commitment').map((a) => (a as { member: number }).member), [1, 2, 3]);
  await commitAll(2, [1, 2, 3]);
  co.onRefusal(2, 2, 'stale');
  t.deepEqual(co.excluded, [{ member: 2, reason: 'refused' }]);
});

// ---------------------------------------------------------------- over the channels

const registry = withThresholdMessages(coreMessages);
type Behaviour = 'honest' | 'cheat';

/** A NonceSource that counts the commitments it issues. */
class CountingStore extends MemoryNonceStore {
  issued = 0;
  readonly taken: string[] = [];
  override async commit(share: MemberShare): Promise<SigningCommitment> {
    this.issued++;
    return super.commit(share);
  }
  override take(commitment: SigningCommitment) {
    const nonces = super.take(commitment);
    this.taken.push(hex(commitment));
    return nonces;
  }
}

async function committee(t: ExecutionContext, behave: (member: number) => Behaviour = () => 'honest', durable?: { member: number; dir: string }) {
  const { group, shares } = key35;
  const started = await Promise.all(shares.map(() => startManager()));
  const roster = new Map(started.map((s, i) => [i + 1, s.manager.peerId] as const));
  const members = await Promise.all(
    started.map(async (s, i) => {
      const member = i + 1;
      const messenger = new Messenger({ manager: s.manager, registry });
      const store = new CountingStore();
      const box = { signer: new SignerCore({ group, share: shares[i]!, nonces: store }), durable: undefined as NonceStore | undefined };
      if (durable?.member === member) {
        box.durable = (await NonceStore.open(durable.dir)).store;
        box.signer = new SignerCore({ group, share: shares[i]!, nonces: box.durable });
      }
      if (behave(member) === 'honest' && durable?.member !== member) new SignerService({ messenger, signer: box.signer, roster }).start();
      else {
        // Through a box, so a restarted signer (a new nonce store) can take over the same messenger.
        messenger.handle(thresholdCommit, async () => encodeCommitment(await box.signer.commit()));
        messenger.handle(thresholdSign, (req) => {
          const share = encodeSignatureShare(box.signer.sign({ message: req.body.message, commitments: decodeCommitmentList(req.body.commitments) }));
          if (behave(member) !== 'cheat') return share;
          const bad = randomBytes(32);
          bad[31]! &= 0x0f;
          return { ...share, share: new Uint8Array(bad) };
        });
      }
      return { manager: s.manager, messenger, store, box, share: shares[i]! };
    }),
  );
  t.teardown(async () => {
    for (const m of members) m.messenger.close();
    await Promise.all(members.map((m) => m.manager.close()));
    await Promise.all(members.map((m) => m.box.durable?.close()));
  });
  for (let i = 1; i < started.length; i++) await started[0]!.manager.dial(address(started[i]!.keys, started[i]!.port));
  await until(() => started[0]!.manager.channels().length === 4, 10_000, 'coordinator linked to all');
  const me = members[0]!;
  const fetched = new Set<string>();
  const fetchOne = commitmentFetcher({ messenger: me.messenger, group, roster, local: me.box.signer });
  const pool = new CommitmentPool({
    members: [1, 2, 3, 4, 5],
    fetch: async (member) => {
      const c = await fetchOne(member);
      fetched.add(hex(c));
      return c;
    },
  });
  t.teardown(() => pool.close());
  const sign = (message: Uint8Array, timeoutMs = 3000) =>
    coordinateSignature({ messenger: me.messenger, group, roster, message, available: [1, 2, 3, 4, 5], local: me.box.signer, timeoutMs, pool });
  return { group, roster, members, pool, fetched, sign };
}

test('with a pool, a signature takes no commitment round: only pooled commitments are used, then refilled', async (t) => {
  const { group, members, pool, fetched, sign } = await committee(t);
  await pool.refill();
  const issued = () => members.map((m) => m.store.issued);
  t.deepEqual(issued(), [2, 2, 2, 2, 2]);
  const message = new TextEncoder().encode('admit board 7');
  const r = await sign(message);
  t.true(verifyGroupSignature(group, r.signature, message));
  t.deepEqual(r.signers, [1, 2, 3]);
  t.is(r.attempts, 1);
  // Each signer signed with a commitment the pool had fetched before the message was known.
  for (const m of members.slice(0, 3)) {
    t.is(m.store.taken.length, 1);
    t.true(fetched.has(m.store.taken[0]!));
  }
  // The pool refills itself in the background: one commitment more from each signer, none from the others.
  await pool.refill();
  t.deepEqual(issued(), [3, 3, 3, 2, 2]);
  t.deepEqual([1, 2, 3, 4, 5].map((m) => pool.size(m)), [2, 2, 2, 2, 2]);
  const again = await sign(message);
  t.true(verifyGroupSignature(group, again.signature, message));
});

test('a pooled commitment signs once: a second sign request naming it is refused with NONCE_REUSE', async (t) => {
  const { group, roster, members, pool } = await committee(t);
  await pool.refill();
  const list = [1, 2, 3].map((m) => pool.take(m)!);
  const me = members[0]!;
  const body = { groupKey: group.groupKey, message: Uint8Array.of(9), commitments: list.map(encodeCommitment) };
  const first = await me.messenger.request(roster.get(2)!, thresholdSign, body);
  t.is(first.member, 2);
  const err = await t.throwsAsync(me.messenger.request(roster.get(2)!, thresholdSign, { ...body, message: Uint8Array.of(10) }), { instanceOf: TransportError });
  t.regex(err!.message, /NONCE_REUSE/);
  // Locally, too.
  me.box.signer.sign({ message: Uint8Array.of(9), commitments: list });
  t.is(t.throws(() => me.box.signer.sign({ message: Uint8Array.of(11), commitments: list }), { instanceOf: ThresholdError })!.code, 'NONCE_REUSE');
});

test('commitments pooled before a member restarts are burned there; the coordinator drops them and signs with fresh ones', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'frost-pool-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const dir = join(root, 'member2');
  const { group, members, pool, sign } = await committee(t, () => 'honest', { member: 2, dir });
  await pool.refill();
  t.is(pool.size(2), 2);
  // Member 2 restarts: its nonce store is reopened, the two commitments in our pool are burned.
  const m2 = members[1]!;
  await m2.box.durable!.close();
  const reopened = await NonceStore.open(dir);
  t.is(reopened.burned, 2);
  m2.box.durable = reopened.store;
  m2.box.signer = new SignerCore({ group, share: m2.share, nonces: reopened.store });
  const message = new TextEncoder().encode('after a restart');
  const r = await sign(message);
  t.true(verifyGroupSignature(group, r.signature, message));
  t.deepEqual(r.signers, [1, 2, 3]); // member 2 is not blamed for the restart
  t.deepEqual(r.excluded, []);
  t.is(r.attempts, 2);
});

test('with a pool, a cheater is still named when the aggregate fails, and the retry signs', async (t) => {
  const { group, pool, sign } = await committee(t, (m) => (m === 2 ? 'cheat' : 'honest'));
  await pool.refill();
  const message = new TextEncoder().encode('rotate key');
  const r = await sign(message);
  t.true(verifyGroupSignature(group, r.signature, message));
  t.deepEqual(r.signers, [1, 3, 4]);
  t.deepEqual(r.excluded, [{ member: 2, reason: 'bad-share' }]);
  t.is(r.attempts, 2);
});

test('prepare: members decode the pooled commitments ahead; an invalid one is not counted; the signature still signs', async (t) => {
  const { group, roster, members, pool, sign } = await committee(t);
  await pool.refill();
  const me = members[0]!;
  const held = [1, 2, 3].map((m) => pool.take(m)!);
  const answer = await me.messenger.request(roster.get(4)!, thresholdPrepare, { groupKey: group.groupKey, commitments: [...held, { ...held[0]!, binding: ORDER_2 }].map(encodeCommitment) });
  t.is(answer.decoded, 3);
  const announce = commitmentAnnouncer({ messenger: me.messenger, group, roster, local: me.box.signer });
  await t.notThrowsAsync(announce(held));
  const message = new TextEncoder().encode('prepared');
  const r = await sign(message);
  t.true(verifyGroupSignature(group, r.signature, message));
});
