/**
 * Challenge-response over real secure channels: three managers on 127.0.0.1 with messengers.
 * V verifies; P1 is an honest board; P2 is a board that cheats in the ways part 4 of issue 10
 * names (replays, relays another channel's challenge, answers late, proves against another
 * tree, sends tampered or malformed proofs). Expiry runs on a ManualClock, so nothing depends
 * on how fast proving is. Needs the circuits build (made here if missing, as in proofs.test.ts).
 */
import test from 'ava';
import { bn254 } from '@noble/curves/bn254.js';
import { ManualClock } from '../../src/clock/index.js';
import { Messenger, type ConnectionManager } from '../../src/transport/index.js';
import { coreMessages } from '../../src/wire/index.js';
import {
  ChallengeBook,
  MerkleTree,
  Verifier,
  ZkpError,
  askCommitment,
  askProof,
  challengeFor,
  circuitArtifacts,
  commitmentOf,
  createProver,
  decodeProofResult,
  encodeProofResult,
  membershipInput,
  registerProofResponder,
  responseOf,
  withZkpMessages,
  zkpProve,
  type ProofKind,
  type ProveReply,
  type ProveRequest,
  type Prover,
} from '../../src/zkp/index.js';
import { address, startManager, until } from '../transport/net-helpers.js';
import { BUILD_TIMEOUT_MS, ensureCircuits } from './build.js';

const registry = withZkpMessages(coreMessages);
type Node = Awaited<ReturnType<typeof startManager>> & { messenger: Messenger };

const s1 = 0xb0a2d1n;
const s2 = 0xb0a2d2n;
const sv = 0xb0a2d0n;
let tree: MerkleTree;
let provers: Record<ProofKind, Prover>;
let verifiers: Record<ProofKind, Verifier>;
let v: Node;
let p1: Node;
let p2: Node;
/** P2's answer to the next 'zkp/prove', set per test. */
let cheat: (req: ProveRequest) => Promise<ProveReply>;

/** A prover the responders share; closing it is the test's business. */
const shared = (p: Prover): (() => Promise<Prover>) => async () => ({ backend: p.backend, circuit: p.circuit, prove: (i) => p.prove(i), close: async () => {} });

async function node(): Promise<Node> {
  const n = await startManager();
  return { ...n, messenger: new Messenger({ manager: n.manager, registry, requestTimeoutMs: 120_000 }) };
}

const hashOf = (from: ConnectionManager, to: ConnectionManager): Uint8Array => from.channel(to.peerId)!.handshakeHash;

test.before(async (t) => {
  t.timeout(BUILD_TIMEOUT_MS);
  await ensureCircuits();
  const mem = circuitArtifacts('membership');
  const kp = circuitArtifacts('keyPossession');
  tree = MerkleTree.fromLeaves(mem.depth!, [sv, s1, s2].map(commitmentOf));
  const [pm, pk, vm, vk] = await Promise.all([createProver(mem), createProver(kp), Verifier.fromFile(mem.vkey), Verifier.fromFile(kp.vkey)]);
  provers = { membership: pm, keyPossession: pk };
  verifiers = { membership: vm, keyPossession: vk };
  [v, p1, p2] = await Promise.all([node(), node(), node()]);
  await v.manager.dial(address(p1.keys, p1.port));
  await v.manager.dial(address(p2.keys, p2.port));
  await p2.manager.dial(address(p1.keys, p1.port));
  await until(() => v.manager.channels().length === 2 && p1.manager.channels().length === 2 && p2.manager.channels().length === 2, 10_000, 'channels');
  registerProofResponder({
    messenger: p1.messenger,
    manager: p1.manager,
    secret: s1,
    provers: { membership: shared(pm), keyPossession: shared(pk) },
    tree: () => tree,
  });
  p2.messenger.handle(zkpProve, ({ body }) => cheat(body));
});

test.after.always(async () => {
  for (const n of [v, p1, p2]) n?.messenger.close();
  await Promise.all([v, p1, p2].map((n) => n?.manager.close()));
  await Promise.all([...Object.values(provers ?? {}), ...Object.values(verifiers ?? {})].map((x) => x.close()));
});

function book(clock?: ManualClock, ttlMs?: number): ChallengeBook {
  const b = new ChallengeBook({ verifiers, ...(ttlMs === undefined ? {} : { ttlMs }) });
  b.roots.set(tree.root, clock?.now() ?? Date.now());
  return b;
}

/** What P2 would answer if it were honest: a proof for the challenge of its channel to V. */
async function p2Honest(req: ProveRequest, secret = s2, proveTree = tree): Promise<ProveReply> {
  const challenge = challengeFor(req.kind, hashOf(p2.manager, v.manager), req.nonce);
  const r = await provers.membership.prove(membershipInput(secret, challenge, proveTree));
  return { nonce: req.nonce, proof: encodeProofResult(r) };
}

const ask = (b: ChallengeBook, peer: Node, extra: { kind?: ProofKind; commitment?: bigint; clock?: ManualClock } = {}) =>
  askProof({ messenger: v.messenger, manager: v.manager, book: b, peerId: peer.manager.peerId, kind: extra.kind ?? 'membership', ...(extra.commitment === undefined ? {} : { commitment: extra.commitment }), ...(extra.clock ? { clock: extra.clock } : {}) });

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'accepted';
  } catch (err) {
    if (!(err instanceof ZkpError)) throw err;
    return err.code;
  }
}

test.serial('an honest board proves membership and key possession; its commitment is what it publishes', async (t) => {
  const b = book();
  const verdict = await ask(b, p1);
  t.is(verdict.kind, 'membership');
  t.is(verdict.root, tree.root);
  t.is(verdict.nullifier, responseOf(s1, verdict.challenge));
  t.true(verdict.ms >= 0);
  const published = await askCommitment(v.messenger, p1.manager.peerId);
  t.is(published, commitmentOf(s1));
  const kp = await ask(b, p1, { kind: 'keyPossession', commitment: published });
  t.is(kp.commitment, published);
  t.is(await refusal(ask(b, p1, { kind: 'keyPossession', commitment: commitmentOf(s2) })), 'WRONG_COMMITMENT', 'P1 cannot pass for P2');
});

test.serial('a replayed answer is refused (REPLAY), and an old proof under a new nonce is WRONG_CHALLENGE', async (t) => {
  const b = book();
  let captured: ProveReply | undefined;
  cheat = async (req) => (captured = await p2Honest(req));
  await ask(b, p2);
  cheat = async () => captured!;
  t.is(await refusal(ask(b, p2)), 'REPLAY', 'the same nonce and proof again');
  cheat = async (req) => ({ nonce: req.nonce, proof: captured!.proof });
  t.is(await refusal(ask(b, p2)), 'WRONG_CHALLENGE', 'the old proof for a new challenge');
});

test.serial('a nonce relayed to another channel yields a proof for another challenge: WRONG_CHALLENGE', async (t) => {
  const b = book();
  // P2 passes V's nonce on to P1 over its own channel and returns P1's (valid) proof as its answer.
  cheat = (req) => p2.messenger.request(p1.manager.peerId, zkpProve, req);
  t.is(await refusal(ask(b, p2)), 'WRONG_CHALLENGE');
  // The same relay with V's challenge value itself would need P1 to skip its own derivation; it does not.
});

test.serial('an answer after the challenge expired is STALE', async (t) => {
  const clock = new ManualClock(1_000_000);
  const b = book(clock, 30_000);
  let asked!: () => void;
  const arrived = new Promise<void>((r) => (asked = r));
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  cheat = async (req) => {
    const reply = await p2Honest(req);
    asked();
    await gate;
    return reply;
  };
  const verdict = refusal(ask(b, p2, { clock }));
  await arrived;
  clock.advance(30_001);
  release();
  t.is(await verdict, 'STALE');
});

test.serial('a proof against a tree the verifier does not hold is WRONG_ROOT', async (t) => {
  const b = book();
  const theirs = MerkleTree.fromLeaves(tree.depth, [sv, s1, s2, 0x77n].map(commitmentOf));
  cheat = (req) => p2Honest(req, s2, theirs);
  t.is(await refusal(ask(b, p2)), 'WRONG_ROOT');
  // A board outside the tree cannot even make a witness: its answer is an error, not a proof.
  cheat = (req) => p2Honest(req, 0xbadn, tree);
  t.is(await refusal(ask(b, p2)), 'REMOTE');
});

test.serial('tampered and malformed proofs: BAD_PROOF, MALFORMED', async (t) => {
  const b = book();
  cheat = async (req) => {
    const honest = await p2Honest(req);
    const r = decodeProofResult(honest.proof);
    const P = bn254.fields.Fp.ORDER;
    return { nonce: req.nonce, proof: encodeProofResult({ proof: { ...r.proof, c: { x: r.proof.c.x, y: P - r.proof.c.y } }, publicSignals: r.publicSignals }) };
  };
  t.is(await refusal(ask(b, p2)), 'BAD_PROOF', 'c negated: on the curve, but the pairing fails');
  cheat = async (req) => {
    const honest = await p2Honest(req);
    const r = decodeProofResult(honest.proof);
    const [n, root, c] = r.publicSignals as [bigint, bigint, bigint];
    return { nonce: req.nonce, proof: encodeProofResult({ proof: r.proof, publicSignals: [n + 1n, root, c] }) };
  };
  t.is(await refusal(ask(b, p2)), 'BAD_PROOF', 'another nullifier under the same proof');
  cheat = async (req) => {
    const honest = await p2Honest(req);
    const bytes = Uint8Array.from(honest.proof);
    // {"a": bstr 32, …}: byte 5 opens a's x; its top bit is reserved and must be 0.
    t.is(bytes.subarray(1, 5).join(), [0x61, 0x61, 0x58, 0x20].join());
    bytes[5]! |= 0x80;
    return { nonce: req.nonce, proof: bytes };
  };
  t.is(await refusal(ask(b, p2)), 'MALFORMED', 'a point with its reserved bit set');
  cheat = async (req) => ({ nonce: req.nonce, proof: new Uint8Array(100).fill(0xa0) });
  t.is(await refusal(ask(b, p2)), 'MALFORMED', 'not CBOR of a proof');
});
