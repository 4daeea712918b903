/**
 * The committee's key generation as the agent runs it: agreement on a session,
 * then runDkg. Member 1 (the leader) waits for channels to every member,
 * proposes a session (random id, start a little ahead, Δ, t, the members) and
 * runs it only if every member accepted; otherwise it withdraws the proposal.
 * An abort, a timeout or a refusal is followed by a new proposal after a
 * backoff. The other members accept a proposal only from the leader and only
 * if it matches their own config (dkg-proposal.ts judges), run it, and keep
 * waiting for proposals until one ends `done`. A newer proposal supersedes the
 * run in progress: the leader has given that one up.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock/index.js';
import { toHex } from '../identity/index.js';
import {
  judgeProposal,
  makeProposal,
  proposalReason,
  runDkg,
  thresholdDkgCancel,
  thresholdDkgPropose,
  type AuditSink,
  type DkgOutcome,
  type DkgProposal,
} from '../threshold/index.js';
import { Backoff, type ConnectionManager, type Incoming, type Messenger } from '../transport/index.js';
import type { MemberPlan } from './committee-plan.js';
import { TimerScope } from './timer-scope.js';

type DkgDone = Extract<DkgOutcome, { kind: 'done' }>;

/** How a run we took part in ended, from the agent's side. */
type RunEnd = DkgOutcome | { readonly kind: 'timeout' } | { readonly kind: 'failed'; readonly error: string } | { readonly kind: 'abandoned' };

export interface KeyGenerationOptions {
  readonly plan: MemberPlan;
  readonly messenger: Messenger;
  readonly manager: ConnectionManager;
  /** A fresh copy of our identity secret key; wiped once handed to the run. */
  readonly secretKey: () => Uint8Array;
  readonly clock: Clock;
  readonly log: Logger;
  /** The agent's audit trail: runDkg records every outcome there. */
  readonly audit: AuditSink;
  /** First and largest pause between the leader's attempts (defaults 2 s and 30 s). */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
}

interface Run {
  readonly sid: string;
  readonly scope: TimerScope;
  readonly ended: Promise<RunEnd>;
  abandon(): void;
}

const SEEN_LIMIT = 256;

export class KeyGeneration {
  readonly #o: KeyGenerationOptions;
  readonly #others: Uint8Array[];
  /** Resolves with the key once a run ends `done`, or undefined once stopped. */
  readonly result: Promise<DkgDone | undefined>;
  #resolve!: (done: DkgDone | undefined) => void;
  #current: Run | undefined;
  #stopped = false;
  #finished = false;
  /** Sessions already accepted: a proposal is run once. */
  readonly #seen = new Set<string>();
  /** Who waits for a channel to open or close, or for the stop. */
  readonly #wakers = new Set<() => void>();
  /** Who sleeps between the leader's attempts: woken by the stop only. */
  readonly #stopWakers = new Set<() => void>();
  readonly #idle: TimerScope;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(options: KeyGenerationOptions) {
    this.#o = options;
    const self = options.plan.members[options.plan.self - 1]!;
    this.#others = options.plan.members.filter((m) => m !== self);
    this.#idle = new TimerScope(options.clock);
    this.result = new Promise((resolve) => (this.#resolve = resolve));
  }

  get leader(): boolean {
    return this.#o.plan.self === 1;
  }

  /** Starts waiting (the leader: starts proposing). */
  start(): void {
    const wake = (): void => {
      for (const w of [...this.#wakers]) w();
    };
    this.#unsubscribe.push(this.#o.manager.onOpen(wake), this.#o.manager.onClose(wake));
    if (this.leader) {
      void this.#lead().catch((err: unknown) => {
        this.#o.log.error({ event: 'committee.dkg', err: (err as Error).message }, `committee: the DKG leader stopped: ${(err as Error).message}`);
      });
    }
  }

  /** Gives up whatever runs: the run's timers are cancelled, `result` resolves undefined. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const u of this.#unsubscribe) u();
    this.#current?.abandon();
    this.#current = undefined;
    this.#idle.close();
    for (const w of [...this.#wakers, ...this.#stopWakers]) w();
    this.#finish(undefined);
  }

  /** A follower's answer to the leader's proposal (the committee service routes it here). */
  onProposal(req: Incoming<DkgProposal>): { accepted: boolean; reason: string } {
    const { plan, manager, clock, log } = this.#o;
    const refuse = (reason: string): { accepted: boolean; reason: string } => {
      log.warn({ event: 'committee.dkg', proposal: 'refused', reason }, `committee: DKG proposal refused: ${reason}`);
      return { accepted: false, reason: proposalReason(reason) };
    };
    if (this.#stopped || this.#finished) return refuse(this.#stopped ? 'stopping' : 'the key exists');
    if (this.leader) return refuse('this member is the leader: it proposes, it does not accept');
    const channel = manager.channel(req.peerId);
    if (channel === undefined) return refuse('no channel to the proposer');
    let verdict: ReturnType<typeof judgeProposal>;
    try {
      verdict = judgeProposal(req.body, { fromPublicKey: channel.remotePublicKey, members: plan.members, threshold: plan.threshold, now: clock.now() });
    } catch (err) {
      return refuse((err as Error).message);
    }
    if (!verdict.ok) return refuse(verdict.reason);
    const sid = toHex(req.body.sessionId);
    if (this.#seen.has(sid)) return refuse(`session ${sid.slice(0, 12)} was proposed before`);
    const missing = this.#missingChannels();
    if (missing.length > 0) return refuse(`no channel yet to member ${missing.join(', ')}`);
    this.#remember(sid);
    log.info({ event: 'committee.dkg', proposal: 'accepted', session: sid, start: req.body.start, deltaMs: req.body.deltaMs }, `committee: DKG session ${sid.slice(0, 12)} accepted`);
    const run = this.#run(req.body);
    void run.ended.then((end) => this.#followerEnd(run, end));
    return { accepted: true, reason: '' };
  }

  /** The leader withdrew a session before its start. */
  onCancel(msg: Incoming<{ sessionId: Uint8Array }>): void {
    const leader = this.#o.plan.members[0]!;
    if (Buffer.compare(msg.peerId, leader) !== 0) return;
    const sid = toHex(msg.body.sessionId);
    if (this.#current?.sid !== sid) return;
    this.#o.log.info({ event: 'committee.dkg', proposal: 'withdrawn', session: sid }, `committee: DKG session ${sid.slice(0, 12)} withdrawn by the leader`);
    this.#current.abandon();
    this.#current = undefined;
  }

  #followerEnd(run: Run, end: RunEnd): void {
    if (end.kind === 'abandoned') return;
    if (this.#current !== run) {
      this.#o.log.info({ event: 'committee.dkg', session: run.sid, outcome: end.kind, superseded: true }, `committee: DKG session ${run.sid.slice(0, 12)} ended ${end.kind} after a newer proposal: not used`);
      return;
    }
    this.#current = undefined;
    this.#report(run.sid, end);
    if (end.kind !== 'done') return;
    // The leader runs every session it did not withdraw, so a result without it is one it gave up on (a withdrawal
    // that did not arrive, a leader that restarted): it would leave the leader with no share. Everyone who ran it
    // agrees on its qualified set, so all of them drop it, and the leader's next proposal is for all of them.
    if (!end.qualified.includes(1)) {
      this.#o.log.warn({ event: 'committee.dkg', session: run.sid, outcome: 'dropped' }, `committee: DKG session ${run.sid.slice(0, 12)} ended without the leader: not used`);
      return;
    }
    this.#finish(end);
  }

  async #lead(): Promise<void> {
    const { log } = this.#o;
    const backoff = new Backoff(this.#o.backoff ?? { initialMs: 2000, maxMs: 30_000 });
    while (!this.#stopped) {
      await this.#channelsOpen();
      if (this.#stopped) return;
      const end = await this.#leadOnce();
      if (this.#stopped) return;
      if (end?.kind === 'done') return this.#finish(end);
      const pause = Math.round(backoff.next());
      log.info({ event: 'committee.dkg', retryInMs: pause }, `committee: next DKG proposal in ${pause} ms`);
      await this.#sleep(pause);
    }
  }

  /** One proposal and, if every member accepted it, its run; undefined when it was refused. */
  async #leadOnce(): Promise<RunEnd | undefined> {
    const { plan, messenger, clock, log } = this.#o;
    const marginMs = 1000 + 2 * plan.deltaMs;
    const secretKey = this.#o.secretKey();
    let proposal: DkgProposal;
    try {
      proposal = makeProposal({ sessionId: randomBytes(16), start: clock.now() + marginMs, deltaMs: plan.deltaMs, threshold: plan.threshold, members: plan.members }, secretKey);
    } finally {
      secretKey.fill(0);
    }
    const sid = toHex(proposal.sessionId);
    this.#remember(sid);
    log.info({ event: 'committee.dkg', proposal: 'sent', session: sid, start: proposal.start, deltaMs: plan.deltaMs, members: plan.members.length, threshold: plan.threshold }, `committee: proposing DKG session ${sid.slice(0, 12)}`);
    const answers = await Promise.all(
      this.#others.map((peer) =>
        messenger.request(peer, thresholdDkgPropose, proposal, { timeoutMs: Math.floor(marginMs / 2) }).then(
          (a) => (a.accepted ? undefined : `${toHex(peer).slice(0, 8)}: ${a.reason}`),
          (err: unknown) => `${toHex(peer).slice(0, 8)}: ${(err as Error).message}`,
        ),
      ),
    );
    const refusals = answers.filter((a): a is string => a !== undefined);
    const late = clock.now() > proposal.start - plan.deltaMs;
    if (refusals.length > 0 || late || this.#stopped) {
      for (const peer of this.#others) messenger.send(peer, thresholdDkgCancel, { sessionId: proposal.sessionId }).catch(() => {});
      const why = refusals.length > 0 ? refusals.join('; ') : late ? 'the answers came too close to the start' : 'stopping';
      log.warn({ event: 'committee.dkg', proposal: 'withdrawn', session: sid, reason: why }, `committee: DKG session ${sid.slice(0, 12)} withdrawn: ${why}`);
      return undefined;
    }
    const run = this.#run(proposal);
    const end = await run.ended;
    if (this.#current === run) this.#current = undefined;
    if (end.kind !== 'abandoned') this.#report(sid, end);
    return end;
  }

  /** Starts runDkg on `p` in a timer scope of its own; a run in progress is superseded. */
  #run(p: DkgProposal): Run {
    const { plan, messenger, manager, clock } = this.#o;
    this.#current?.abandon();
    const scope = new TimerScope(clock);
    // Closing the run also gives runDkg up: it leaves the Messenger and wipes its copy of the key.
    const giveUp = new AbortController();
    let abandon!: () => void;
    const abandoned = new Promise<RunEnd>((resolve) => {
      abandon = () => {
        scope.close();
        giveUp.abort();
        resolve({ kind: 'abandoned' });
      };
    });
    // runDkg ends by its own deadlines ((4 + 3t)·Δ after the start, confirmation included); this is the safety net.
    const limitMs = Math.max(0, p.start - clock.now()) + 2 * (4 + 3 * plan.threshold) * p.deltaMs + 10_000;
    const timedOut = new Promise<RunEnd>((resolve) => scope.setTimer(limitMs, () => resolve({ kind: 'timeout' })));
    const roster = new Map<number, Uint8Array>();
    plan.members.forEach((m, i) => roster.set(i + 1, i + 1 === plan.self ? manager.publicKey : (manager.channel(m)?.remotePublicKey ?? new Uint8Array(0))));
    const secretKey = this.#o.secretKey();
    let outcome: Promise<RunEnd>;
    try {
      outcome = runDkg({
        messenger,
        roster,
        self: plan.self,
        threshold: p.threshold,
        sessionId: p.sessionId,
        start: p.start,
        deltaMs: p.deltaMs,
        secretKey,
        clock: scope,
        signal: giveUp.signal,
        // A run outliving the agent must not write into a trail that is closing.
        audit: (kind, data) => (this.#stopped || scope.closed ? Promise.reject(new Error('the run was given up')) : this.#o.audit(kind, data)),
      }).catch((err: unknown) => ({ kind: 'failed', error: (err as Error).message }) as const);
    } catch (err) {
      outcome = Promise.resolve({ kind: 'failed', error: (err as Error).message });
    } finally {
      secretKey.fill(0); // runDkg keeps a copy of its own
    }
    const ended = Promise.race([outcome, abandoned, timedOut]).then((end) => {
      scope.close();
      giveUp.abort();
      return end;
    });
    const run: Run = { sid: toHex(p.sessionId), scope, ended, abandon };
    this.#current = run;
    return run;
  }

  #report(sid: string, end: RunEnd): void {
    const { log } = this.#o;
    const short = sid.slice(0, 12);
    if (end.kind === 'done') {
      log.info(
        { event: 'committee.dkg', session: sid, outcome: 'done', groupKey: toHex(end.groupKey), qualified: [...end.qualified], disqualified: end.disqualified.map((d) => d.party) },
        `committee: DKG session ${short} done, group key ${toHex(end.groupKey).slice(0, 16)}`,
      );
    } else if (end.kind === 'abort') {
      log.warn({ event: 'committee.dkg', session: sid, outcome: 'abort', culprits: [...end.culprits], reason: end.reason }, `committee: DKG session ${short} aborted (culprits: ${end.culprits.join(', ') || 'none named'}): ${end.reason}`);
    } else if (end.kind === 'timeout') {
      log.warn({ event: 'committee.dkg', session: sid, outcome: 'timeout' }, `committee: DKG session ${short} did not end in time`);
    } else if (end.kind === 'failed') {
      log.error({ event: 'committee.dkg', session: sid, outcome: 'failed', err: end.error }, `committee: DKG session ${short} failed: ${end.error}`);
    }
  }

  #finish(done: DkgDone | undefined): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#resolve(done);
  }

  #remember(sid: string): void {
    this.#seen.add(sid);
    if (this.#seen.size > SEEN_LIMIT) this.#seen.delete(this.#seen.values().next().value!);
  }

  /** Member numbers with no open channel. */
  #missingChannels(): number[] {
    const { plan, manager } = this.#o;
    const out: number[] = [];
    plan.members.forEach((m, i) => {
      if (i + 1 !== plan.self && manager.channel(m)?.isOpen !== true) out.push(i + 1);
    });
    return out;
  }

  /** Resolves once a channel is open to every other member (or on stop). */
  async #channelsOpen(): Promise<void> {
    let logged = false;
    while (!this.#stopped) {
      const missing = this.#missingChannels();
      if (missing.length === 0) return;
      if (!logged) {
        this.#o.log.info({ event: 'committee.dkg', waitingFor: missing }, `committee: waiting for channels to member ${missing.join(', ')}`);
        logged = true;
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.#wakers.delete(wake);
          resolve();
        };
        this.#wakers.add(wake);
      });
    }
  }

  /** A pause that only the stop cuts short. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.#stopWakers.delete(done);
        resolve();
      };
      this.#stopWakers.add(done);
      this.#idle.setTimer(ms, done);
    });
  }
}
