/**
 * overlay/: the peer map and the protocols that keep it (issue 6). Pure cores
 * so far, driven by the agent and by the simulator to come: the memory-bounded
 * PeerStore, gossip of signed connection events, least-overlap neighbour
 * choice with hysteresis, source routing with one signed re-route, and the
 * partition and eclipse watch (docs/overlay*.md).
 */
export { PeerStoreError, type PeerStoreErrorCode } from './errors.js';
export {
  DEFAULT_MAX_DEGREE,
  DEFAULT_MAX_PEERS,
  ID_BYTES,
  MAX_DEGREE_LIMIT,
  MAX_PEERS_LIMIT,
  PeerStore,
  snapshotBytes,
  type Candidate,
  type PeerStoreOptions,
  type SelectOptions,
} from './peer-store.js';
export { findComponents, type Components } from './components.js';
export { GossipError, type GossipErrorCode } from './gossip-errors.js';
export {
  EVENT_DOMAIN,
  EVENT_VERSION,
  MAX_FRAME_BYTES,
  MAX_WIRE_TTL,
  decodeEvent,
  encodeEvent,
  eventHash,
  signEvent,
  type DecodedEvent,
  type Direction,
  type EventKind,
  type EventSigner,
  type GossipEvent,
  type SignedEvent,
  type Verifier,
} from './gossip-event.js';
export { SeenCache } from './seen-cache.js';
export { EdgeTable, type EdgeChange, type EdgeReport, type EdgeTableOptions, type ReportProof, type TableDigest } from './edges.js';
export { GossipCore, PENALTY, type Forward, type GossipOptions, type ReceiveResult, type RejectReason } from './gossip.js';
export { RouteError, type RouteErrorCode } from './route-errors.js';
export {
  MAX_ROUTE_FRAME_BYTES,
  MAX_ROUTE_PAYLOAD,
  MAX_WIRE_HOPS,
  MESSAGE_ID_BYTES,
  REROUTE_DOMAIN,
  ROUTE_DOMAIN,
  RouteCore,
  effectiveRoute,
  type DropReason,
  type OriginateOptions,
  type Outgoing,
  type PendingReroute,
  type ReceiveContext,
  type RouteOptions,
  type RouteResult,
  type RouteSigner,
} from './route.js';
export { PolicyError, type PolicyErrorCode } from './policy-errors.js';
export { DEFAULT_NEIGHBOUR_POLICY, NeighbourPolicy, graphFromLists, kademliaChoice, type NeighbourPlan, type NeighbourPolicyOptions, type PeerGraph } from './neighbours.js';
export { PartitionWatch, components, neighbourhoodOverlap, type ComponentSummary, type PartitionEvent, type PartitionWatchOptions } from './partition.js';
