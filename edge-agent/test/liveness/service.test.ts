/**
 * The liveness shell on real channels: managers on 127.0.0.1, messengers, the
 * responder and the challenger. Rounds and request deadlines run on a
 * ManualClock (the channels themselves keep the system clock), so no assertion
 * depends on how fast anything is.
 */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { ManualClock } from '../../src/clock/index.js';
import { toHex } from '../../src/identity/index.js';
import {
  LivenessChallenger,
  LivenessError,
  livenessChallenge,
  registerLivenessResponder,
  signAnswer,
  verifyAnswer,
  withLivenessMessages,
  type StatusChange,
} from '../../src/liveness/index.js';
import { Messenger, TransportError, type ConnectionManager } from '../../src/transport/index.js';
import { coreMessages } from '../../src/wire/index.js';
import { address, startManager, until } from '../transport/net-helpers.js';

const registry = withLivenessMessages(coreMessages);
const ROUND = 10_000;

type Node = Awaited<ReturnType<typeof startManager>> & { messenger: Messenger; hex: string };

/** A challenger node A dialled to `n` other nodes, every messenger on `clock`. */
async function fleet(n: number, clock: ManualClock) {
  const nodes: Node[] = [];
  for (let i = 0; i <= n; i++) {
    const node = await startManager();
    nodes.push({ ...node, messenger: new Messenger({ manager: node.manager, registry, clock }), hex: toHex(node.manager.peerId) });
  }
  const [a, ...others] = nodes as [Node, ...Node[]];
  for (const other of others) await a.manager.dial(address(other.keys, other.port));
  await until(() => a.manager.channels().length === n && others.every((o) => o.manager.channels().length === 1), 10_000, 'channels');
  const close = async () => {
    for (const node of nodes) node.messenger.close();
    await Promise.all(nodes.map((node) => node.manager.close()));
  };
  return { a, others, close };
}

function answerHonestly(node: Node, clock: ManualClock) {
  return registerLivenessResponder(node.messenger, { secretKey: node.keys.secretKey, peerId: node.manager.peerId, clock });
}

function transitions(changes: readonly StatusChange[], peer: string): string[] {
  return changes.filter((c) => c.peer === peer).map((c) => `${c.from}->${c.to}`);
}

function challenger(manager: ConnectionManager, messenger: Messenger, clock: ManualClock, extra: Partial<ConstructorParameters<typeof LivenessChallenger>[0]> = {}) {
  const changes: StatusChange[] = [];
  const c = new LivenessChallenger({ messenger, manager, clock, intervalMs: ROUND, deadlineMs: 5_000, missesOffline: 3, onChange: (x) => changes.push(x), ...extra });
  return { c, changes, stat: (peer: string) => c.stats()[peer] };
}

test('honest peers go online; a wrong signature or no answer goes offline after K rounds', async (t) => {
  const clock = new ManualClock(Date.now());
  const { a, others, close } = await fleet(3, clock);
  t.teardown(close);
  const [honest, forger, silent] = others as [Node, Node, Node];
  answerHonestly(honest, clock);
  // A well-formed signature by the right key, but made for another challenger (a relayed answer).
  forger.messenger.handle(livenessChallenge, ({ body }) => ({ signature: signAnswer(forger.keys.secretKey, randomBytes(32), forger.manager.peerId, body.nonce) }));
  silent.messenger.handle(livenessChallenge, () => new Promise<never>(() => {}));

  const { c, changes, stat } = challenger(a.manager, a.messenger, clock);
  c.start();
  for (let round = 1; round <= 3; round++) {
    if (round > 1) clock.advance(ROUND);
    await until(() => stat(honest.hex)?.answered === round && stat(forger.hex)?.totalMisses === round, 10_000, `round ${round}`);
    t.is(stat(silent.hex)?.totalMisses, round - 1, 'the silent peer misses once its deadline passed');
  }
  t.is(stat(forger.hex)?.status, 'offline');
  t.is(stat(silent.hex)?.status, 'unknown');
  clock.advance(ROUND);
  await until(() => stat(honest.hex)?.answered === 4, 10_000, 'round 4');
  t.is(stat(silent.hex)?.status, 'offline');
  t.deepEqual(stat(honest.hex), { status: 'online', consecutiveMisses: 0, totalMisses: 0, answered: 4, lastRttMs: 0 });
  t.deepEqual(transitions(changes, honest.hex), ['unknown->online']);
  t.deepEqual(transitions(changes, forger.hex), ['unknown->offline']);
  t.deepEqual(transitions(changes, silent.hex), ['unknown->offline']);
  t.is(changes.length, 3);
  c.stop();
  clock.advance(ROUND);
  t.is(stat(honest.hex)?.answered, 4, 'no rounds after stop');
  t.throws(() => c.start(), { instanceOf: LivenessError, code: 'CLOSED' });
});

test('a peer whose channel is gone keeps missing and goes offline', async (t) => {
  const clock = new ManualClock(Date.now());
  const { a, others, close } = await fleet(1, clock);
  t.teardown(close);
  const b = others[0]!;
  answerHonestly(b, clock);
  const { c, changes, stat } = challenger(a.manager, a.messenger, clock);
  c.start();
  await until(() => stat(b.hex)?.status === 'online');
  a.manager.channel(b.manager.peerId)?.close();
  await until(() => a.manager.channels().length === 0);
  for (let round = 1; round <= 3; round++) {
    clock.advance(ROUND);
    t.is(stat(b.hex)?.consecutiveMisses, round);
  }
  t.is(stat(b.hex)?.status, 'offline');
  t.deepEqual(transitions(changes, b.hex), ['unknown->online', 'online->offline']);
  t.true(c.forget(b.hex));
  t.deepEqual(c.stats(), {});
  c.stop();
});

test('at maxPeers a newcomer takes the place of an offline peer without a channel', async (t) => {
  const clock = new ManualClock(Date.now());
  const { a, others, close } = await fleet(2, clock);
  t.teardown(close);
  const [b, d] = others as [Node, Node];
  answerHonestly(b, clock);
  answerHonestly(d, clock);
  const warnings: string[] = [];
  const logger = { info: () => {}, warn: (obj: object) => void warnings.push((obj as { event: string }).event) };
  const { c, stat } = challenger(a.manager, a.messenger, clock, { maxPeers: 1, missesOffline: 1, logger });
  c.start();
  const [first, second] = Object.keys(c.stats()).includes(b.hex) ? [b, d] : [d, b];
  t.deepEqual(Object.keys(c.stats()), [first.hex]);
  t.true(warnings.includes('liveness.full'));
  await until(() => stat(first.hex)?.status === 'online');
  a.manager.channel(first.manager.peerId)?.close();
  await until(() => a.manager.channels().length === 1);
  clock.advance(ROUND); // the first one misses (offline at K = 1); still no room this round
  t.is(stat(first.hex)?.status, 'offline');
  clock.advance(ROUND); // now it is evicted for the newcomer
  await until(() => stat(second.hex)?.status === 'online');
  t.deepEqual(Object.keys(c.stats()), [second.hex]);
  c.stop();
});

test('the responder signs for the authenticated challenger, within its budget, until closed', async (t) => {
  const clock = new ManualClock(Date.now());
  const { a, others, close } = await fleet(1, clock);
  t.teardown(close);
  const b = others[0]!;
  const secretKey = Uint8Array.from(b.keys.secretKey);
  const responder = registerLivenessResponder(b.messenger, { secretKey, peerId: b.manager.peerId, clock, answerBurst: 1, answersPerSecond: 1 });
  const ask = async () => {
    const nonce = Uint8Array.from(randomBytes(32));
    const { signature } = await a.messenger.request(b.manager.peerId, livenessChallenge, { nonce });
    return verifyAnswer(b.manager.publicKey, a.manager.peerId, b.manager.peerId, nonce, signature);
  };
  t.true(await ask());
  await t.throwsAsync(ask(), { instanceOf: TransportError, code: 'REMOTE_ERROR', message: /RATE_LIMITED/ });
  clock.advance(1_000);
  t.true(await ask());
  responder.close();
  t.deepEqual(secretKey, Uint8Array.from(b.keys.secretKey), "the caller's key is left alone; the responder wiped its own copy");
  clock.advance(1_000);
  await t.throwsAsync(ask(), { instanceOf: TransportError, code: 'REMOTE_ERROR', message: /CLOSED/ });
  const again = t.throws(() => answerHonestly(b, clock), { instanceOf: LivenessError });
  t.is(again?.code, 'BAD_ARGUMENT', 'one responder per messenger');
});

test('liveness inputs are validated', async (t) => {
  const clock = new ManualClock(Date.now());
  const { a, others, close } = await fleet(1, clock);
  t.teardown(close);
  const b = others[0]!;
  const bad = (fn: () => unknown) => t.throws(fn, { instanceOf: LivenessError, code: 'BAD_ARGUMENT' });
  const base = { messenger: a.messenger, manager: a.manager, clock };
  bad(() => new LivenessChallenger({ ...base, intervalMs: 1_000, deadlineMs: 5_000 }));
  bad(() => new LivenessChallenger({ ...base, ourPeerId: b.manager.peerId }));
  bad(() => new LivenessChallenger({ ...base, messenger: {} as never }));
  bad(() => new LivenessChallenger({ ...base, onChange: 'x' as never }));
  bad(() => new LivenessChallenger({ ...base, clock: {} as never }));
  bad(() => registerLivenessResponder(b.messenger, { secretKey: b.keys.secretKey, peerId: a.manager.peerId }));
  bad(() => registerLivenessResponder(b.messenger, { secretKey: new Uint8Array(32), peerId: b.manager.peerId }));
  bad(() => registerLivenessResponder({} as never, { secretKey: b.keys.secretKey, peerId: b.manager.peerId }));
  bad(() => withLivenessMessages(registry));
  bad(() => withLivenessMessages({} as never));
  // A messenger whose registry lacks the liveness messages cannot answer.
  const lone = await startManager();
  const plain = new Messenger({ manager: lone.manager, registry: coreMessages });
  bad(() => registerLivenessResponder(plain, { secretKey: lone.keys.secretKey, peerId: lone.manager.peerId }));
  plain.close();
  await lone.manager.close();
  // A broken nonce source fails the first round loudly instead of challenging with it.
  const broken = new LivenessChallenger({ ...base, ourPeerId: a.manager.peerId, random: () => new Uint8Array(31) });
  bad(() => broken.start());
  t.throws(() => broken.start(), { instanceOf: LivenessError, code: 'CLOSED' });
});
