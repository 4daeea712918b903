/**
 * The fleet's zero-knowledge proofs in the agent (issue 10, docs/zkp.md): every board derives
 * its zk secret from its identity key and publishes the commitment Poseidon(secret) to the
 * peers it has channels with ('zkp/commitment'); each agent keeps the fleet's Merkle tree of
 * the commitments it has learned, itself included, and (once challengePeers() was called) asks
 * its successors, when the tree has settled, to prove membership of it over their channel
 * (challenge-response, zkp/ask.ts). The successors are the next `peersToAsk` members after
 * this board in peer-id order, around the ring: every board is asked by as many boards as it
 * asks, so a fleet of n makes n·peersToAsk proofs rather than n·(n−1) (a proof is a second of
 * CPU on a Pi-class board).
 *
 * The tree is deterministic in what a board knows: leaves are the commitments sorted by peer
 * id, so two boards that know the same peers hold the same root. Boards learn of each other at
 * different moments, so the verifier accepts its last few roots for a while (zkp/roots.ts) and
 * sends its current root as a hint; the prover proves against the tree with that root if it
 * still or already holds it (it keeps its last KEPT_TREES trees).
 *
 * Trust: the commitments come from the peers themselves over authenticated channels, as the
 * rest of the agent trusts any peer with a channel today (no admission list yet). A provisioned
 * inventory of commitments, signed by the fleet, is where they belong once one exists.
 */
import type { Logger } from 'pino';
import type { Clock, Timer } from '../clock/index.js';
import { toHex } from '../identity/index.js';
import type { Channel, ConnectionManager, Messenger } from '../transport/index.js';
import {
  ChallengeBook,
  MerkleTree,
  Verifier,
  ZkpError,
  askCommitment,
  askProof,
  circuitArtifacts,
  createProver,
  registerProofResponder,
  zkSecretFromIdentity,
  commitmentOf,
  type CircuitArtifacts,
  type ProofResponder,
} from '../zkp/index.js';

/** How many earlier trees a prover keeps to answer a verifier that is a step behind. */
const KEPT_TREES = 4;

export class FleetProofsError extends Error {
  override readonly name = 'FleetProofsError';
  constructor(
    readonly code: 'BAD_ARGUMENT',
    message: string,
  ) {
    super(message);
  }
}

export interface ProofEvent {
  /** Hex peer id of the board that proved. */
  readonly prover: string;
  /** Hex peer id of this board, the verifier. */
  readonly verifier: string;
  readonly accepted: boolean;
  readonly ms: number;
  /** Why it was refused (a ZkpError code), when it was. */
  readonly reason?: string;
  readonly root: string;
}

export interface FleetProofsOptions {
  readonly messenger: Messenger;
  readonly manager: ConnectionManager;
  /** The identity secret key; only the zk secret derived from it is kept. */
  readonly secretKey: Uint8Array;
  readonly peerId: Uint8Array;
  readonly clock: Clock;
  readonly log: Logger;
  /** The circuits (membership and key possession) from the build; see FleetProofs.artifacts(). */
  readonly circuits: { readonly membership: CircuitArtifacts; readonly keyPossession: CircuitArtifacts };
  /** Quiet time after the last tree change before peers are asked to prove (default 3 s). */
  readonly settleMs?: number;
  /** How many successors in peer-id order each board asks to prove (default 1). */
  readonly peersToAsk?: number;
  /** Attempts per peer before a refusal is final (default 3). */
  readonly attempts?: number;
  readonly onProof?: (event: ProofEvent) => void;
}

interface PeerState {
  commitment: bigint | undefined;
  asking: boolean;
  done: boolean;
  attempts: number;
}

export class FleetProofs {
  readonly #o: FleetProofsOptions;
  readonly #ours: string;
  readonly #commitment: bigint;
  readonly #peers = new Map<string, PeerState>();
  /** Newest last. */
  readonly #trees: MerkleTree[] = [];
  readonly #settleMs: number;
  readonly #attempts: number;
  readonly #peersToAsk: number;
  #book: ChallengeBook | undefined;
  #verifier: Promise<Verifier> | undefined;
  #responder: ProofResponder | undefined;
  #settle: Timer | undefined;
  #unsubscribe: (() => void)[] = [];
  #stopped = false;
  #challenging = false;
  #accepted = 0;
  #refused = 0;

  /** The circuits build, or why there is none (the agent then runs without zero-knowledge proofs). */
  static artifacts(): { membership: CircuitArtifacts; keyPossession: CircuitArtifacts } | { missing: string } {
    try {
      return { membership: circuitArtifacts('membership'), keyPossession: circuitArtifacts('keyPossession') };
    } catch (err) {
      if (err instanceof ZkpError) return { missing: err.message };
      throw err;
    }
  }

  constructor(options: FleetProofsOptions) {
    if (typeof options !== 'object' || options === null) throw new FleetProofsError('BAD_ARGUMENT', 'FleetProofs needs options');
    if (!(options.peerId instanceof Uint8Array) || options.peerId.length !== 32) throw new FleetProofsError('BAD_ARGUMENT', 'peerId must be 32 bytes');
    const int = (v: number | undefined, fallback: number, what: string): number => {
      if (v === undefined) return fallback;
      if (!Number.isInteger(v) || v < 0) throw new FleetProofsError('BAD_ARGUMENT', `${what} must be a non-negative integer`);
      return v;
    };
    this.#settleMs = int(options.settleMs, 3000, 'settleMs');
    this.#attempts = Math.max(1, int(options.attempts, 3, 'attempts'));
    this.#peersToAsk = int(options.peersToAsk, 1, 'peersToAsk');
    this.#o = options;
    this.#ours = toHex(options.peerId);
    const secret = zkSecretFromIdentity(options.secretKey);
    this.#commitment = commitmentOf(secret);
    const { membership, keyPossession } = options.circuits;
    this.#responder = registerProofResponder({
      messenger: options.messenger,
      manager: options.manager,
      secret,
      // Loaded on the first request: a board nobody asks never pays for the proving key. 'auto': the addon's native
      // prover when it was built (a fraction of snarkjs's memory and time), snarkjs otherwise.
      provers: { membership: () => createProver(membership, { backend: 'auto' }), keyPossession: () => createProver(keyPossession, { backend: 'auto' }) },
      tree: (hint) => this.#trees.find((t) => t.root === hint) ?? this.#trees.at(-1),
    });
    this.#rebuild();
  }

  /** The commitment this board publishes. */
  get commitment(): bigint {
    return this.#commitment;
  }

  get root(): bigint | undefined {
    return this.#trees.at(-1)?.root;
  }

  /** Answers challenges and follows the channels, learning each peer's commitment. */
  start(): void {
    const { manager } = this.#o;
    this.#unsubscribe = [manager.onOpen((channel) => this.#met(channel))];
    for (const channel of manager.channels()) this.#met(channel);
  }

  /**
   * From now on, asks its successors in the tree to prove membership, once the tree has settled. The
   * agent calls it once OPERATIONAL: a proof keeps the cores busy for a second or more, and the
   * committee's DKG, whose rounds are timed, must not compete with it.
   */
  challengePeers(): void {
    this.#challenging = true;
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#settle?.cancel();
    for (const u of this.#unsubscribe) u();
    await this.#responder?.close();
    const verifier = await this.#verifier?.catch(() => undefined);
    await verifier?.close();
  }

  figures(): Record<string, number> {
    return { members: this.#trees.at(-1)?.size ?? 1, proofsAccepted: this.#accepted, proofsRefused: this.#refused, proofsMade: this.#responder?.answered ?? 0 };
  }

  #met(channel: Channel): void {
    const peer = toHex(channel.remotePeerId);
    if (this.#stopped) return;
    const known = this.#peers.get(peer);
    if (known?.commitment !== undefined) {
      // Back after a dropped channel: ask it now if it was never proven.
      if (!known.done) this.#schedule();
      return;
    }
    if (known === undefined) this.#peers.set(peer, { commitment: undefined, asking: false, done: false, attempts: 0 });
    askCommitment(this.#o.messenger, channel.remotePeerId, { timeoutMs: 10_000 }).then(
      (commitment) => {
        if (this.#stopped) return;
        const holder = [...this.#peers].find(([p, s]) => p !== peer && s.commitment === commitment);
        if (holder !== undefined || commitment === this.#commitment) {
          this.#o.log.warn({ event: 'zkp.commitment', peer, clash: holder?.[0] ?? this.#ours }, `zkp: ${peer.slice(0, 8)} published a commitment another board holds; ignored`);
          return;
        }
        this.#peers.get(peer)!.commitment = commitment;
        this.#rebuild();
      },
      (err: unknown) => this.#o.log.debug({ event: 'zkp.commitment', peer, err: (err as Error).message }, `zkp: no commitment from ${peer.slice(0, 8)}`),
    );
  }

  /** The tree of what we know now: our commitment and every peer's, by peer id. */
  #rebuild(): void {
    const known = [[this.#ours, this.#commitment] as const, ...[...this.#peers].filter(([, s]) => s.commitment !== undefined).map(([p, s]) => [p, s.commitment!] as const)];
    known.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const depth = this.#o.circuits.membership.depth!;
    const capacity = 2 ** depth;
    if (known.length > capacity) {
      this.#o.log.warn({ event: 'zkp.tree', known: known.length, capacity }, `zkp: ${known.length} boards do not fit the depth-${depth} tree; the first ${capacity} by peer id are in it`);
    }
    // Our own leaf stays in even when the tree is full: a board must be able to prove.
    const leaves = known.slice(0, capacity).map(([, c]) => c);
    if (!leaves.includes(this.#commitment)) leaves[capacity - 1] = this.#commitment;
    const tree = MerkleTree.fromLeaves(depth, leaves);
    if (tree.root === this.root) return;
    this.#trees.push(tree);
    if (this.#trees.length > KEPT_TREES) this.#trees.shift();
    this.#book?.roots.set(tree.root, this.#o.clock.now());
    this.#o.log.info({ event: 'zkp.tree', members: tree.size, root: tree.root.toString(16).padStart(64, '0').slice(0, 16) }, `zkp: fleet tree of ${tree.size} boards`);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped || !this.#challenging) return;
    this.#settle?.cancel();
    this.#settle = this.#o.clock.setTimer(this.#settleMs, () => void this.#askAll());
  }

  async #askAll(): Promise<void> {
    // One at a time: a proof keeps the prover's cores busy, and the asker's verifier too.
    for (const peer of this.#successors()) {
      const state = this.#peers.get(peer)!;
      if (this.#stopped) return;
      if (state.done || state.asking) continue;
      const channel = this.#o.manager.channel(Buffer.from(peer, 'hex'));
      if (channel === undefined) continue;
      state.asking = true;
      try {
        await this.#ask(peer, state, channel);
      } finally {
        state.asking = false;
      }
    }
  }

  /** The peersToAsk members after us in peer-id order (cyclically) among those with a commitment. */
  #successors(): string[] {
    const ids = [this.#ours, ...[...this.#peers].filter(([, s]) => s.commitment !== undefined).map(([p]) => p)].sort();
    const at = ids.indexOf(this.#ours);
    const out: string[] = [];
    for (let i = 1; i < ids.length && out.length < this.#peersToAsk; i++) out.push(ids[(at + i) % ids.length]!);
    return out;
  }

  async #ask(peer: string, state: PeerState, channel: Channel): Promise<void> {
    const book = await this.#bookReady();
    const root = this.root!;
    const started = this.#o.clock.now();
    state.attempts++;
    let event: ProofEvent;
    try {
      const verdict = await askProof({ messenger: this.#o.messenger, manager: this.#o.manager, book, peerId: channel.remotePeerId, kind: 'membership', clock: this.#o.clock, timeoutMs: 60_000 });
      event = { prover: peer, verifier: this.#ours, accepted: true, ms: verdict.ms, root: hex16(verdict.root ?? root) };
      this.#accepted++;
      state.done = true;
    } catch (err) {
      const reason = err instanceof ZkpError ? err.code : 'FAILED';
      if (this.#stopped) return;
      if (state.attempts < this.#attempts) {
        this.#o.log.debug({ event: 'zkp.retry', peer, reason }, `zkp: ${peer.slice(0, 8)} not proven yet (${reason}); asking again later`);
        this.#schedule();
        return;
      }
      event = { prover: peer, verifier: this.#ours, accepted: false, ms: this.#o.clock.now() - started, reason, root: hex16(root) };
      this.#refused++;
      state.done = true;
    }
    this.#o.log.info(
      { event: 'zkp.proof', kind: 'membership', ...event },
      `zkp: ${peer.slice(0, 8)} proved fleet membership: ${event.accepted ? 'accepted' : `refused (${event.reason})`} in ${event.ms} ms`,
    );
    this.#o.onProof?.(event);
  }

  /** The verifier (its key parsed once) and the book, made when first needed. */
  async #bookReady(): Promise<ChallengeBook> {
    this.#verifier ??= Verifier.fromFile(this.#o.circuits.membership.vkey);
    const verifier = await this.#verifier;
    if (this.#book === undefined) {
      this.#book = new ChallengeBook({ verifiers: { membership: verifier } });
      for (const t of this.#trees) this.#book.roots.set(t.root, this.#o.clock.now());
    }
    return this.#book;
  }
}

const hex16 = (x: bigint): string => x.toString(16).padStart(64, '0').slice(0, 16);
