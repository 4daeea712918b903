/**
 * The committee's agreement: its members order operations through PBFT.
 *
 * A member of a committee of at least four runs a ReplicaService for the
 * committee's group (replica number = member number − 1, members ordered by
 * peer id as committee-plan.ts does) with a KvStateMachine and its log under
 * dataDir/consensus. The clients are the members themselves (client number =
 * member number): the committee-order command is submitted through a
 * ClientService on the member that received it. It does not wait for the DKG.
 *
 * The replicas' public keys come from the channels (the config names members by
 * peer id only), so the replica starts once a channel to every other member is
 * open: ReplicaService needs all n keys at construction (they check every
 * signed frame, and cannot be added later), so retransmission cannot stand in
 * for a key it never had. Once started, a member that goes away is, to PBFT,
 * lost messages: retransmission and status messages repair it.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock, Timer } from '../clock/index.js';
import type { AgentConfig } from '../config/index.js';
import {
  ClientService,
  KvStateMachine,
  ReplicaService,
  decodeKvResult,
  encodeKvOp,
  type KvOp,
  type ReplicaEvent,
  type ReplicaTuning,
} from '../consensus/index.js';
import type { ConnectionManager, Messenger } from '../transport/index.js';
import type { CommitteePlan, MemberPlan } from './committee-plan.js';

/** PBFT needs n ≥ 3f + 1 with f ≥ 1. */
/**
 * A primary that dies is noticed when its channel fails (the replica's suspectPrimary), so the request timer is
 * for the subtler failures (a slow or byzantine primary) and can leave a loaded board room: 2 s.
 */
const DEFAULT_TUNING: ReplicaTuning = { requestTimeout: 2_000 };

export const MIN_AGREEMENT_MEMBERS = 4;
/** How long an ordered operation may take before the command gives up on it. */
export const DEFAULT_ORDER_TIMEOUT_MS = 30_000;
/** How long to wait for our own replica's `executed` event once the client has f+1 replies. */
const EXECUTED_WAIT_MS = 3_000;
/** Executions of our own requests remembered (timestamp → where it ran). */
const EXECUTED_MEMORY = 64;

export type AgreementErrorCode =
  /** A worker, or a node outside the committee. */
  | 'NOT_A_COMMITTEE_MEMBER'
  /** A committee below MIN_AGREEMENT_MEMBERS runs no replica. */
  | 'COMMITTEE_TOO_SMALL'
  /** A member whose replica is not running yet (channels to the other members not all open) or failed. */
  | 'REPLICA_NOT_RUNNING'
  /** The group did not commit the operation in time. */
  | 'ORDER_TIMEOUT'
  | 'STOPPING'
  | 'BAD_ARGUMENT';

export class AgreementError extends Error {
  override readonly name = 'AgreementError';
  constructor(
    readonly code: AgreementErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** An operation as the command gives it. */
export interface OrderRequest {
  readonly op: 'put' | 'get' | 'delete';
  readonly key: string;
  readonly value?: Uint8Array;
}

export interface OrderOutcome {
  /** The state machine's verdict (a get of an absent key is not ok). */
  readonly ok: boolean;
  readonly value?: Uint8Array;
  /** Why not ok ('not-found', 'malformed'). */
  readonly error?: string;
  /** The view in which the operation executed (the replica's current view if its event was not seen). */
  readonly view: number;
  /** The sequence number at which it executed (the replica's last executed one if its event was not seen). */
  readonly seq: number;
}

export interface AgreementFigures {
  readonly [name: string]: number | boolean | null;
}

export interface AgreementOptions {
  readonly config: AgentConfig;
  readonly plan: CommitteePlan;
  readonly messenger: Messenger;
  readonly manager: ConnectionManager;
  /** A fresh copy of the identity secret key; wiped once handed over. */
  readonly secretKey: () => Uint8Array;
  readonly clock: Clock;
  readonly log: Logger;
  readonly tuning?: ReplicaTuning;
  readonly orderTimeoutMs?: number;
}

/** The group's id: 16 bytes of sha256 over a domain string, the fleet and the ordered member peer ids. */
export function agreementGroupId(fleet: string, members: readonly Uint8Array[]): Uint8Array {
  if (typeof fleet !== 'string' || fleet.length === 0) throw new AgreementError('BAD_ARGUMENT', 'agreementGroupId: fleet must be a non-empty string');
  if (!Array.isArray(members) || members.some((m) => !(m instanceof Uint8Array) || m.length !== 32)) {
    throw new AgreementError('BAD_ARGUMENT', 'agreementGroupId: members must be 32-byte peer ids');
  }
  const h = createHash('sha256').update(`edge-agent/consensus/committee/v1\0${fleet}\0`);
  for (const m of members) h.update(m);
  return new Uint8Array(h.digest().subarray(0, 16));
}

/** Why this plan runs no replica, or undefined when it runs one. */
export function agreementRefusal(plan: CommitteePlan): { readonly code: AgreementErrorCode; readonly reason: string } | undefined {
  if (plan.kind === 'pass') return { code: 'NOT_A_COMMITTEE_MEMBER', reason: plan.reason };
  if (plan.members.length < MIN_AGREEMENT_MEMBERS) {
    return { code: 'COMMITTEE_TOO_SMALL', reason: `committee of ${plan.members.length}: PBFT needs at least ${MIN_AGREEMENT_MEMBERS} members` };
  }
  return undefined;
}

interface Running {
  readonly replica: ReplicaService;
  client: ClientService;
  readonly newClient: () => ClientService;
}

export class CommitteeAgreement {
  readonly #o: AgreementOptions;
  readonly #refusal: ReturnType<typeof agreementRefusal>;
  #running: Running | undefined;
  #failed: Error | undefined;
  #stopped = false;
  #starting: Promise<void> | undefined;
  #unsubscribe: () => void = () => {};
  #wake: (() => void) | undefined;
  /** Our own requests' executions, by client timestamp. */
  readonly #executed = new Map<number, { seq: number; view: number }>();
  readonly #waiters = new Map<number, Set<() => void>>();

  constructor(options: AgreementOptions) {
    if (typeof options !== 'object' || options === null) throw new AgreementError('BAD_ARGUMENT', 'CommitteeAgreement: options must be an object');
    if (typeof options.secretKey !== 'function') throw new AgreementError('BAD_ARGUMENT', 'CommitteeAgreement: secretKey must be a function');
    if (options.plan?.kind !== 'pass' && options.plan?.kind !== 'member') throw new AgreementError('BAD_ARGUMENT', 'CommitteeAgreement: plan must be a committee plan');
    this.#o = options;
    this.#refusal = agreementRefusal(options.plan);
  }

  /** Whether this agent runs a replica at all (a member of a committee of at least four). */
  get member(): boolean {
    return this.#refusal === undefined;
  }

  get running(): boolean {
    return this.#running !== undefined && this.#failed === undefined;
  }

  /** Logs why no replica runs, or starts one in the background once channels to every member are open. */
  start(): void {
    const { log } = this.#o;
    const refusal = this.#refusal;
    if (refusal !== undefined) {
      log.info({ event: 'consensus', replica: false, reason: refusal.reason }, `consensus: no replica (${refusal.reason})`);
      return;
    }
    const plan = this.#o.plan as MemberPlan;
    this.#unsubscribe = this.#o.manager.onOpen(() => this.#wake?.());
    this.#starting = this.#run(plan).catch((err: unknown) => {
      this.#failed = err as Error;
      if (!this.#stopped) log.error({ event: 'consensus', err: (err as Error).message }, `consensus: the replica could not start: ${(err as Error).message}`);
    });
  }

  /** The replica's figures for the metrics registry (telemetry). */
  figures(): AgreementFigures {
    const r = this.#running;
    if (!this.member) return { replica: false };
    return {
      replica: true,
      running: this.running,
      members: (this.#o.plan as MemberPlan).members.length,
      view: r?.replica.stats.view ?? null,
      lastExecuted: r?.replica.replica.stats.lastExecuted ?? null,
    };
  }

  /** Orders one KV operation through the committee and says where it executed. */
  async order(request: OrderRequest): Promise<OrderOutcome> {
    const op = toKvOp(request);
    if (this.#refusal !== undefined) throw new AgreementError(this.#refusal.code, `no replica: ${this.#refusal.reason}`);
    if (this.#stopped) throw new AgreementError('STOPPING', 'the agent is stopping');
    const running = this.#running;
    if (running === undefined || this.#failed !== undefined) {
      throw new AgreementError('REPLICA_NOT_RUNNING', this.#failed ? `the replica failed: ${this.#failed.message}` : 'the replica is not running yet: waiting for channels to every member');
    }
    const committed = await this.#withTimeout(running.client.submit(encodeKvOp(op)));
    const at = await this.#executedAt(committed.timestamp, running);
    const result = decodeKvResult(committed.result);
    return result.ok
      ? { ok: true, ...(result.value !== undefined ? { value: result.value } : {}), ...at }
      : { ok: false, error: result.error, ...at };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe();
    this.#wake?.();
    await this.#starting;
    const r = this.#running;
    this.#running = undefined;
    for (const set of this.#waiters.values()) for (const w of set) w();
    this.#waiters.clear();
    if (r !== undefined) {
      r.client.close();
      await r.replica.stop();
    }
  }

  async #run(plan: MemberPlan): Promise<void> {
    const { log, config } = this.#o;
    const keys = await this.#keys(plan);
    if (keys === undefined) return; // stopped while waiting
    this.#unsubscribe(); // the keys are fixed from here on: later channels matter only to the messenger
    const dir = join(config.dataDir, 'consensus');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const groupId = agreementGroupId(config.fleet, plan.members);
    const replicas = new Map(keys.map((k, i) => [i, k] as const));
    const clients = new Map(keys.map((k, i) => [i + 1, k] as const));
    const secretKey = this.#o.secretKey();
    try {
      const replica = await ReplicaService.start({
        messenger: this.#o.messenger,
        groupId,
        replicas,
        clients,
        self: plan.self - 1,
        secretKey,
        stateMachine: new KvStateMachine(),
        logPath: join(dir, 'replica.log'),
        clock: this.#o.clock,
        tuning: { ...DEFAULT_TUNING, ...this.#o.tuning },
        onEvent: (e) => this.#onEvent(plan, e),
        onFailure: (err) => {
          this.#failed = err;
          log.error({ event: 'consensus', err: err.message }, `consensus: the replica stopped: ${err.message}`);
        },
      });
      if (this.#stopped) {
        await replica.stop();
        return;
      }
      const newClient = (): ClientService => {
        const key = this.#o.secretKey();
        try {
          return new ClientService({ messenger: this.#o.messenger, groupId, replicas, self: plan.self, secretKey: key, clock: this.#o.clock });
        } finally {
          key.fill(0);
        }
      };
      this.#running = { replica, client: newClient(), newClient };
      const s = replica.stats;
      log.info(
        { event: 'consensus', replica: plan.self - 1, replicas: keys.length, view: s.view, recovered: s.recovered, lastExecuted: replica.replica.stats.lastExecuted, group: Buffer.from(groupId).toString('hex') },
        `consensus: replica ${plan.self - 1} of ${keys.length} running (view ${s.view}, ${s.recovered} records recovered)`,
      );
    } finally {
      secretKey.fill(0);
    }
  }

  /** Every member's identity key, in member order, once a channel to each other member is open; undefined if stopped first. */
  async #keys(plan: MemberPlan): Promise<Uint8Array[] | undefined> {
    const { manager, log } = this.#o;
    let logged = false;
    while (!this.#stopped) {
      const keys = plan.members.map((m, i) => (i + 1 === plan.self ? manager.publicKey : manager.channel(m)?.isOpen === true ? manager.channel(m)!.remotePublicKey : undefined));
      const missing = keys.flatMap((k, i) => (k === undefined ? [i + 1] : []));
      if (missing.length === 0) return keys as Uint8Array[];
      if (!logged) {
        log.info({ event: 'consensus', waitingFor: missing }, `consensus: replica waits for channels to member ${missing.join(', ')}`);
        logged = true;
      }
      await new Promise<void>((resolve) => {
        this.#wake = () => {
          this.#wake = undefined;
          resolve();
        };
      });
    }
    return undefined;
  }

  #onEvent(plan: MemberPlan, e: ReplicaEvent): void {
    if (e.kind === 'view-change' || e.kind === 'new-view') {
      this.#o.log.info({ event: 'consensus', kind: e.kind, view: e.view }, `consensus: ${e.kind} ${e.view}`);
      return;
    }
    if (e.kind !== 'executed') return;
    for (const r of e.requests) {
      if (r.client !== plan.self) continue;
      this.#executed.set(r.timestamp, { seq: e.seq, view: e.view });
      if (this.#executed.size > EXECUTED_MEMORY) this.#executed.delete(this.#executed.keys().next().value!);
      const set = this.#waiters.get(r.timestamp);
      if (set !== undefined) for (const w of set) w();
    }
  }

  /** Where our request with this timestamp executed: our replica's event, or (after a short wait) its latest figures. */
  async #executedAt(timestamp: number, running: Running): Promise<{ view: number; seq: number }> {
    const fallback = (): { view: number; seq: number } => ({ view: running.replica.stats.view, seq: running.replica.replica.stats.lastExecuted });
    const seen = this.#executed.get(timestamp);
    if (seen !== undefined) return seen;
    await new Promise<void>((resolve) => {
      const set = this.#waiters.get(timestamp) ?? new Set<() => void>();
      this.#waiters.set(timestamp, set);
      let timer: Timer | undefined;
      const done = (): void => {
        timer?.cancel();
        set.delete(done);
        if (set.size === 0) this.#waiters.delete(timestamp);
        resolve();
      };
      set.add(done);
      timer = this.#o.clock.setTimer(EXECUTED_WAIT_MS, done);
    });
    return this.#executed.get(timestamp) ?? fallback();
  }

  /**
   * The submission, or ORDER_TIMEOUT. The client keeps one request outstanding and retransmits forever, so on a
   * timeout it is replaced by a fresh one (its timestamps start at the clock's microseconds, above the old one's).
   */
  async #withTimeout<T>(submitted: Promise<T>): Promise<T> {
    const ms = this.#o.orderTimeoutMs ?? DEFAULT_ORDER_TIMEOUT_MS;
    let timer: Timer | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.#o.clock.setTimer(ms, () => reject(new AgreementError('ORDER_TIMEOUT', `the committee did not commit the operation within ${ms} ms`)));
    });
    try {
      return await Promise.race([submitted, timeout]);
    } catch (err) {
      if (err instanceof AgreementError && err.code === 'ORDER_TIMEOUT') this.#renewClient();
      if (this.#stopped) throw new AgreementError('STOPPING', 'the agent is stopping');
      throw err;
    } finally {
      timer?.cancel();
      submitted.catch(() => {});
    }
  }

  #renewClient(): void {
    const r = this.#running;
    if (r === undefined || this.#stopped) return;
    r.client.close();
    r.client = r.newClient();
  }
}

/** The command's operation as a KvOp; put needs a value, get and delete take none. */
function toKvOp(r: OrderRequest): KvOp {
  if (typeof r !== 'object' || r === null) throw new AgreementError('BAD_ARGUMENT', 'order: the request must be an object');
  if (typeof r.key !== 'string' || r.key.length === 0 || r.key.length > 256) throw new AgreementError('BAD_ARGUMENT', 'order: key must be 1 to 256 characters');
  switch (r.op) {
    case 'put':
      if (!(r.value instanceof Uint8Array)) throw new AgreementError('BAD_ARGUMENT', 'order: put needs a value');
      return { op: 'put', key: r.key, value: r.value };
    case 'get':
    case 'delete':
      if (r.value !== undefined) throw new AgreementError('BAD_ARGUMENT', `order: ${r.op} takes no value`);
      return { op: r.op, key: r.key };
    default:
      throw new AgreementError('BAD_ARGUMENT', 'order: op must be put, get or delete');
  }
}
