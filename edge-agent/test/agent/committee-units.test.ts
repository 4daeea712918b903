/**
 * The committee service's parts, in one process: who is a member (the plan),
 * the leader's proposal and how a member judges it, the timer scope that lets
 * a DKG be given up, the committee-sign refusals, and an agent that waits in
 * DKG_PHASE (READY=1 all the same) and stops cleanly, before and during a DKG.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { pino } from 'pino';
import { Agent } from '../../src/agent/index.js';
import { CommitteeError, CommitteeService } from '../../src/agent/committee.js';
import { DEFAULT_DKG_DELTA_MS, committeeKeyName, committeePlan } from '../../src/agent/committee-plan.js';
import { TimerScope } from '../../src/agent/timer-scope.js';
import { decodeEntry, type AuditEntry } from '../../src/audit/entry.js';
import { RecordingNotifier } from '../helpers/notifier.js';
import { ManualClock } from '../../src/clock/index.js';
import { parseConfig } from '../../src/config/index.js';
import { createIdentity, generateKeyPair, peerIdOf, toHex } from '../../src/identity/index.js';
import { scanLog } from '../../src/store/index.js';
import { PROPOSAL_LIMITS, committeeOrder, judgeProposal, makeProposal, type DkgProposal } from '../../src/threshold/index.js';
import { freePort } from '../helpers/ports.js';
import { seededRandom } from '../helpers/random.js';

const hex = (b: Uint8Array): string => toHex(b);
const ids = (n: number, seed = 1): string[] => {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => Array.from({ length: 32 }, () => Math.floor(random() * 256).toString(16).padStart(2, '0')).join(''));
};

// ---------------------------------------------------------------- the plan

test('the plan: workers, nodes without a committee and nodes not listed pass DKG_PHASE, each saying why', (t) => {
  const [a, b, c] = ids(3);
  t.deepEqual(committeePlan(parseConfig({}), a!), { kind: 'pass', reason: 'role worker: holds no committee key' });
  t.deepEqual(committeePlan(parseConfig({ committee: { threshold: 2, members: [a, b] } }), a!), { kind: 'pass', reason: 'role worker: holds no committee key' });
  t.deepEqual(committeePlan(parseConfig({ role: 'committee' }), a!), { kind: 'pass', reason: 'no committee configured: no key to generate' });
  t.deepEqual(committeePlan(parseConfig({ role: 'committee', committee: { threshold: 2, members: [b, c] } }), a!), {
    kind: 'pass',
    reason: 'role committee, but not listed in committee.members: no key to generate',
  });
  const lone = committeePlan(parseConfig({ role: 'committee', committee: { threshold: 1, members: [a] } }), a!);
  t.is(lone.kind, 'pass');
  if (lone.kind === 'pass') t.regex(lone.reason, /FROST needs at least 2 of 2/);
});

test('the plan: members are numbered by peer id, Δ defaults, and the key name is bound to the committee', (t) => {
  const members = ids(5, 7);
  const sorted = [...members].sort();
  for (const me of members) {
    const plan = committeePlan(parseConfig({ fleet: 'f1', role: 'committee', committee: { threshold: 3, members } }), me);
    if (plan.kind !== 'member') return t.fail('a member');
    t.is(plan.self, sorted.indexOf(me) + 1);
    t.deepEqual(plan.members.map(hex), sorted);
    t.is(plan.deltaMs, DEFAULT_DKG_DELTA_MS);
    t.regex(plan.keyName, /^f1\.[0-9a-f]{16}$/);
  }
  const name = (fleet: string, threshold: number, m: string[]): string => committeeKeyName(fleet, threshold, committeeOrder(m.map((x) => Buffer.from(x, 'hex'))));
  const base = name('f1', 3, members);
  t.not(name('f1', 2, members), base);
  t.not(name('f2', 3, members), base);
  t.not(name('f1', 3, [...members.slice(1), ids(1, 99)[0]!]), base);
  t.is(name('f1', 3, [...members].reverse()), base, 'the order in the config does not matter');
  // The longest fleet name still fits the keystore's name rule (committee.<name>, 64 characters at most).
  t.regex(name('a'.repeat(63), 3, members), /^a{37}\.[0-9a-f]{16}$/);
  const configured = committeePlan(parseConfig({ role: 'committee', committee: { threshold: 2, members: members.slice(0, 2), deltaMs: 1200 } }), members[0]!);
  t.like(configured, { kind: 'member', deltaMs: 1200 });
});

// ---------------------------------------------------------------- the proposal

interface Committee {
  readonly leader: ReturnType<typeof generateKeyPair>;
  readonly other: ReturnType<typeof generateKeyPair>;
  readonly members: Uint8Array[];
}

function committee(): Committee {
  const keys = [generateKeyPair(), generateKeyPair(), generateKeyPair()];
  const members = committeeOrder(keys.map((k) => peerIdOf(k.publicKey)));
  const leader = keys.find((k) => hex(peerIdOf(k.publicKey)) === hex(members[0]!))!;
  const other = keys.find((k) => k !== leader)!;
  return { leader, other, members };
}

const NOW = 1_700_000_000_000;

function proposal(c: Committee, over: Partial<DkgProposal> = {}): DkgProposal {
  return makeProposal({ sessionId: new Uint8Array(16).fill(3), start: NOW + 2000, deltaMs: 500, threshold: 2, members: c.members, ...over }, c.leader.secretKey);
}

test('a member accepts the leader\'s proposal for its own committee, and refuses every other one with a reason', (t) => {
  const c = committee();
  const expect = { fromPublicKey: c.leader.publicKey, members: c.members, threshold: 2, now: NOW };
  t.deepEqual(judgeProposal(proposal(c), expect), { ok: true });
  const reason = (p: DkgProposal, e: Partial<typeof expect> = {}): string => {
    const v = judgeProposal(p, { ...expect, ...e });
    return v.ok ? 'accepted' : v.reason;
  };
  t.regex(reason(proposal(c), { fromPublicKey: c.other.publicKey }), /not from the committee leader/);
  t.regex(reason(proposal(c), { threshold: 3 }), /threshold 2 differs from ours \(3\)/);
  t.regex(reason(proposal(c), { members: [...c.members.slice(0, 2), peerIdOf(generateKeyPair().publicKey)] }), /not from the committee leader|members differ/);
  t.regex(reason(proposal(c, { start: NOW - 501 })), /in the past/);
  t.is(reason(proposal(c, { start: NOW - 500 })), 'accepted', 'late by at most Δ');
  t.regex(reason(proposal(c, { start: NOW + PROPOSAL_LIMITS.maxAheadMs + 1 })), /ahead/);
  // Signed by the leader, then changed on the way: the signature no longer covers it.
  const p = proposal(c);
  t.regex(reason({ ...p, start: p.start + 1 }), /signature/);
  t.regex(reason({ ...p, sessionId: new Uint8Array(16).fill(4) }), /signature/);
  // Signed by another member but sent as if from the leader.
  t.regex(reason(makeProposal({ sessionId: new Uint8Array(16), start: NOW + 2000, deltaMs: 500, threshold: 2, members: c.members }, c.other.secretKey)), /signature/);
  // Members out of order or repeated cannot even be proposed.
  t.throws(() => proposal(c, { members: [...c.members].reverse() }), { message: /ascending/ });
  t.throws(() => committeeOrder([c.members[0]!, c.members[0]!]), { message: /twice/ });
  t.throws(() => proposal(c, { deltaMs: PROPOSAL_LIMITS.maxDeltaMs + 1 }), { message: /deltaMs/ });
  t.throws(() => proposal(c, { threshold: 4 }), { message: /threshold/ });
});

test('fuzz: a proposal with any one field changed after signing is refused', (t) => {
  const c = committee();
  const p = proposal(c);
  const expect = { fromPublicKey: c.leader.publicKey, members: c.members, threshold: 2, now: NOW };
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 255 }), fc.integer({ min: 0, max: 15 }), (field, xor, at) => {
      const flip = (b: Uint8Array): Uint8Array => {
        const out = Uint8Array.from(b);
        out[at % out.length]! ^= xor;
        return out;
      };
      const changed: DkgProposal =
        field === 0 ? { ...p, sessionId: flip(p.sessionId) }
        : field === 1 ? { ...p, start: p.start + xor }
        : field === 2 ? { ...p, deltaMs: p.deltaMs + xor }
        : field === 3 ? { ...p, signature: flip(p.signature) }
        : { ...p, members: p.members.map((m, i) => (i === at % p.members.length ? flip(m) : m)) };
      return !judgeProposal(changed, expect).ok;
    }),
    { seed: 8, numRuns: 200 },
  );
  t.pass();
});

// ---------------------------------------------------------------- the timer scope

test('a timer scope cancels every pending timer at close and fires none after', (t) => {
  const clock = new ManualClock(0);
  const scope = new TimerScope(clock);
  const fired: string[] = [];
  scope.setTimer(10, () => fired.push('a'));
  const b = scope.setTimer(20, () => fired.push('b'));
  scope.setTimer(30, () => fired.push('c'));
  clock.advance(10);
  b.cancel();
  scope.close();
  scope.setTimer(1, () => fired.push('d'));
  clock.advance(100);
  t.deepEqual(fired, ['a']);
  t.true(scope.closed);
  t.is(scope.now(), 110);
});

// ---------------------------------------------------------------- committee-sign refusals

function stubService(config: ReturnType<typeof parseConfig>, peerId: string): CommitteeService {
  return new CommitteeService({
    config,
    peerId: Buffer.from(peerId, 'hex'),
    secretKey: () => new Uint8Array(32),
    messenger: {} as never,
    manager: {} as never,
    audit: async () => undefined,
    clock: new ManualClock(0),
    log: pino({ level: 'silent' }),
    openKeystore: () => Promise.reject(new Error('no keystore here')),
  });
}

test('committee-sign is refused by a worker (NOT_A_COMMITTEE_MEMBER) and by a member without its key (NO_COMMITTEE_KEY)', async (t) => {
  const [a, b] = ids(2, 3);
  const worker = stubService(parseConfig({ committee: { threshold: 2, members: [a, b] } }), a!);
  const refused = await t.throwsAsync(worker.sign(new Uint8Array(4)), { instanceOf: CommitteeError });
  t.is(refused?.code, 'NOT_A_COMMITTEE_MEMBER');
  const member = stubService(parseConfig({ role: 'committee', committee: { threshold: 2, members: [a, b] } }), a!);
  t.is((await t.throwsAsync(member.sign(new Uint8Array(4)), { instanceOf: CommitteeError }))?.code, 'NO_COMMITTEE_KEY');
});

// ---------------------------------------------------------------- the agent in DKG_PHASE


interface Prepared {
  readonly dataDir: string;
  readonly peerId: string;
  readonly publicKey: string;
  readonly port: number;
}

/** A data directory with an identity, and a port to listen on. */
async function prepare(t: ExecutionContext): Promise<Prepared> {
  const dataDir = await mkdtemp(join(tmpdir(), 'edge-committee-unit-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const identity = await createIdentity(dataDir, { difficulty: 4 });
  const prepared = { dataDir, peerId: hex(identity.peerId), publicKey: hex(identity.publicKey), port: await freePort() };
  identity.destroy();
  return prepared;
}

/** An in-process agent with its log lines kept as records. */
function agentOf(p: Prepared, extra: Record<string, unknown>) {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') records.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const notifier = new RecordingNotifier();
  const config = parseConfig({ fleet: 'unit', dataDir: p.dataDir, board: 'x86-64-dev', network: { listen: `127.0.0.1:${p.port}` }, liveness: { challenge: false }, shutdownTimeoutMs: 3000, ...extra });
  const agent = new Agent(config, { log: pino({ level: 'info' }, stream), notifier });
  return { agent, notifier, records };
}

async function auditKinds(dataDir: string): Promise<string[]> {
  const out: AuditEntry[] = [];
  await scanLog(join(dataDir, 'audit', 'audit.log'), (r) => void out.push(decodeEntry(r)));
  return out.map((e) => e.kind);
}

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const [role, other] of [
  ['leader', 'ff'.repeat(32)],
  ['follower', '00'.repeat(32)],
] as const) {
  test(`a committee member (${role}) whose partner never comes: READY=1, DKG_PHASE, and a clean stop`, async (t) => {
    const p = await prepare(t);
    const { agent, notifier } = agentOf(p, { role: 'committee', committee: { threshold: 2, members: [p.peerId, other] } });
    await agent.start();
    t.deepEqual(notifier.messages, ['STATUS=DKG_PHASE', 'READY=1']);
    t.is(agent.status().orchestrator, 'DKG_PHASE');
    const report = await agent.stop();
    t.deepEqual(report.unclean, []);
    t.is(agent.status().orchestrator, 'SHUTDOWN');
  });
}

test('two members stopped with their DKG session agreed: a clean stop, and the abandoned run never fires', async (t) => {
  const [pa, pb] = [await prepare(t), await prepare(t)];
  // The session starts 1 s + 2Δ after the proposal; the stop comes before that, while its timers are pending.
  const committee = { threshold: 2, members: [pa.peerId, pb.peerId], deltaMs: 1000 };
  const a = agentOf(pa, { role: 'committee', committee });
  const b = agentOf(pb, { role: 'committee', committee, network: { listen: `127.0.0.1:${pb.port}`, bootstrap: [`${pa.publicKey}@127.0.0.1:${pa.port}`] } });
  await a.agent.start();
  await b.agent.start();
  const follower = [a, b].find((x) => x.records.some((r) => r.event === 'committee' && r.member === 2))!;
  await until('the follower accepted a proposal', () => follower.records.some((r) => r.event === 'committee.dkg' && r.proposal === 'accepted'));
  const start = Number(follower.records.find((r) => r.proposal === 'accepted')!.start);
  const reports = await Promise.all([a.agent.stop(), b.agent.stop()]);
  t.deepEqual(reports.map((r) => r.unclean), [[], []]);
  // Past the start and the early finish a live run would have made: nothing happens.
  await until('the session\'s start has passed', () => Date.now() > start + 1000);
  for (const [x, p] of [[a, pa], [b, pb]] as const) {
    t.is(x.agent.status().orchestrator, 'SHUTDOWN');
    t.false(x.records.some((r) => r.event === 'committee.dkg' && r.outcome !== undefined), 'no outcome after the stop');
    const kinds = await auditKinds(p.dataDir);
    t.false(kinds.includes('threshold.dkg'), 'a run given up writes no outcome');
    t.is(kinds.filter((k) => k === 'orchestrator.transition').length, 2, 'INITIALIZING → DKG_PHASE → SHUTDOWN');
  }
});

test('two in-process members: the DKG runs, both leave DKG_PHASE with one key', async (t) => {
  const [pa, pb] = [await prepare(t), await prepare(t)];
  const committee = { threshold: 2, members: [pa.peerId, pb.peerId], deltaMs: 500 };
  const a = agentOf(pa, { role: 'committee', committee });
  const b = agentOf(pb, { role: 'committee', committee, network: { listen: `127.0.0.1:${pb.port}`, bootstrap: [`${pa.publicKey}@127.0.0.1:${pa.port}`] } });
  t.teardown(async () => {
    await a.agent.stop();
    await b.agent.stop();
  });
  await a.agent.start();
  await b.agent.start();
  await until('both OPERATIONAL', () => a.agent.status().orchestrator === 'OPERATIONAL' && b.agent.status().orchestrator === 'OPERATIONAL', 30_000);
  const keyOf = (x: typeof a): unknown => x.records.find((r) => r.event === 'committee.key')?.groupKey;
  t.regex(String(keyOf(a)), /^[0-9a-f]{64}$/);
  t.is(keyOf(a), keyOf(b));
  // READY=1 came right after DKG_PHASE, before the key existed.
  t.deepEqual(a.notifier.messages.slice(0, 2), ['STATUS=DKG_PHASE', 'READY=1']);
  t.deepEqual(a.notifier.messages.slice(2), ['STATUS=READY', 'STATUS=OPERATIONAL']);
});

test('a member that refuses the proposal: the leader withdraws it, backs off, and proposes again until the DKG runs', async (t) => {
  const prepared = [await prepare(t), await prepare(t), await prepare(t)];
  const [leader, second, third] = [...prepared].sort((x, y) => (x.peerId < y.peerId ? -1 : 1)) as [Prepared, Prepared, Prepared];
  const members = prepared.map((p) => p.peerId);
  const committee = { threshold: 2, members, deltaMs: 1000 };
  const dial = (p: Prepared, to: Prepared[]) => ({ listen: `127.0.0.1:${p.port}`, bootstrap: to.map((x) => `${x.publicKey}@127.0.0.1:${x.port}`) });
  const l = agentOf(leader, { role: 'committee', committee });
  // Member 2 is configured with another threshold: it refuses, saying why.
  let m2 = agentOf(second, { role: 'committee', committee: { ...committee, threshold: 3 }, network: dial(second, [leader]) });
  const m3 = agentOf(third, { role: 'committee', committee, network: dial(third, [leader, second]) });
  const running = new Set([l.agent, m2.agent, m3.agent]);
  t.teardown(async () => {
    for (const a of running) await a.stop();
  });
  for (const a of running) await a.start();
  // Member 3 accepts a session (once its service runs), member 2 refuses it, the leader withdraws it.
  await until('member 3 accepted a session', () => m3.records.some((r) => r.proposal === 'accepted'), 30_000);
  const session = m3.records.find((r) => r.proposal === 'accepted')!.session;
  await until('the leader withdrew it', () => l.records.some((r) => r.proposal === 'withdrawn' && r.session === session));
  t.regex(String(l.records.find((r) => r.proposal === 'withdrawn' && r.session === session)!.reason), /its threshold 2 differs from ours \(3\)/);
  t.true(m2.records.some((r) => r.proposal === 'refused'));
  await until('member 3 dropped the withdrawn session', () => m3.records.some((r) => r.proposal === 'withdrawn' && r.session === session));
  t.is(l.agent.status().orchestrator, 'DKG_PHASE');
  // Member 2 comes back with the right config; the leader's next proposal goes through.
  await m2.agent.stop();
  running.delete(m2.agent);
  m2 = agentOf(second, { role: 'committee', committee, network: dial(second, [leader]) });
  running.add(m2.agent);
  await m2.agent.start();
  await until('all three OPERATIONAL', () => [l, m2, m3].every((x) => x.agent.status().orchestrator === 'OPERATIONAL'), 60_000);
  const keys = new Set([l, m2, m3].map((x) => x.records.find((r) => r.event === 'committee.key')?.groupKey));
  t.is(keys.size, 1);
  t.regex(String([...keys][0]), /^[0-9a-f]{64}$/);
  t.true(l.records.some((r) => typeof r.retryInMs === 'number'), 'the leader backed off between proposals');
  // Only the last session ran: the withdrawn ones left nothing behind, not even past their start.
  const outcomes = m3.records.filter((r) => r.event === 'committee.dkg' && r.outcome !== undefined);
  t.deepEqual(outcomes.map((r) => r.outcome), ['done']);
  t.not(outcomes[0]!.session, session);
});

test('the leader stops after its proposal was accepted: the others drop the session it lost, and its next proposal after a restart makes the key', async (t) => {
  const prepared = [await prepare(t), await prepare(t), await prepare(t)];
  const [leader, second, third] = [...prepared].sort((x, y) => (x.peerId < y.peerId ? -1 : 1)) as [Prepared, Prepared, Prepared];
  const committee = { threshold: 2, members: prepared.map((p) => p.peerId), deltaMs: 500 };
  const dial = (p: Prepared, to: Prepared[]) => ({ listen: `127.0.0.1:${p.port}`, bootstrap: to.map((x) => `${x.publicKey}@127.0.0.1:${x.port}`) });
  let l = agentOf(leader, { role: 'committee', committee });
  const m2 = agentOf(second, { role: 'committee', committee, network: dial(second, [leader]) });
  const m3 = agentOf(third, { role: 'committee', committee, network: dial(third, [leader, second]) });
  const running = new Set([l.agent, m2.agent, m3.agent]);
  t.teardown(async () => {
    for (const a of running) await a.stop();
  });
  for (const a of running) await a.start();
  // Both followers accept one session; the leader stops before its start.
  const accepted = (x: typeof m2): unknown[] => x.records.filter((r) => r.proposal === 'accepted').map((r) => r.session);
  const both = (): unknown => accepted(m2).find((s) => accepted(m3).includes(s));
  await until('both followers accepted one session', () => both() !== undefined, 30_000);
  const lost = both();
  await l.agent.stop();
  running.delete(l.agent);
  // The two of them reach t without the leader, and drop the result.
  await until('the lost session dropped', () => [m2, m3].every((x) => x.records.some((r) => r.outcome === 'dropped' && r.session === lost)), 30_000);
  t.is(m2.agent.status().orchestrator, 'DKG_PHASE');
  // The leader comes back (no key in its keystore) and proposes again.
  l = agentOf(leader, { role: 'committee', committee });
  running.add(l.agent);
  await l.agent.start();
  await until('all three OPERATIONAL', () => [l, m2, m3].every((x) => x.agent.status().orchestrator === 'OPERATIONAL'), 60_000);
  const keys = new Set([l, m2, m3].map((x) => x.records.find((r) => r.event === 'committee.key')?.groupKey));
  t.is(keys.size, 1);
  t.true([l, m2, m3].every((x) => x.records.find((r) => r.event === 'committee.key')?.qualified !== undefined));
  t.deepEqual(l.records.find((r) => r.event === 'committee.key')!.qualified, [1, 2, 3]);
});
