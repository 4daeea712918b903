/**
 * A DKG among the committee over the secure channels: the thin shell around
 * DkgMember (its driving loop, driveDealing, also runs refresh-service.ts).
 * Broadcasts go to every other member on its channel, shares to one; the
 * channel authenticates the sender, and every DKG message is also signed with
 * the member's identity key (secp256k1), so complaints and evidence can be
 * shown to third parties. One timer follows the core's next deadline. All members must agree on the session id, the roster, the start
 * time and the delivery bound Δ beforehand (the orchestrator decides them).
 */
import * as s from '../schema/index.js';
import { systemClock, type Clock, type Timer } from '../clock/index.js';
import { peerIdOf, sign, toHex, verify } from '../identity/index.js';
import { routeSession, type Incoming, type Messenger } from '../transport/index.js';
import { defineMessage, MessageRegistry, WireError, type MessageType } from '../wire/index.js';
import { DkgMember } from './dkg.js';
import type { DealingSession } from './dkg-session.js';
import type { DkgAbort, DkgAction, DkgDone, DkgSigner, DkgVerifier } from './dkg-types.js';
import { ConfirmRound, confirmationDigest } from './dkg-confirm.js';
import { ThresholdError } from './errors.js';

/** One DKG message: the session it belongs to, and the core's bytes. */
export const thresholdDkg = defineMessage(
  'threshold/dkg',
  s.object({ sessionId: s.bytes({ min: 16, max: 64 }), payload: s.bytes({ max: 64 * 1024 }) }),
);

/** Key confirmation: the digest of what the sender ended with, signed with its identity key. */
export const thresholdDkgConfirm = defineMessage(
  'threshold/dkg-confirm',
  s.object({ sessionId: s.bytes({ min: 16, max: 64 }), digest: s.bytes({ len: 32 }), signature: s.bytes({ len: 64 }) }),
);

/** `registry` plus the DKG messages. */
export function withDkgMessages<M extends MessageType>(registry: MessageRegistry<M>): MessageRegistry<M | typeof thresholdDkg | typeof thresholdDkgConfirm> {
  if (!(registry instanceof MessageRegistry)) throw new ThresholdError('BAD_ARGUMENT', 'withDkgMessages needs a MessageRegistry');
  try {
    return registry.with(thresholdDkg, thresholdDkgConfirm);
  } catch (err) {
    if (err instanceof WireError) throw new ThresholdError('BAD_ARGUMENT', `withDkgMessages: ${err.message}`, undefined, { cause: err });
    throw err;
  }
}

/** What every dealing run over the channels (DKG, refresh) is given. */
export interface DealingRunOptions {
  readonly messenger: Messenger;
  /** Member number -> identity public key (33-byte secp256k1); peer ids are derived from them. */
  readonly roster: ReadonlyMap<number, Uint8Array>;
  readonly sessionId: Uint8Array;
  /** Agreed start (ms since the epoch, on the agents' clocks) and delivery bound Δ (ms). */
  readonly start: number;
  readonly deltaMs: number;
  /** Our identity secret key: signs our messages. Copied; the copy is wiped when the run ends. */
  readonly secretKey: Uint8Array;
  readonly clock?: Clock;
  /** Where the outcome is recorded (the agent's audit trail) before it is returned. */
  readonly audit?: AuditSink;
  /** Gives the run up: it leaves the Messenger, wipes its key copy, records nothing and rejects with ABORTED. */
  readonly signal?: AbortSignal;
}

export interface DkgRunOptions extends DealingRunOptions {
  readonly self: number;
  readonly threshold: number;
}

/** Appends one entry to the audit trail (AuditTrail.append fits). */
export type AuditSink = (kind: string, data: Record<string, unknown>) => Promise<unknown>;

export type DkgOutcome = DkgDone | DkgAbort;

/**
 * Runs one DKG to its end: the core's `done` (group key, our share, the public package, the qualified set) or
 * `abort` (naming the culprits). Messages for other sessions are left to their own runs.
 */
export function runDkg(o: DkgRunOptions): Promise<DkgOutcome> {
  if (typeof o !== 'object' || o === null) throw new ThresholdError('BAD_ARGUMENT', 'runDkg: options must be an object');
  if (!(o.roster instanceof Map) || !o.roster.has(o.self)) throw new ThresholdError('BAD_ARGUMENT', 'runDkg: the roster must be a Map that includes self');
  const n = o.roster.size;
  for (let m = 1; m <= n; m++) if (!(o.roster.get(m) instanceof Uint8Array)) throw new ThresholdError('BAD_ARGUMENT', `runDkg: the roster must number members 1..${n}`);
  return driveDealing('runDkg', o, (keys) => new DkgMember({ sessionId: o.sessionId, self: o.self, n, threshold: o.threshold, start: o.start, delta: o.deltaMs, ...keys }));
}

/** What the driving loop needs: the run's options and our member number. */
export interface DealingShellOptions extends DealingRunOptions {
  readonly self: number;
}

/** The audit entry for a dealing's outcome: public facts only (never a share). */
function auditEntry(sessionId: Uint8Array, outcome: DkgOutcome): Record<string, unknown> {
  const common = {
    session: toHex(sessionId),
    disqualified: outcome.disqualified.map((d) => ({ party: d.party, reason: d.reason })),
    equivocations: outcome.equivocations.length,
  };
  return outcome.kind === 'done'
    ? { ...common, outcome: 'done', groupKey: toHex(outcome.groupKey), qualified: [...outcome.qualified] }
    : { ...common, outcome: 'abort', culprits: [...outcome.culprits], reason: outcome.reason };
}

/**
 * Internal (runDkg, runRefresh): builds the core with signer and verifier over the identity keys, then drives it
 * over the Messenger to its outcome. `name` prefixes errors. The core's constructor errors are thrown at once.
 */
export function driveDealing(name: string, o: DealingShellOptions, make: (keys: { signer: DkgSigner; verifier: DkgVerifier }) => DealingSession): Promise<DkgOutcome> {
  if (!(o.secretKey instanceof Uint8Array)) throw new ThresholdError('BAD_ARGUMENT', `${name}: secretKey must be a Uint8Array`);
  if (!(o.sessionId instanceof Uint8Array)) throw new ThresholdError('BAD_ARGUMENT', `${name}: sessionId must be a Uint8Array`);
  if (!(Number.isFinite(o.deltaMs) && o.deltaMs > 0)) throw new ThresholdError('BAD_ARGUMENT', `${name}: deltaMs must be positive`);
  const clock = o.clock ?? systemClock;
  const peerOf = new Map<number, Uint8Array>();
  const memberOf = new Map<string, number>();
  for (const [m, key] of o.roster) {
    const peer = peerIdOf(key);
    peerOf.set(m, peer);
    memberOf.set(toHex(peer), m);
  }
  const secretKey = Uint8Array.from(o.secretKey);
  let core: DealingSession;
  try {
    core = make({
      signer: { sign: (bytes) => sign(secretKey, bytes) },
      verifier: {
        verify: (party, bytes, sig) => {
          const key = o.roster.get(party);
          return key !== undefined && verify(key, bytes, sig);
        },
      },
    });
  } catch (err) {
    secretKey.fill(0);
    throw err;
  }
  const sid = toHex(o.sessionId);
  const route = <B extends { sessionId: Uint8Array }>(type: MessageType<string, B>, fn: (msg: Incoming<B>) => void): (() => void) => {
    try {
      return routeSession(o.messenger, type, o.sessionId, fn);
    } catch (err) {
      throw new ThresholdError('BAD_ARGUMENT', `${name}: session ${sid.slice(0, 16)} is already running`, undefined, { cause: err });
    }
  };
  const kind = `threshold.${name === 'runRefresh' ? 'refresh' : name === 'runReshare' ? 'reshare' : 'dkg'}`;
  if (o.signal?.aborted) {
    secretKey.fill(0);
    return Promise.reject(new ThresholdError('ABORTED', `${name}: given up before it started`));
  }
  return new Promise<DkgOutcome>((resolve, reject) => {
    let timer: Timer | undefined;
    let finished = false;
    /** Confirmations that came before our own `done`, then the round once we have one. */
    const early = new Map<number, Uint8Array>();
    let confirm: { round: ConfirmRound; done: DkgDone } | undefined;
    const release = (): void => {
      finished = true;
      timer?.cancel();
      secretKey.fill(0);
      unsubscribe();
      unsubscribeConfirm();
      o.signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      if (finished) return;
      release();
      reject(new ThresholdError('ABORTED', `${name}: given up`));
    };
    const finish = (outcome: DkgOutcome): void => {
      release();
      if (o.audit === undefined) return resolve(outcome);
      // A key nobody can account for must not be used: an outcome the trail refused is an error.
      o.audit(kind, auditEntry(o.sessionId, outcome)).then(
        () => resolve(outcome),
        (err: unknown) => reject(new ThresholdError('ABORTED', `${name}: the audit trail refused the outcome: ${(err as Error).message}`, undefined, { cause: err })),
      );
    };
    const abort = (culprits: readonly number[], reason: string): void =>
      finish({ kind: 'abort', culprits, reason, disqualified: confirm?.done.disqualified ?? [], equivocations: confirm?.done.equivocations ?? [] });
    const settle = (): void => {
      if (confirm === undefined || finished) return;
      const st = confirm.round.state;
      if (st.kind === 'confirmed') finish(confirm.done);
      else if (st.kind === 'differ') abort([], `key confirmation: members ${st.members.join(', ')} ended with a different result; the key is not used`);
    };
    /** Our core is done: sign what we ended with, tell everyone, and wait for the qualified members to agree. */
    const startConfirm = (done: DkgDone): void => {
      const digest = confirmationDigest(o.sessionId, done);
      const signature = sign(secretKey, digest);
      for (const m of peerOf.keys()) {
        if (m !== o.self) o.messenger.send(peerOf.get(m)!, thresholdDkgConfirm, { sessionId: o.sessionId, digest, signature }).catch(() => {});
      }
      confirm = { round: new ConfirmRound(o.self, done.qualified, digest), done };
      for (const [m, d] of early) confirm.round.receive(m, d);
      timer?.cancel();
      // Every honest member decides by the core's bound (sooner after an early finish); its confirmation
      // then travels within Δ. Twice that, and never less than 2Δ from now.
      const confirmWithinMs = Math.max(2 * o.deltaMs, core.decisionBound + 2 * o.deltaMs - clock.now());
      timer = clock.setTimer(confirmWithinMs, () => {
        const missing = confirm!.round.missing();
        if (!finished) abort(missing, `key confirmation: nothing from members ${missing.join(', ')} within ${confirmWithinMs} ms`);
      });
      settle();
    };
    const send = (to: number, payload: Uint8Array): void => {
      o.messenger.send(peerOf.get(to)!, thresholdDkg, { sessionId: o.sessionId, payload }).catch(() => {
        // A member we cannot reach is, to the protocol, silent: the core's deadlines handle it.
      });
    };
    const run = (actions: readonly DkgAction[]): void => {
      for (const a of actions) {
        if (finished) return;
        if (a.kind === 'broadcast') for (const m of peerOf.keys()) m !== o.self && send(m, a.message);
        else if (a.kind === 'send') send(a.to, a.message);
        else if (a.kind === 'done') return startConfirm(a);
        else finish(a);
      }
      if (!finished) arm();
    };
    const arm = (): void => {
      timer?.cancel();
      const at = core.nextDeadline();
      if (at === undefined) return;
      timer = clock.setTimer(Math.max(0, at - clock.now()), () => run(core.tick(clock.now())));
    };
    const unsubscribe = route(thresholdDkg, (msg) => {
      const m = memberOf.get(toHex(msg.peerId));
      if (m !== undefined && !finished && confirm === undefined) run(core.receive(m, msg.body.payload, clock.now()));
    });
    const unsubscribeConfirm = route(thresholdDkgConfirm, (msg) => {
      const { digest, signature } = msg.body;
      const m = memberOf.get(toHex(msg.peerId));
      if (m === undefined || finished || !verify(o.roster.get(m)!, digest, signature)) return;
      if (confirm === undefined) {
        if (!early.has(m)) early.set(m, digest);
      } else {
        confirm.round.receive(m, digest);
        settle();
      }
    });
    o.signal?.addEventListener('abort', onAbort, { once: true });
    run(core.tick(clock.now()));
  });
}
