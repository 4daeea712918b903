/**
 * The topic tree, one branch per agent:
 *   edge/<fleet>/<peerId>/status      retained online/offline (and the Last Will)
 *   edge/<fleet>/<peerId>/telemetry   periodic board and agent figures
 *   edge/<fleet>/<peerId>/events      transitions, alarms, anything that must not be lost
 *   edge/<fleet>/<peerId>/cmd         signed commands for this agent
 *   edge/<fleet>/<peerId>/cmd/result  what became of each command
 *   edge/<fleet>/all/cmd              signed commands for every agent (target "*")
 */
import { TelemetryError } from './errors.js';

export const TOPIC_ROOT = 'edge';
/** The branch name for fleet-wide commands; never a peer id (those are 64 hex digits). */
export const FLEET_BRANCH = 'all';

const FLEET = /^[a-z0-9][a-z0-9-]{0,62}$/;
const PEER = /^[0-9a-f]{64}$/;

export interface Topics {
  readonly status: string;
  readonly telemetry: string;
  readonly events: string;
  readonly cmd: string;
  readonly cmdResult: string;
  readonly fleetCmd: string;
}

export function requireFleet(fleet: unknown): string {
  if (typeof fleet !== 'string' || !FLEET.test(fleet)) {
    throw new TelemetryError('BAD_ARGUMENT', `A fleet name is 1-63 lowercase letters, digits or dashes; got ${JSON.stringify(fleet)}.`);
  }
  return fleet;
}

export function requirePeer(peerId: unknown): string {
  if (typeof peerId !== 'string' || !PEER.test(peerId)) {
    throw new TelemetryError('BAD_ARGUMENT', `A peer id is 64 lowercase hex digits; got ${JSON.stringify(peerId)}.`);
  }
  return peerId;
}

export function topicsFor(fleet: string, peerId: string): Topics {
  const base = `${TOPIC_ROOT}/${requireFleet(fleet)}/${requirePeer(peerId)}`;
  return Object.freeze({
    status: `${base}/status`,
    telemetry: `${base}/telemetry`,
    events: `${base}/events`,
    cmd: `${base}/cmd`,
    cmdResult: `${base}/cmd/result`,
    fleetCmd: `${TOPIC_ROOT}/${fleet}/${FLEET_BRANCH}/cmd`,
  });
}

export type TopicKind = 'status' | 'telemetry' | 'events' | 'cmd' | 'cmd/result';

/** Reads a topic of the tree back (for watchers such as the demo); undefined for anything else. */
export function parseTopic(topic: string): { fleet: string; peer: string; kind: TopicKind } | undefined {
  const parts = topic.split('/');
  if (parts[0] !== TOPIC_ROOT || parts.length < 4 || parts.length > 5) return undefined;
  const [, fleet = '', peer = ''] = parts;
  const kind = parts.slice(3).join('/');
  if (!FLEET.test(fleet) || !(PEER.test(peer) || peer === FLEET_BRANCH)) return undefined;
  if (kind !== 'status' && kind !== 'telemetry' && kind !== 'events' && kind !== 'cmd' && kind !== 'cmd/result') return undefined;
  return { fleet, peer, kind };
}

/** The wildcard a watcher subscribes to for one kind across a fleet. */
export function fleetWildcard(fleet: string, kind: TopicKind): string {
  return `${TOPIC_ROOT}/${requireFleet(fleet)}/+/${kind}`;
}
