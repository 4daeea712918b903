/**
 * What this agent is in its fleet's committee, read from its config alone:
 * a member (with its number, the ordered roster, t, Δ and the keystore name of
 * the committee key) or not (and why, for the orchestrator's DKG_PHASE reason).
 */
import { createHash } from 'node:crypto';
import type { AgentConfig } from '../config/index.js';
import { MIN_THRESHOLD, committeeOrder } from '../threshold/index.js';

/** Δ when the config leaves committee.deltaMs out: enough for boards on one LAN. */
export const DEFAULT_DKG_DELTA_MS = 500;

export interface MemberPlan {
  readonly kind: 'member';
  /** Our member number (1..n): our place in the committee ordered by peer id. */
  readonly self: number;
  /** Peer ids in committee order: member i is members[i - 1]; member 1 leads the DKG. */
  readonly members: readonly Uint8Array[];
  readonly threshold: number;
  readonly deltaMs: number;
  /** Where the committee key lives in the keystore (loadCommitteeKey's name). */
  readonly keyName: string;
}

export type CommitteePlan = { readonly kind: 'pass'; readonly reason: string } | MemberPlan;

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * The keystore name of a committee's key: the fleet (cut to fit) and a digest of
 * fleet, threshold and ordered members, so a key made for another committee is
 * never taken for this one's.
 */
export function committeeKeyName(fleet: string, threshold: number, members: readonly Uint8Array[]): string {
  if (typeof fleet !== 'string' || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(fleet)) throw new TypeError('committeeKeyName: fleet must be a fleet name');
  if (!Number.isSafeInteger(threshold)) throw new TypeError('committeeKeyName: threshold must be an integer');
  const h = createHash('sha256').update(`edge-agent/committee/v1\0${fleet}\0${threshold}\0`);
  for (const m of members) h.update(m);
  return `${fleet.slice(0, 37)}.${h.digest('hex').slice(0, 16)}`;
}

/** Decides from the config whether and how this agent (peer id `peerId`, hex) takes part in the committee. */
export function committeePlan(config: AgentConfig, peerId: string): CommitteePlan {
  if (typeof peerId !== 'string' || !/^[0-9a-f]{64}$/.test(peerId)) throw new TypeError('committeePlan: peerId must be 64 lowercase hex digits');
  const c = config.committee;
  if (config.role !== 'committee') return { kind: 'pass', reason: `role ${config.role}: holds no committee key` };
  if (c === undefined) return { kind: 'pass', reason: 'no committee configured: no key to generate' };
  if (!c.members.includes(peerId)) return { kind: 'pass', reason: 'role committee, but not listed in committee.members: no key to generate' };
  if (c.threshold < MIN_THRESHOLD || c.members.length < MIN_THRESHOLD) {
    return { kind: 'pass', reason: `committee of ${c.members.length} with threshold ${c.threshold}: FROST needs at least ${MIN_THRESHOLD} of ${MIN_THRESHOLD}` };
  }
  const members = committeeOrder(c.members.map((m) => new Uint8Array(Buffer.from(m, 'hex'))));
  const self = members.findIndex((m) => hexOf(m) === peerId) + 1;
  return {
    kind: 'member',
    self,
    members,
    threshold: c.threshold,
    deltaMs: c.deltaMs ?? DEFAULT_DKG_DELTA_MS,
    keyName: committeeKeyName(config.fleet, c.threshold, members),
  };
}
