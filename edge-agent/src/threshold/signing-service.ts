/**
 * The signing service over the secure channels: the thin shells around
 * SignerCore (answer commit and sign requests from fellow members) and
 * SigningCoordinator (ask the chosen members in parallel, feed their answers
 * back, keep the coordinator's one timer). All judgement is in the cores.
 */
import { createHash } from 'node:crypto';
import { systemClock, type Clock, type Timer } from '../clock/index.js';
import { toHex } from '../identity/index.js';
import { TransportError, type Incoming, type Messenger } from '../transport/index.js';
import { ThresholdError } from './errors.js';
import {
  decodeCommitment,
  decodeCommitmentList,
  decodeSignatureShare,
  encodeCommitment,
  encodeSignatureShare,
  isValidCommitment,
  type GroupPublic,
  type SigningCommitment,
} from './frost.js';
import type { AuditSink } from './dkg-service.js';
import { MAX_PREPARE_COMMITMENTS, thresholdCommit, thresholdPrepare, thresholdSign } from './service-messages.js';
import type { CommitmentPool } from './signing-pool.js';
import { SigningCoordinator, type CoordinatorAction, type SignerCore, type SigningResult } from './signing.js';

/** Member number -> that member's peer id (the committee's roster). */
export type Roster = ReadonlyMap<number, Uint8Array>;

function rosterIndex(roster: Roster): Map<string, number> {
  if (!(roster instanceof Map) || roster.size === 0) throw new ThresholdError('BAD_ARGUMENT', 'roster must be a non-empty Map of member -> peer id');
  const byPeer = new Map<string, number>();
  for (const [m, peer] of roster) {
    if (!Number.isInteger(m) || m < 1 || !(peer instanceof Uint8Array)) throw new ThresholdError('BAD_ARGUMENT', `roster: bad entry for member ${String(m)}`);
    byPeer.set(toHex(peer), m);
  }
  return byPeer;
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export interface SignerServiceOptions {
  readonly messenger: Messenger;
  readonly signer: SignerCore;
  readonly roster: Roster;
  /**
   * Whether this member signs `message`, asked by the member with peer id `from` (default: every
   * message a member asks for). A member that checks what it signs (a certificate's TBS against
   * the enrollment it saw ordered) refuses the rest: the coordinator gets ABORTED 'not approved'
   * and cannot reach the threshold without enough approving members.
   */
  readonly approve?: (message: Uint8Array, from: Uint8Array) => boolean | Promise<boolean>;
}

/** Answers the committee's commit and sign requests for one group; only roster members are served. */
export class SignerService {
  readonly #o: SignerServiceOptions;
  readonly #byPeer: Map<string, number>;

  constructor(options: SignerServiceOptions) {
    if (typeof options !== 'object' || options === null) throw new ThresholdError('BAD_ARGUMENT', 'SignerService: options must be an object');
    if (typeof options.messenger?.handle !== 'function') throw new ThresholdError('BAD_ARGUMENT', 'SignerService: a Messenger is required');
    if (options.approve !== undefined && typeof options.approve !== 'function') throw new ThresholdError('BAD_ARGUMENT', 'SignerService: approve must be a function');
    this.#byPeer = rosterIndex(options.roster);
    this.#o = options;
  }

  start(): void {
    const { messenger, signer } = this.#o;
    const groupKey = signer.group.groupKey;
    const check = (req: Incoming<{ groupKey: Uint8Array }>): void => {
      if (!this.#byPeer.has(toHex(req.peerId))) throw new ThresholdError('ABORTED', 'not a committee member');
      if (!sameBytes(req.body.groupKey, groupKey)) throw new ThresholdError('ABORTED', 'not our group');
    };
    messenger.handle(thresholdCommit, async (req) => {
      check(req);
      return encodeCommitment(await signer.commit());
    });
    messenger.handle(thresholdSign, async (req) => {
      check(req);
      const approve = this.#o.approve;
      if (approve !== undefined && (await approve(Uint8Array.from(req.body.message), Uint8Array.from(req.peerId))) !== true) {
        throw new ThresholdError('ABORTED', 'not approved');
      }
      return encodeSignatureShare(signer.sign({ message: req.body.message, commitments: decodeCommitmentList(req.body.commitments) }));
    });
    messenger.handle(thresholdPrepare, (req) => {
      check(req);
      // Decoded and checked now (the points stay cached in frost.ts); nothing else is kept or trusted.
      let decoded = 0;
      for (const wire of req.body.commitments.slice(0, MAX_PREPARE_COMMITMENTS)) if (isValidCommitment(decodeCommitment(wire))) decoded++;
      return { decoded };
    });
  }
}

export interface CommitmentFetcherOptions {
  readonly messenger: Messenger;
  readonly group: GroupPublic;
  readonly roster: Roster;
  /** Our own signer, if we are a member: asked without the network. */
  readonly local?: SignerCore;
  /** How long one request may take, ms (default: the messenger's). */
  readonly timeoutMs?: number;
}

/** Asks one member for a fresh commitment: our own signer locally, the others with a threshold/commit request. */
export function commitmentFetcher(o: CommitmentFetcherOptions): (member: number) => Promise<SigningCommitment> {
  if (typeof o !== 'object' || o === null) throw new ThresholdError('BAD_ARGUMENT', 'commitmentFetcher: options must be an object');
  if (typeof o.messenger?.request !== 'function') throw new ThresholdError('BAD_ARGUMENT', 'commitmentFetcher: a Messenger is required');
  rosterIndex(o.roster);
  const timeout = o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs };
  return async (member: number): Promise<SigningCommitment> => {
    const c =
      member === o.local?.member
        ? await o.local.commit()
        : decodeCommitment(await o.messenger.request(peerOf(o.roster, member), thresholdCommit, { groupKey: o.group.groupKey }, timeout));
    if (c.member !== member) throw new ThresholdError('MALFORMED', `member ${member} answered as ${c.member}`);
    return c;
  };
}

/**
 * Shows every other roster member the commitments a pool holds (a
 * threshold/prepare request each, in parallel), for CommitmentPool's
 * `announce`: the members decode them while idle. Resolves when all answered or failed.
 */
export function commitmentAnnouncer(o: CommitmentFetcherOptions): (commitments: readonly SigningCommitment[]) => Promise<void> {
  if (typeof o !== 'object' || o === null) throw new ThresholdError('BAD_ARGUMENT', 'commitmentAnnouncer: options must be an object');
  if (typeof o.messenger?.request !== 'function') throw new ThresholdError('BAD_ARGUMENT', 'commitmentAnnouncer: a Messenger is required');
  rosterIndex(o.roster);
  const timeout = o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs };
  return async (commitments) => {
    const body = { groupKey: o.group.groupKey, commitments: commitments.slice(-MAX_PREPARE_COMMITMENTS).map(encodeCommitment) };
    const others = [...o.roster.keys()].filter((m) => m !== o.local?.member);
    await Promise.allSettled(others.map((m) => o.messenger.request(peerOf(o.roster, m), thresholdPrepare, body, timeout)));
  };
}

function peerOf(roster: Roster, member: number): Uint8Array {
  const p = roster.get(member);
  if (p === undefined) throw new ThresholdError('BAD_ARGUMENT', `member ${member} is not on the roster`);
  return p;
}

/** A refusal for a nonce already used or burned: ours as a ThresholdError, a peer's as its error code. */
function isNonceReuse(err: unknown): boolean {
  if (err instanceof ThresholdError) return err.code === 'NONCE_REUSE';
  return err instanceof TransportError && err.code === 'REMOTE_ERROR' && /\bNONCE_REUSE\b/.test(err.message);
}

export interface CoordinateOptions {
  readonly messenger: Messenger;
  readonly group: GroupPublic;
  readonly roster: Roster;
  readonly message: Uint8Array;
  /** Members to ask, e.g. those with an open channel; our own member is asked locally. */
  readonly available: readonly number[];
  /** Our own signer, if we are a member: asked without the network. */
  readonly local?: SignerCore;
  readonly exclude?: readonly number[];
  readonly timeoutMs?: number;
  readonly maxAttempts?: number;
  readonly clock?: Clock;
  /** Where each signature, or the failure to make one, is recorded (the agent's audit trail) before it is returned. */
  readonly audit?: AuditSink;
  /**
   * Commitments fetched ahead (signing-pool.ts): a member with one pooled is
   * asked only for its share, one round trip instead of two. The pool is
   * refilled in the background once the signature is made (or has failed).
   */
  readonly pool?: CommitmentPool;
}

/** One committee signature: t of the available members, retried around cheaters and silent members. */
export function coordinateSignature(o: CoordinateOptions): Promise<SigningResult> {
  if (typeof o !== 'object' || o === null) throw new ThresholdError('BAD_ARGUMENT', 'coordinateSignature: options must be an object');
  rosterIndex(o.roster);
  const clock = o.clock ?? systemClock;
  const fetch = commitmentFetcher({ messenger: o.messenger, group: o.group, roster: o.roster, ...(o.local === undefined ? {} : { local: o.local }) });
  /** Commitments that came from the pool: a NONCE_REUSE refusal of one means it went stale, not that its member cheats. */
  const pooled = new WeakSet<SigningCommitment>();
  const coordinator = new SigningCoordinator({
    group: o.group,
    message: o.message,
    available: o.available,
    ...(o.exclude === undefined ? {} : { exclude: o.exclude }),
    ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
    ...(o.maxAttempts === undefined ? {} : { maxAttempts: o.maxAttempts }),
  });
  // What was signed is named by its hash: the audit trail holds public facts, not the messages themselves.
  const about = { groupKey: toHex(o.group.groupKey), messageSha256: createHash('sha256').update(o.message).digest('hex') };
  const record = (kind: string, data: Record<string, unknown>): Promise<void> =>
    o.audit === undefined
      ? Promise.resolve()
      : o.audit(kind, data).then(
          () => undefined,
          (err: unknown) => {
            throw new ThresholdError('ABORTED', `coordinateSignature: the audit trail refused the entry: ${(err as Error).message}`, undefined, { cause: err });
          },
        );
  return new Promise<SigningResult>((resolve, reject) => {
    let timer: Timer | undefined;
    const refusal = (err: unknown): 'malformed' | 'refused' => (err instanceof ThresholdError && err.code === 'MALFORMED' ? 'malformed' : 'refused');
    const run = (actions: readonly CoordinatorAction[]): void => {
      for (const a of actions) {
        switch (a.type) {
          case 'request-commitment': {
            const ahead = o.pool?.take(a.member);
            if (ahead !== undefined) pooled.add(ahead);
            void ask(ahead === undefined ? () => fetch(a.member) : () => Promise.resolve(ahead)).then(
              (c) => !coordinator.finished && run(coordinator.onCommitment(a.attempt, a.member, c)),
              (err: unknown) => !coordinator.finished && run(coordinator.onRefusal(a.attempt, a.member, refusal(err))),
            );
            break;
          }
          case 'request-share': {
            const own = a.commitments.find((c) => c.member === a.member);
            const local = a.member === o.local?.member;
            // Our own share waits until the remote requests are on the wire: it is computed while theirs are.
            void (local ? askAfterSends : ask)(async () => {
              const s = local
                ? o.local!.sign({ message: a.message, commitments: a.commitments })
                : decodeSignatureShare(
                    await o.messenger.request(peer(a.member), thresholdSign, { groupKey: o.group.groupKey, message: a.message, commitments: a.commitments.map(encodeCommitment) }),
                  );
              if (s.member !== a.member) throw new ThresholdError('MALFORMED', `member ${a.member} answered as ${s.member}`);
              return s;
            }).then(
              (s) => !coordinator.finished && run(coordinator.onShare(a.attempt, a.member, s)),
              (err: unknown) => {
                const stale = own !== undefined && pooled.has(own) && isNonceReuse(err);
                if (stale) o.pool?.drop(a.member); // it restarted: whatever else the pool holds from it is dead too
                if (!coordinator.finished) run(coordinator.onRefusal(a.attempt, a.member, stale ? 'stale' : refusal(err)));
              },
            );
            break;
          }
          case 'set-timer':
            timer?.cancel();
            timer = clock.setTimer(a.ms, () => !coordinator.finished && run(coordinator.onTimeout(a.timer)));
            break;
          case 'done':
            timer?.cancel();
            void o.pool?.refill();
            record('threshold.sign', { ...about, signers: [...a.result.signers], excluded: a.result.excluded.map((e) => ({ ...e })), attempts: a.result.attempts }).then(
              () => resolve(a.result),
              reject,
            );
            break;
          case 'failed':
            timer?.cancel();
            void o.pool?.refill();
            record('threshold.sign-failed', { ...about, code: a.error.code, culprits: [...a.error.culprits], reason: a.error.message }).then(() => reject(a.error), reject);
            break;
        }
      }
    };
    const peer = (member: number): Uint8Array => peerOf(o.roster, member);
    // Answers come back through the event loop, never inside run(): the coordinator sees one input at a time.
    const ask = <T>(fn: () => Promise<T>): Promise<T> => Promise.resolve().then(fn);
    // A macrotask: every request queued in this run() has been encoded and written before it runs.
    const askAfterSends = <T>(fn: () => Promise<T>): Promise<T> => new Promise<void>((resolve) => setImmediate(resolve)).then(fn);
    try {
      run(coordinator.start());
    } catch (err) {
      timer?.cancel();
      reject(err);
    }
  });
}
