/**
 * The prover's shell: answers 'zkp/prove' over the Messenger. The challenge is derived from the
 * handshake hash of the channel the request came on (challenge.ts), never taken from the
 * request, so a proof made here is useless on any other channel. One proof runs at a time
 * (a Groth16 proof keeps both cores busy); a few more may wait, beyond that the asker gets BUSY,
 * as does a peer that asks more than perPeerPerMinute times a minute (proving costs us a second
 * of CPU, asking costs the peer nothing).
 */
import { systemClock, type Clock } from '../clock/index.js';
import { TransportError, type ConnectionManager, type Incoming, type Messenger } from '../transport/index.js';
import { challengeFor, type ProofKind } from './challenge.js';
import { ZkpError } from './errors.js';
import { fieldFromBytes, fieldToBytes } from './field.js';
import { commitmentOf, keyPossessionInput, membershipInput } from './inputs.js';
import { zkpCommitment, zkpProve, type ProveReply, type ProveRequest } from './auth-messages.js';
import type { MerkleTree } from './merkle.js';
import { encodeProofResult } from './proof-codec.js';
import type { Prover } from './prover.js';

export interface ResponderOptions {
  readonly messenger: Messenger;
  /** To find the channel a request came on (its handshake hash). */
  readonly manager: ConnectionManager;
  /** The board's zk secret (board-secret.ts). */
  readonly secret: bigint;
  /** A prover per kind this board answers; called once, on the first request of that kind. */
  readonly provers: Partial<Record<ProofKind, () => Promise<Prover>>>;
  /**
   * Membership: the tree to prove in. Given the verifier's root hint, return the tree with that
   * root if this board still (or already) holds it, else its current tree; undefined: no tree yet.
   */
  readonly tree?: (rootHint: bigint | undefined) => MerkleTree | undefined;
  /** Requests waiting for the prover at most (default 8); more are answered BUSY. */
  readonly maxQueued?: number;
  /** Proofs per peer in any minute at most (default 12). */
  readonly perPeerPerMinute?: number;
  /** Time for that budget; default the system clock. */
  readonly clock?: Clock;
  /** Who may ask (default anyone with a channel). */
  readonly allow?: (peerId: Uint8Array) => boolean;
  /** Called after each answer, for logs and metrics. */
  readonly onAnswer?: (event: { peerId: Uint8Array; kind: ProofKind; ok: boolean; error?: string }) => void;
}

export interface ProofResponder {
  /** Proofs made so far. */
  readonly answered: number;
  /** Later requests get CLOSED; the provers made are closed. */
  close(): Promise<void>;
}

/** Registers the 'zkp/prove' and 'zkp/commitment' handlers on `messenger` (once per messenger). */
export function registerProofResponder(opts: ResponderOptions): ProofResponder {
  if (typeof opts !== 'object' || opts === null) throw new ZkpError('ARGUMENT', 'registerProofResponder needs options');
  const { messenger, manager } = opts;
  if (typeof messenger?.handle !== 'function') throw new ZkpError('ARGUMENT', 'registerProofResponder needs a Messenger');
  if (typeof manager?.channel !== 'function') throw new ZkpError('ARGUMENT', 'registerProofResponder needs a ConnectionManager');
  const commitment = commitmentOf(opts.secret);
  const secret = opts.secret;
  if (typeof opts.provers !== 'object' || opts.provers === null) throw new ZkpError('ARGUMENT', 'provers must map kinds to prover factories');
  const maxQueued = opts.maxQueued ?? 8;
  if (!Number.isInteger(maxQueued) || maxQueued < 0) throw new ZkpError('ARGUMENT', 'maxQueued must be a non-negative integer');

  const perPeer = opts.perPeerPerMinute ?? 12;
  if (!Number.isInteger(perPeer) || perPeer < 1) throw new ZkpError('ARGUMENT', 'perPeerPerMinute must be a positive integer');
  const clock = opts.clock ?? systemClock;
  /** Per peer (hex), the times of its recent requests, oldest first. */
  const recent = new Map<string, number[]>();
  const withinBudget = (peerId: Uint8Array): boolean => {
    const now = clock.now();
    const key = Buffer.from(peerId).toString('hex');
    const times = (recent.get(key) ?? []).filter((t) => now - t < 60_000);
    if (times.length >= perPeer) return false;
    times.push(now);
    recent.set(key, times);
    return true;
  };

  const loaded = new Map<ProofKind, Promise<Prover>>();
  const proverFor = (kind: ProofKind): Promise<Prover> => {
    let p = loaded.get(kind);
    if (p === undefined) {
      const factory = opts.provers[kind];
      if (factory === undefined) throw new ZkpError('ARGUMENT', `this board does not answer ${kind} challenges`);
      p = factory();
      loaded.set(kind, p);
      // A prover that could not load is tried again on the next request.
      p.catch(() => loaded.delete(kind));
    }
    return p;
  };
  let closed = false;
  let queued = 0;
  let answered = 0;
  let tail: Promise<unknown> = Promise.resolve();

  const prove = async (peerId: Uint8Array, body: ProveRequest): Promise<ProveReply> => {
    if (closed) throw new ZkpError('CLOSED', 'the proof responder is closed');
    if (opts.allow !== undefined && !opts.allow(peerId)) throw new ZkpError('ARGUMENT', 'not answering this peer');
    const channel = manager.channel(peerId);
    if (channel === undefined) throw new ZkpError('REMOTE', 'no channel to the asker');
    // Bound to the channel the request came on: the messenger dispatched it from this peer's channel.
    const challenge = challengeFor(body.kind, channel.handshakeHash, body.nonce);
    let input;
    if (body.kind === 'membership') {
      const hint = body.root === undefined ? undefined : fieldFromBytes(body.root, 'root');
      const tree = opts.tree?.(hint);
      if (tree === undefined) throw new ZkpError('NOT_A_MEMBER', 'no fleet tree yet');
      input = membershipInput(secret, challenge, tree);
    } else {
      input = keyPossessionInput(secret, challenge);
    }
    if (queued >= maxQueued + 1) throw new ZkpError('BUSY', 'too many proofs waiting');
    if (!withinBudget(peerId)) throw new ZkpError('BUSY', 'this peer asked for too many proofs this minute');
    queued++;
    // Waiting proofs are dropped at close (only the one running finishes): stopping never waits out a queue.
    const run = tail.then(async () => {
      if (closed) throw new ZkpError('CLOSED', 'the proof responder is closed');
      return (await proverFor(body.kind)).prove(input);
    });
    tail = run.catch(() => {});
    try {
      const result = await run;
      answered++;
      return { nonce: body.nonce, proof: encodeProofResult(result) };
    } finally {
      queued--;
    }
  };

  const handler = async ({ peerId, body }: Incoming<ProveRequest>): Promise<ProveReply> => {
    try {
      const reply = await prove(peerId, body);
      opts.onAnswer?.({ peerId, kind: body.kind, ok: true });
      return reply;
    } catch (err) {
      opts.onAnswer?.({ peerId, kind: body.kind, ok: false, error: err instanceof ZkpError ? err.code : 'FAILED' });
      throw err;
    }
  };
  try {
    messenger.handle(zkpProve, handler);
    messenger.handle(zkpCommitment, () => {
      if (closed) throw new ZkpError('CLOSED', 'the proof responder is closed');
      return { commitment: fieldToBytes(commitment) };
    });
  } catch (err) {
    if (err instanceof TransportError) throw new ZkpError('ARGUMENT', `registerProofResponder: ${err.message}`, { cause: err });
    throw err;
  }
  return {
    get answered() {
      return answered;
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await tail;
      const provers = await Promise.allSettled([...loaded.values()]);
      await Promise.all(provers.map((p) => (p.status === 'fulfilled' ? p.value.close() : undefined)));
    },
  };
}
