/**
 * The fleet inventory (DIR/inventory.json): every board's public identity,
 * addresses and role, and the boards taken out of the manifest, marked rather
 * than forgotten. Nothing secret. Built here without I/O from the manifest, the
 * identities found or made, and the previous inventory.
 */
import { ROLES, peerIdHex, type Role } from '../config/index.js';
import {
  array,
  bool,
  deepFreeze,
  int,
  object,
  oneOf,
  optional,
  refine,
  SchemaError,
  text,
  type DeepReadonly,
} from '../schema/index.js';
import { ProvisionError } from './errors.js';
import type { Manifest } from './manifest.js';

export const INVENTORY_FILE = 'inventory.json';

/** The public half of a board's identity, as identity.json states it. */
export interface PublicIdentity {
  /** 33-byte compressed secp256k1 key, 66 lowercase hex digits. */
  readonly publicKey: string;
  /** SHA-256 of the public key, 64 lowercase hex digits. */
  readonly peerId: string;
}

export interface InventoryBoard extends PublicIdentity {
  readonly hostname: string;
  /** Board profile id. */
  readonly board: string;
  readonly role: Role;
  /** As the manifest wrote them: "host" or "host:port". */
  readonly addresses: readonly string[];
  /** The port the board listens on, and the port of each address that names none. */
  readonly port: number;
  /** Set once the board has left the manifest; its files stay, nobody dials it. */
  readonly removed?: true;
  /** ISO 8601 time of the run that first found the board gone. */
  readonly removedAt?: string;
}

export interface Inventory {
  readonly fleet: string;
  readonly generatedAt: string;
  readonly committee: { readonly size: number; readonly threshold: number; readonly members: readonly string[] };
  /** Sorted by host name. */
  readonly boards: readonly InventoryBoard[];
}

const isoTime = refine(text({ max: 40 }), 'an ISO 8601 date and time', (s) => Number.isFinite(Date.parse(s)));

const inventorySchema = object({
  fleet: text({ min: 1, max: 63 }),
  generatedAt: isoTime,
  committee: object({ size: int({ min: 0, max: 1024 }), threshold: int({ min: 0, max: 1024 }), members: array(peerIdHex, { max: 1024 }) }),
  boards: array(
    object({
      hostname: text({ min: 1, max: 253, pattern: /^[a-z0-9.-]+$/ }),
      board: text({ min: 1, max: 63 }),
      role: oneOf(ROLES),
      peerId: peerIdHex,
      publicKey: text({ pattern: /^0[23][0-9a-f]{64}$/, hint: 'a compressed public key as 66 lowercase hex digits' }),
      addresses: array(text({ min: 1, max: 300 }), { max: 16 }),
      port: int({ min: 1, max: 65535 }),
      removed: optional(bool()),
      removedAt: optional(isoTime),
    }),
    { max: 4096 },
  ),
});

/** Validates a previous inventory. Throws ProvisionError('CORRUPT_INVENTORY') naming the field. */
export function parseInventory(value: unknown, source: string): Inventory {
  let parsed;
  try {
    parsed = inventorySchema.parse(value);
  } catch (err) {
    if (!(err instanceof SchemaError)) throw err;
    throw new ProvisionError('CORRUPT_INVENTORY', `${source}: ${err.message}`, { cause: err });
  }
  const seen = new Set<string>();
  const boards = parsed.boards.map((b): InventoryBoard => {
    if (seen.has(b.hostname)) throw new ProvisionError('CORRUPT_INVENTORY', `${source}: board ${b.hostname} is listed twice`);
    seen.add(b.hostname);
    const { removed, removedAt, ...rest } = b;
    if (removed !== true) return rest;
    return { ...rest, removed: true, removedAt: removedAt ?? parsed.generatedAt };
  });
  return deepFreeze({ ...parsed, boards: boards.sort(byHostname) });
}

function byHostname(a: { hostname: string }, b: { hostname: string }): number {
  return a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0;
}

/**
 * The inventory after this run: every manifest board with its identity, and
 * every board of `previous` that the manifest no longer names, marked removed
 * (keeping the time it was first found gone). Refuses two live boards with one
 * identity: a copied state directory would make them indistinguishable.
 */
export function buildInventory(
  manifest: Manifest,
  identities: ReadonlyMap<string, PublicIdentity>,
  previous: Inventory | undefined,
  now: number,
): Inventory {
  if (!Number.isFinite(now)) throw new ProvisionError('BAD_ARGUMENT', 'buildInventory: now must be a finite number of milliseconds');
  const stamp = new Date(now).toISOString();
  const boards: InventoryBoard[] = [];
  const owner = new Map<string, string>();
  for (const b of manifest.boards) {
    const id = identities.get(b.hostname);
    if (id === undefined) throw new ProvisionError('BAD_ARGUMENT', `buildInventory: no identity for board ${b.hostname}`);
    const other = owner.get(id.peerId);
    if (other !== undefined) {
      throw new ProvisionError(
        'DUPLICATE_IDENTITY',
        `boards ${other} and ${b.hostname} hold the same identity (peer id ${id.peerId}); move one's state directory away to mint it a new one`,
      );
    }
    owner.set(id.peerId, b.hostname);
    boards.push({
      hostname: b.hostname,
      board: b.board,
      role: b.role,
      peerId: id.peerId,
      publicKey: id.publicKey,
      addresses: [...b.addresses],
      port: manifest.fleet.port,
    });
  }
  const named = new Set(manifest.boards.map((b) => b.hostname));
  for (const b of previous?.boards ?? []) {
    if (named.has(b.hostname)) continue;
    boards.push({ ...b, removed: true, removedAt: b.removedAt ?? stamp });
  }
  boards.sort(byHostname);
  const members = boards.filter((b) => b.removed !== true && b.role === 'committee').map((b) => b.peerId);
  return deepFreeze({
    fleet: manifest.fleet.name,
    generatedAt: stamp,
    committee: { size: manifest.fleet.committee.size, threshold: manifest.fleet.committee.threshold, members },
    boards,
  });
}

/** The inventory file's text: pretty JSON with a final newline. */
export function renderInventory(inventory: Inventory): string {
  return `${JSON.stringify(inventory, null, 2)}\n`;
}
