/**
 * Each board's node config, derived from the manifest and the inventory: who it
 * is, what it runs on, its role, the committee, and every other live board as a
 * bootstrap peer. Checked with the agent's own parseConfig before anyone writes it.
 */
import { ConfigError, parseConfig } from '../config/index.js';
import { ProvisionError } from './errors.js';
import type { Inventory } from './inventory.js';
import { addressWithPort, type Manifest } from './manifest.js';

/** Where the installed agent keeps its state on every board (the install layout's StateDirectory). */
export const BOARD_DATA_DIR = '/var/lib/edge-agent';

/** "<public key>@host:port" for every live board but `hostname`, by host name, then the manifest's extra peers. */
export function bootstrapFor(manifest: Manifest, inventory: Inventory, hostname: string): string[] {
  const peers = inventory.boards
    .filter((b) => b.removed !== true && b.hostname !== hostname)
    .map((b) => `${b.publicKey}@${addressWithPort(b.addresses[0]!, b.port)}`);
  return [...peers, ...manifest.fleet.bootstrap];
}

/** The config of board `hostname` as a plain JSON-ready object (defaults left out, so new agents' defaults apply). */
export function buildBoardConfig(manifest: Manifest, inventory: Inventory, hostname: string): Record<string, unknown> {
  const board = inventory.boards.find((b) => b.hostname === hostname && b.removed !== true);
  if (board === undefined) throw new ProvisionError('BAD_ARGUMENT', `buildBoardConfig: the inventory has no live board ${hostname}`);
  const { fleet } = manifest;
  return {
    fleet: fleet.name,
    nodeName: board.hostname,
    dataDir: BOARD_DATA_DIR,
    board: board.board,
    role: board.role,
    committee: { threshold: inventory.committee.threshold, members: [...inventory.committee.members] },
    identity: { powDifficulty: fleet.powDifficulty },
    network: { listen: `0.0.0.0:${board.port}`, bootstrap: bootstrapFor(manifest, inventory, hostname) },
    ...(fleet.broker !== undefined ? { telemetry: { broker: fleet.broker } } : {}),
    operators: fleet.operators.map((o) => ({ name: o.name, publicKey: o.publicKey })),
  };
}

/**
 * The config file's text for board `hostname`, after parseConfig accepted it.
 * `source` (the path it will be written to) starts the error if it does not.
 */
export function renderBoardConfig(manifest: Manifest, inventory: Inventory, hostname: string, source: string): string {
  const config = buildBoardConfig(manifest, inventory, hostname);
  try {
    parseConfig(config, source);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ProvisionError('INVALID_CONFIG', `the generated config is refused by the agent: ${err.message}`, { cause: err });
  }
  return `${JSON.stringify(config, null, 2)}\n`;
}
