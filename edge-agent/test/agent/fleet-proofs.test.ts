/**
 * The agent's fleet proofs over real channels: three boards publish their commitments, agree on
 * one fleet tree, and each proves membership to the two others. Needs the circuits build (made
 * here if missing, as in test/zkp/proofs.test.ts).
 */
import test from 'ava';
import { pino } from 'pino';
import { FleetProofs, type ProofEvent } from '../../src/agent/fleet-proofs.js';
import { systemClock } from '../../src/clock/index.js';
import { toHex } from '../../src/identity/index.js';
import { Messenger } from '../../src/transport/index.js';
import { coreMessages } from '../../src/wire/index.js';
import { commitmentOf, withZkpMessages, zkCommitmentFromIdentity, zkSecretFromIdentity } from '../../src/zkp/index.js';
import { address, startManager, until } from '../transport/net-helpers.js';
import { BUILD_TIMEOUT_MS, ensureCircuits } from '../zkp/build.js';

const registry = withZkpMessages(coreMessages);

test('three boards agree on the fleet tree and each proves membership to the two others', async (t) => {
  t.timeout(BUILD_TIMEOUT_MS);
  await ensureCircuits();
  const circuits = FleetProofs.artifacts();
  if ('missing' in circuits) throw new Error(circuits.missing);
  const nodes = await Promise.all([0, 1, 2].map(() => startManager()));
  const events: ProofEvent[] = [];
  const boards = nodes.map((n) => {
    const messenger = new Messenger({ manager: n.manager, registry, requestTimeoutMs: 120_000 });
    const proofs = new FleetProofs({
      messenger,
      manager: n.manager,
      secretKey: n.keys.secretKey,
      peerId: n.manager.peerId,
      clock: systemClock,
      log: pino({ level: 'silent' }),
      circuits,
      settleMs: 200,
      peersToAsk: 2,
      onProof: (e) => events.push(e),
    });
    proofs.start();
    proofs.challengePeers();
    return { ...n, messenger, proofs };
  });
  t.teardown(async () => {
    await Promise.all(boards.map((b) => b.proofs.stop()));
    for (const b of boards) b.messenger.close();
    await Promise.all(boards.map((b) => b.manager.close()));
  });
  const [a, b, c] = boards as [(typeof boards)[0], (typeof boards)[0], (typeof boards)[0]];
  t.is(a.proofs.commitment, zkCommitmentFromIdentity(a.keys.secretKey));
  t.is(a.proofs.commitment, commitmentOf(zkSecretFromIdentity(a.keys.secretKey)));
  await b.manager.dial(address(a.keys, a.port));
  await c.manager.dial(address(a.keys, a.port));
  await c.manager.dial(address(b.keys, b.port));
  await until(() => events.length >= 6, 5 * 60_000, 'six proofs');
  t.true(events.every((e) => e.accepted), JSON.stringify(events));
  const pairs = new Set(events.map((e) => `${e.prover}>${e.verifier}`));
  t.is(pairs.size, 6, 'every board proved to every other one');
  t.true(events.every((e) => e.prover !== e.verifier && boards.some((x) => toHex(x.manager.peerId) === e.verifier)));
  t.is(a.proofs.root, b.proofs.root);
  t.is(b.proofs.root, c.proofs.root);
  t.like(a.proofs.figures(), { members: 3, proofsAccepted: 2, proofsRefused: 0, proofsMade: 2 });
});
