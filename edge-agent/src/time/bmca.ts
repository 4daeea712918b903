/**
 * The best master clock algorithm of IEEE 1588-2008 §9.3 for an ordinary
 * clock with one port: the data set comparison (figures 27 and 28) and the
 * state decision (figure 26). Pure functions; the port feeds them.
 */
import { TimeError, requireInt } from './errors.js';
import { checkPortIdentity, compareClockIdentity, comparePortIdentity, type PortIdentity } from './header.js';
import { checkClockQuality, type AnnounceMessage, type ClockQuality } from './messages.js';

/** What the comparison looks at: a foreign master's Announce, or the local clock (D0). */
export interface BmcDataset {
  readonly priority1: number;
  readonly clockQuality: ClockQuality;
  readonly priority2: number;
  readonly grandmasterIdentity: Uint8Array;
  readonly stepsRemoved: number;
  /** The port that sent the Announce (for D0: the local clock, port 0). */
  readonly sender: PortIdentity;
  /** The port that received it (for D0: the local clock, port 0). */
  readonly receiver: PortIdentity;
}

/** Result of compareDatasets: positive when A is better. */
export const A_BETTER = 2;
export const A_BETTER_BY_TOPOLOGY = 1;
export const B_BETTER_BY_TOPOLOGY = -1;
export const B_BETTER = -2;
export type Comparison = -2 | -1 | 0 | 1 | 2;

function checkDataset(d: BmcDataset, name: string): void {
  if (typeof d !== 'object' || d === null) throw new TimeError('BAD_ARGUMENT', `${name} must be a BmcDataset`);
  requireInt(d.priority1, `${name}.priority1`, 0, 255);
  checkClockQuality(d.clockQuality, `${name}.clockQuality`);
  requireInt(d.priority2, `${name}.priority2`, 0, 255);
  if (!(d.grandmasterIdentity instanceof Uint8Array) || d.grandmasterIdentity.length !== 8) {
    throw new TimeError('BAD_ARGUMENT', `${name}.grandmasterIdentity must be 8 bytes`);
  }
  requireInt(d.stepsRemoved, `${name}.stepsRemoved`, 0, 0xffff);
  checkPortIdentity(d.sender, `${name}.sender`);
  checkPortIdentity(d.receiver, `${name}.receiver`);
}

/**
 * Data set comparison. Different grandmasters: priority1, clockClass,
 * clockAccuracy, offsetScaledLogVariance, priority2, identity (lower wins).
 * Same grandmaster: the topology rules on stepsRemoved, then sender and
 * receiver identities. 0 means the two are the same (figure 28's errors).
 */
export function compareDatasets(a: BmcDataset, b: BmcDataset): Comparison {
  checkDataset(a, 'a');
  checkDataset(b, 'b');
  const gm = compareClockIdentity(a.grandmasterIdentity, b.grandmasterIdentity);
  if (gm !== 0) {
    const order = [
      a.priority1 - b.priority1,
      a.clockQuality.clockClass - b.clockQuality.clockClass,
      a.clockQuality.clockAccuracy - b.clockQuality.clockAccuracy,
      a.clockQuality.offsetScaledLogVariance - b.clockQuality.offsetScaledLogVariance,
      a.priority2 - b.priority2,
      gm,
    ];
    for (const d of order) if (d !== 0) return d < 0 ? A_BETTER : B_BETTER;
  }
  // Same grandmaster (figure 28).
  if (a.stepsRemoved > b.stepsRemoved + 1) return B_BETTER;
  if (a.stepsRemoved + 1 < b.stepsRemoved) return A_BETTER;
  if (a.stepsRemoved > b.stepsRemoved) {
    const c = comparePortIdentity(a.receiver, a.sender);
    if (c < 0) return B_BETTER;
    if (c > 0) return B_BETTER_BY_TOPOLOGY;
    return 0;
  }
  if (a.stepsRemoved < b.stepsRemoved) {
    const c = comparePortIdentity(b.receiver, b.sender);
    if (c < 0) return A_BETTER;
    if (c > 0) return A_BETTER_BY_TOPOLOGY;
    return 0;
  }
  const senders = comparePortIdentity(a.sender, b.sender);
  if (senders !== 0) return senders < 0 ? A_BETTER_BY_TOPOLOGY : B_BETTER_BY_TOPOLOGY;
  const receivers = Math.sign(a.receiver.portNumber - b.receiver.portNumber);
  if (receivers !== 0) return receivers < 0 ? A_BETTER_BY_TOPOLOGY : B_BETTER_BY_TOPOLOGY;
  return 0;
}

/** The dataset an Announce stands for, as received on `receiver`. */
export function datasetFromAnnounce(msg: AnnounceMessage, receiver: PortIdentity): BmcDataset {
  return {
    priority1: msg.grandmasterPriority1,
    clockQuality: msg.grandmasterClockQuality,
    priority2: msg.grandmasterPriority2,
    grandmasterIdentity: msg.grandmasterIdentity,
    stepsRemoved: msg.stepsRemoved,
    sender: msg.header.sourcePortIdentity,
    receiver,
  };
}

/** D0: the local clock as a candidate grandmaster. */
export function localDataset(clockIdentity: Uint8Array, priority1: number, clockQuality: ClockQuality, priority2: number): BmcDataset {
  const self = { clockIdentity, portNumber: 0 };
  return { priority1, clockQuality, priority2, grandmasterIdentity: clockIdentity, stepsRemoved: 0, sender: self, receiver: self };
}

export type RecommendedState = 'LISTENING' | 'MASTER' | 'SLAVE' | 'PASSIVE';
/** Figure 26's decision codes (M1-M3, S1, P1-P2), plus our own for no candidates and role limits. */
export type DecisionCode = 'M1' | 'M2' | 'M3' | 'S1' | 'P1' | 'P2' | 'NO_FOREIGN_MASTER' | 'SLAVE_ONLY' | 'MASTER_ONLY';

export interface StateDecision {
  readonly state: RecommendedState;
  readonly code: DecisionCode;
}

export interface DecisionInput {
  readonly local: BmcDataset;
  /** Erbest (= Ebest for one port): the best qualified foreign master, or null. */
  readonly best: BmcDataset | null;
  readonly currentState: string;
  readonly slaveOnly?: boolean;
  readonly masterOnly?: boolean;
}

/**
 * State decision for a one-port ordinary clock. With no qualified foreign
 * master a LISTENING port stays LISTENING (its announce receipt timeout takes
 * it on); a slave-only clock never becomes MASTER or PASSIVE, a master-only
 * one never SLAVE.
 */
export function decideState(input: DecisionInput): StateDecision {
  const { local, best } = input;
  checkDataset(local, 'local');
  if (best !== null) checkDataset(best, 'best');
  if (input.masterOnly) return { state: 'MASTER', code: 'MASTER_ONLY' };
  if (best === null) {
    if (input.slaveOnly || input.currentState === 'LISTENING' || input.currentState === 'INITIALIZING') {
      return { state: 'LISTENING', code: input.slaveOnly ? 'SLAVE_ONLY' : 'NO_FOREIGN_MASTER' };
    }
    return { state: 'MASTER', code: local.clockQuality.clockClass <= 127 ? 'M1' : 'M2' };
  }
  if (input.slaveOnly) return { state: 'SLAVE', code: 'S1' };
  const localBetter = compareDatasets(local, best) > 0;
  if (local.clockQuality.clockClass >= 1 && local.clockQuality.clockClass <= 127) {
    return localBetter ? { state: 'MASTER', code: 'M1' } : { state: 'PASSIVE', code: 'P1' };
  }
  if (localBetter) return { state: 'MASTER', code: 'M2' };
  // One port: Ebest is Erbest, so it was received on this port.
  return { state: 'SLAVE', code: 'S1' };
}
