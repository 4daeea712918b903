/**
 * The prover's shell over real channels, without circuits: a stand-in prover records the
 * witness input it is given, so the tests see that the challenge comes from the channel the
 * request arrived on, and that the budget, queue and kinds are enforced.
 */
import test from 'ava';
import { bn254 } from '@noble/curves/bn254.js';
import { ManualClock } from '../../src/clock/index.js';
import { Messenger, TransportError } from '../../src/transport/index.js';
import { coreMessages } from '../../src/wire/index.js';
import {
  MerkleTree,
  askCommitment,
  challengeFor,
  commitmentOf,
  decodeProofResult,
  registerProofResponder,
  withZkpMessages,
  zkpProve,
  type CircuitArtifacts,
  type CircuitInput,
  type Prover,
} from '../../src/zkp/index.js';
import { address, startManager, until } from '../transport/net-helpers.js';
import { seededRandom } from '../helpers/random.js';

const registry = withZkpMessages(coreMessages);
const rnd = seededRandom(0x7e5);
const nonce = (): Uint8Array => Uint8Array.from({ length: 32 }, () => Math.floor(rnd() * 256));
const G1 = bn254.G1.Point.BASE.toAffine();
const G2 = bn254.G2.Point.BASE.toAffine();

function stubProver(inputs: CircuitInput[]): Prover {
  return {
    backend: 'stub',
    circuit: {} as CircuitArtifacts,
    prove: async (input) => {
      inputs.push(input);
      return { proof: { a: G1, b: { x: [G2.x.c0, G2.x.c1], y: [G2.y.c0, G2.y.c1] }, c: G1 }, publicSignals: [1n, 2n, input.challenge as bigint] };
    },
    close: async () => {},
  };
}

async function pair(t: import('ava').ExecutionContext, opts: { perPeerPerMinute?: number; clock?: ManualClock; withKp?: boolean; tree?: MerkleTree } = {}) {
  const [v, p] = await Promise.all([startManager(), startManager()]);
  const vm = new Messenger({ manager: v.manager, registry });
  const pm = new Messenger({ manager: p.manager, registry });
  t.teardown(async () => {
    vm.close();
    pm.close();
    await Promise.all([v.manager.close(), p.manager.close()]);
  });
  await v.manager.dial(address(p.keys, p.port));
  await until(() => v.manager.channels().length === 1 && p.manager.channels().length === 1, 10_000, 'channel');
  const inputs: CircuitInput[] = [];
  const secret = 0xfeedn;
  const tree = opts.tree ?? MerkleTree.fromLeaves(4, [commitmentOf(secret)]);
  const responder = registerProofResponder({
    messenger: pm,
    manager: p.manager,
    secret,
    provers: { membership: async () => stubProver(inputs), ...(opts.withKp === false ? {} : { keyPossession: async () => stubProver(inputs) }) },
    tree: () => tree,
    ...(opts.perPeerPerMinute === undefined ? {} : { perPeerPerMinute: opts.perPeerPerMinute }),
    ...(opts.clock === undefined ? {} : { clock: opts.clock }),
  });
  return { v, p, vm, pm, inputs, secret, tree, responder };
}

const remoteCode = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (!(err instanceof TransportError)) throw err;
    return /error ([A-Z_]+)/.exec(err.message)?.[1] ?? err.code;
  }
};

test('the prover derives the challenge from its own channel, not from the request', async (t) => {
  const { v, p, vm, inputs, secret, tree, responder } = await pair(t);
  const n = nonce();
  const reply = await vm.request(p.manager.peerId, zkpProve, { kind: 'membership', nonce: n });
  const hh = p.manager.channel(v.manager.peerId)!.handshakeHash;
  t.deepEqual(hh, v.manager.channel(p.manager.peerId)!.handshakeHash, 'both ends hold the same handshake hash');
  t.is(inputs[0]!.challenge, challengeFor('membership', hh, n));
  t.is(inputs[0]!.secret, secret);
  t.is(inputs[0]!.root, tree.root);
  t.deepEqual(reply.nonce, n);
  t.is(decodeProofResult(reply.proof).publicSignals[2], challengeFor('membership', hh, n));
  t.is(responder.answered, 1);
  t.is(await askCommitment(vm, p.manager.peerId), commitmentOf(secret));
});

test('a peer over its budget gets BUSY; the budget refills after a minute', async (t) => {
  const clock = new ManualClock(0);
  const { p, vm } = await pair(t, { perPeerPerMinute: 2, clock });
  const ask = () => remoteCode(vm.request(p.manager.peerId, zkpProve, { kind: 'membership', nonce: nonce() }));
  t.is(await ask(), 'ok');
  t.is(await ask(), 'ok');
  t.is(await ask(), 'BUSY');
  clock.advance(60_000);
  t.is(await ask(), 'ok');
});

test('a kind the board does not answer, a board outside its tree, a closed responder: error replies', async (t) => {
  const outside = MerkleTree.fromLeaves(4, [commitmentOf(0x1234n)]);
  const { p, vm, responder } = await pair(t, { withKp: false, tree: outside });
  t.is(await remoteCode(vm.request(p.manager.peerId, zkpProve, { kind: 'keyPossession', nonce: nonce() })), 'ARGUMENT');
  t.is(await remoteCode(vm.request(p.manager.peerId, zkpProve, { kind: 'membership', nonce: nonce() })), 'NOT_A_MEMBER');
  await responder.close();
  t.is(await remoteCode(vm.request(p.manager.peerId, zkpProve, { kind: 'membership', nonce: nonce() })), 'CLOSED');
});
