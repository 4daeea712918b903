/**
 * The agent's committee service: what stands between DKG_PHASE and READY.
 *
 * A committee member (role committee, listed in config.committee) loads its
 * committee key from the keystore, or, when there is none for this committee,
 * runs the DKG with the other members (committee-dkg.ts) and keeps the result
 * in the keystore (encrypted at rest). With the key it serves the committee's
 * signing requests (SignerService) and can coordinate a signature itself (the
 * committee-sign command). Anything else passes DKG_PHASE at once, saying why.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../clock/index.js';
import type { AgentConfig } from '../config/index.js';
import { toHex, type Keystore } from '../identity/index.js';
import {
  NonceStore,
  SignerCore,
  SignerService,
  coordinateSignature,
  groupPublicFromFrost,
  loadCommitteeKey,
  makeMemberShare,
  proposalReason,
  saveCommitteeKey,
  thresholdDkgCancel,
  thresholdDkgPropose,
  type AuditSink,
  type CommitteeKey,
  type DkgOutcome,
} from '../threshold/index.js';
import type { ConnectionManager, Messenger } from '../transport/index.js';
import { KeyGeneration } from './committee-dkg.js';
import { committeePlan, type CommitteePlan, type MemberPlan } from './committee-plan.js';
import { TimerScope } from './timer-scope.js';

export type CommitteeErrorCode =
  /** This agent holds no share: a worker, or not listed in the committee. */
  | 'NOT_A_COMMITTEE_MEMBER'
  /** A member whose key does not exist yet (the DKG has not finished). */
  | 'NO_COMMITTEE_KEY'
  /** The agent is stopping. */
  | 'STOPPING'
  | 'BAD_ARGUMENT';

export class CommitteeError extends Error {
  override readonly name = 'CommitteeError';
  constructor(
    readonly code: CommitteeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** What the agent does with DKG_PHASE: leave it now (with this reason), or once the key exists. */
export type CommitteeGate =
  | { readonly kind: 'now'; readonly reason: string }
  /** Resolves with the READY reason once the key exists, or undefined if it never will (stopped, not kept). */
  | { readonly kind: 'later'; readonly reason: Promise<string | undefined> };

export interface CommitteeSignature {
  readonly signature: Uint8Array;
  readonly groupKey: Uint8Array;
  /** The members whose shares made it. */
  readonly signers: readonly number[];
}

export interface CommitteeServiceOptions {
  readonly config: AgentConfig;
  readonly peerId: Uint8Array;
  /** A fresh copy of the identity secret key (for signing DKG messages); wiped after use. */
  readonly secretKey: () => Uint8Array;
  readonly messenger: Messenger;
  readonly manager: ConnectionManager;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly log: Logger;
  /** Opens the identity keystore (the caller knows the passphrase); closed again after each use. */
  readonly openKeystore: () => Promise<Keystore>;
}

type DkgDone = Extract<DkgOutcome, { kind: 'done' }>;

const short = (key: Uint8Array): string => `${toHex(key).slice(0, 16)}…`;

export class CommitteeService {
  readonly plan: CommitteePlan;
  readonly #o: CommitteeServiceOptions;
  #gate: CommitteeGate | undefined;
  #key: CommitteeKey | undefined;
  #signer: SignerCore | undefined;
  #nonces: NonceStore | undefined;
  #keygen: KeyGeneration | undefined;
  #stopped = false;
  /** Signatures in progress: their timers, cancelled by the stop. */
  readonly #signing = new Set<{ scope: TimerScope; reject: (err: Error) => void }>();

  constructor(options: CommitteeServiceOptions) {
    if (typeof options !== 'object' || options === null) throw new CommitteeError('BAD_ARGUMENT', 'CommitteeService: options must be an object');
    if (!(options.peerId instanceof Uint8Array) || options.peerId.length !== 32) throw new CommitteeError('BAD_ARGUMENT', 'CommitteeService: peerId must be 32 bytes');
    for (const f of ['secretKey', 'audit', 'openKeystore'] as const) {
      if (typeof options[f] !== 'function') throw new CommitteeError('BAD_ARGUMENT', `CommitteeService: ${f} must be a function`);
    }
    this.#o = options;
    this.plan = committeePlan(options.config, toHex(options.peerId));
  }

  /** The group key, once this member has it. */
  get groupKey(): Uint8Array | undefined {
    return this.#key?.group.groupKey;
  }

  /** Loads the key or starts the key generation; never waits for the DKG itself. */
  async start(): Promise<void> {
    const { messenger, log } = this.#o;
    const plan = this.plan;
    // Every agent answers proposals, a worker with a refusal that tells the leader why.
    messenger.handle(thresholdDkgPropose, (req) => {
      if (this.#keygen !== undefined) return this.#keygen.onProposal(req);
      const reason =
        plan.kind === 'pass'
          ? plan.reason
          : this.#stopped
            ? 'stopping'
            : this.#key !== undefined
              ? `holds the committee key ${short(this.#key.group.groupKey)}`
              : 'not ready yet: still looking for its key';
      return { accepted: false, reason: proposalReason(reason) };
    });
    messenger.handle(thresholdDkgCancel, (msg) => this.#keygen?.onCancel(msg));
    if (plan.kind === 'pass') {
      log.info({ event: 'committee', member: false, reason: plan.reason }, `committee: ${plan.reason}`);
      this.#gate = { kind: 'now', reason: plan.reason };
      return;
    }
    log.info(
      { event: 'committee', member: plan.self, members: plan.members.length, threshold: plan.threshold, deltaMs: plan.deltaMs, key: plan.keyName },
      `committee: member ${plan.self} of ${plan.members.length}, threshold ${plan.threshold}`,
    );
    const stored = await this.#load(plan);
    if (stored !== undefined) {
      await this.#activate(plan, stored);
      const reason = `committee key ${short(stored.group.groupKey)} from the keystore: no DKG`;
      log.info({ event: 'committee.key', source: 'keystore', groupKey: toHex(stored.group.groupKey), member: plan.self }, `committee: ${reason}`);
      this.#gate = { kind: 'now', reason };
      return;
    }
    const keygen = new KeyGeneration({
      plan,
      messenger,
      manager: this.#o.manager,
      secretKey: this.#o.secretKey,
      clock: this.#o.clock,
      log,
      audit: this.#o.audit,
    });
    this.#keygen = keygen;
    this.#gate = { kind: 'later', reason: keygen.result.then((done) => (done === undefined ? undefined : this.#adopt(plan, done))) };
    keygen.start();
  }

  /** How the agent leaves DKG_PHASE (start() must have run). */
  gate(): CommitteeGate {
    if (this.#gate === undefined) throw new CommitteeError('BAD_ARGUMENT', 'CommitteeService.gate: start() has not run');
    return this.#gate;
  }

  /**
   * One committee signature over `message`, coordinated by this member with the
   * members that have an open channel (and itself). Refused with
   * NOT_A_COMMITTEE_MEMBER or NO_COMMITTEE_KEY; the threshold room's errors
   * (NOT_ENOUGH_SIGNERS, ...) pass through with their codes.
   */
  async sign(message: Uint8Array): Promise<CommitteeSignature> {
    if (!(message instanceof Uint8Array)) throw new CommitteeError('BAD_ARGUMENT', 'sign: message must be bytes');
    const plan = this.plan;
    if (plan.kind === 'pass') throw new CommitteeError('NOT_A_COMMITTEE_MEMBER', `not a committee member (${plan.reason})`);
    if (this.#stopped) throw new CommitteeError('STOPPING', 'the agent is stopping');
    const key = this.#key;
    const signer = this.#signer;
    if (key === undefined || signer === undefined) throw new CommitteeError('NO_COMMITTEE_KEY', 'the committee key does not exist yet: the DKG has not finished');
    const { manager, messenger, clock, audit } = this.#o;
    const available = plan.members.flatMap((m, i) => (i + 1 === plan.self || manager.channel(m)?.isOpen === true ? [i + 1] : []));
    const scope = new TimerScope(clock);
    let entry: { scope: TimerScope; reject: (err: Error) => void } | undefined;
    const stopped = new Promise<never>((_, reject) => {
      entry = { scope, reject };
      this.#signing.add(entry);
    });
    try {
      const result = await Promise.race([
        coordinateSignature({ messenger, group: key.group, roster: rosterOf(plan), message, available, local: signer, audit, clock: scope }),
        stopped,
      ]);
      return { signature: result.signature, groupKey: key.group.groupKey, signers: result.signers };
    } finally {
      scope.close();
      this.#signing.delete(entry!);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#keygen?.stop();
    for (const s of this.#signing) {
      s.scope.close();
      s.reject(new CommitteeError('STOPPING', 'the agent is stopping'));
    }
    this.#signing.clear();
    await this.#nonces?.close();
  }

  /** The stored key for this committee, if it is one: a key of another shape is logged and not used. */
  async #load(plan: MemberPlan): Promise<CommitteeKey | undefined> {
    const keystore = await this.#o.openKeystore();
    let key: CommitteeKey | undefined;
    try {
      key = loadCommitteeKey(keystore, plan.keyName);
    } finally {
      keystore.close();
    }
    if (key === undefined) return undefined;
    const { group, share } = key;
    if (group.size === plan.members.length && group.threshold === plan.threshold && share.member === plan.self) return key;
    this.#o.log.warn(
      { event: 'committee.key', source: 'keystore', size: group.size, threshold: group.threshold, member: share.member },
      `committee: the stored key ${plan.keyName} is for ${group.threshold} of ${group.size} (member ${share.member}), not this committee: a new DKG runs`,
    );
    return undefined;
  }

  /** The DKG's result: kept in the keystore first (a key that is not kept is not used), then served. */
  async #adopt(plan: MemberPlan, done: DkgDone): Promise<string | undefined> {
    const { log } = this.#o;
    if (this.#stopped) return undefined;
    if (done.share === undefined) {
      log.error({ event: 'committee.key' }, 'committee: the DKG ended without a share for this member');
      return undefined;
    }
    let key: CommitteeKey;
    try {
      const group = groupPublicFromFrost(done.public);
      key = { group, share: makeMemberShare(plan.self, done.share.signingShare) };
      const keystore = await this.#o.openKeystore();
      try {
        await saveCommitteeKey(keystore, plan.keyName, key);
      } finally {
        keystore.close();
      }
      if (this.#stopped) return undefined;
      await this.#activate(plan, key);
    } catch (err) {
      log.error({ event: 'committee.key', err: (err as Error).message }, `committee: the DKG's key could not be kept, so it is not used: ${(err as Error).message}`);
      return undefined;
    }
    const qualified = [...done.qualified].join(',');
    log.info(
      { event: 'committee.key', source: 'dkg', groupKey: toHex(key.group.groupKey), member: plan.self, qualified: [...done.qualified] },
      `committee: key ${short(key.group.groupKey)} generated and kept`,
    );
    const reason = `committee key ${short(key.group.groupKey)} from DKG, qualified members ${qualified}`;
    // A transition reason is at most 200 characters; a large committee's list is cut.
    return reason.length <= 200 ? reason : `${reason.slice(0, 199)}…`;
  }

  /** Serves the committee's signing requests with `key`. */
  async #activate(plan: MemberPlan, key: CommitteeKey): Promise<void> {
    const { store, burned } = await NonceStore.open(join(this.#o.config.dataDir, 'threshold', 'nonces'));
    if (this.#stopped) {
      await store.close();
      throw new CommitteeError('STOPPING', 'the agent is stopping');
    }
    if (burned > 0) this.#o.log.info({ event: 'committee.nonces', burned }, `committee: ${burned} signing commitments from before the restart burned`);
    this.#nonces = store;
    const signer = new SignerCore({ group: key.group, share: key.share, nonces: store });
    new SignerService({ messenger: this.#o.messenger, signer, roster: rosterOf(plan) }).start();
    this.#key = key;
    this.#signer = signer;
  }
}

/** Member number -> peer id, as the signing service takes it. */
function rosterOf(plan: MemberPlan): Map<number, Uint8Array> {
  return new Map(plan.members.map((m, i) => [i + 1, m] as const));
}
