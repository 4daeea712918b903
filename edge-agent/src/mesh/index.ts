/**
 * mesh/: the overlay running in an agent (issue 6, item 7). The shell that
 * drives overlay/'s pure cores over transport/'s secure channels: gossip of
 * link events, catch-up for new neighbours, the map in a PeerStore, and the
 * partition and eclipse watch (docs/mesh.md).
 */
export { MeshError, type MeshErrorCode } from './errors.js';
export { MAX_BATCH, overlayCatchUp, overlayDigest, overlayEvents, withOverlayMessages, type OverlayMessage } from './messages.js';
export { OverlayNode, type OverlayNodeOptions, type OverlayStats } from './node.js';
export { MAX_SNAPSHOT_REPORTS, loadReports, saveReports } from './snapshot.js';
