/**
 * provision/: rolling a fleet out from a manifest. For every board: an
 * identity with its proof of work (made in parallel on worker threads), the
 * keystore, and the node config from its profile; for the fleet: the
 * inventory every board's bootstrap list comes from. See docs/provisioning.md.
 */
export { ProvisionError, type ProvisionErrorCode } from './errors.js';
export { MAX_MANIFEST_POW_DIFFICULTY, addressWithPort, loadManifest, parseManifest, type Manifest, type ManifestBoard, type ParseManifestOptions } from './manifest.js';
export {
  INVENTORY_FILE,
  buildInventory,
  parseInventory,
  renderInventory,
  type Inventory,
  type InventoryBoard,
  type PublicIdentity,
} from './inventory.js';
export { BOARD_DATA_DIR, bootstrapFor, buildBoardConfig, renderBoardConfig } from './board-config.js';
export { BOARDS_DIR, CONFIG_FILE, STATE_DIR, boardPaths, readExistingIdentity, type BoardPaths, type ExistingIdentity } from './state.js';
export { LOCK_FILE } from './lock.js';
export { PowPool, type SolveProgress } from './pow-pool.js';
export { ProgressMeter, ProgressThrottle, formatDuration, formatProgress, type ProgressSnapshot } from './progress.js';
export { formatSummary, type BoardOutcome, type BoardStatus, type ProvisionSummary } from './summary.js';
export { provisionFleet, type ProvisionOptions, type ProvisionPlan, type ProvisionResult } from './provision.js';
