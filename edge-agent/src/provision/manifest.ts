/**
 * The fleet manifest: what the operator writes to describe a fleet and its
 * boards. Checked field by field with the config's own validators (so a value
 * the agent would refuse is refused here first), then across fields: unique
 * host names, known board models, a committee that adds up.
 */
import {
  DEFAULT_PORT,
  MAX_BOOTSTRAP_PEERS,
  MAX_COMMITTEE_MEMBERS,
  MAX_OPERATORS,
  ROLES,
  brokerUrl,
  fleetName,
  hostName,
  operatorEntry,
  parseHostPort,
  peerAddressText,
} from '../config/index.js';
import { DEFAULT_POW_DIFFICULTY } from '../identity/index.js';
import {
  array,
  deepFreeze,
  describe,
  int,
  object,
  oneOf,
  optional,
  refine,
  SchemaError,
  text,
  withDefault,
  type DeepReadonly,
  type Infer,
  type Schema,
} from '../schema/index.js';
import { ProvisionError } from './errors.js';
import { readJsonFile } from './json-file.js';

/** The highest difficulty a config may name (identity.powDifficulty); a manifest may not ask for more. */
export const MAX_MANIFEST_POW_DIFFICULTY = 40;
const MAX_ADDRESSES = 16;
const PROFILE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Whether a board address already names its port: "host:port" or "[v6]:port", not "host" or "[v6]". */
function hasPort(address: string): boolean {
  return address.startsWith('[') ? address.includes(']:') : address.includes(':');
}

/** The address as "host:port", with `port` when it names none. */
export function addressWithPort(address: string, port: number): string {
  return hasPort(address) ? address : `${address}:${port}`;
}

const ADDRESS = '"host" or "host:port" (a host name, an IPv4 address or a bracketed IPv6 address; port 1 to 65535)';

const boardAddress: Schema<string> = {
  expected: ADDRESS,
  parse(value: unknown, path = ''): string {
    if (typeof value !== 'string' || value.length > 300) throw new SchemaError(path, ADDRESS, describe(value));
    let port: number;
    try {
      port = parseHostPort(addressWithPort(value, 1)).port;
    } catch {
      throw new SchemaError(path, ADDRESS, describe(value));
    }
    if (port < 1) throw new SchemaError(path, ADDRESS, describe(value));
    return value;
  },
};

// Lowercase only: host names compare without case, and each one is also a directory name under DIR/boards.
const boardHostName = refine(hostName, 'a lowercase host name (letters, digits, dashes and dots)', (s) => s === s.toLowerCase());

const manifestSchema = object({
  fleet: object({
    name: fleetName,
    broker: optional(brokerUrl),
    // Peers outside the manifest (a seed node, another site) that every board also dials.
    bootstrap: withDefault(array(peerAddressText, { max: MAX_BOOTSTRAP_PEERS }), []),
    committee: object({
      size: int({ min: 1, max: MAX_COMMITTEE_MEMBERS }),
      threshold: int({ min: 1, max: MAX_COMMITTEE_MEMBERS }),
    }),
    operators: withDefault(array(operatorEntry, { max: MAX_OPERATORS }), []),
    port: withDefault(int({ min: 1, max: 65535 }), DEFAULT_PORT),
    powDifficulty: withDefault(int({ min: 0, max: MAX_MANIFEST_POW_DIFFICULTY }), DEFAULT_POW_DIFFICULTY),
  }),
  boards: array(
    object({
      hostname: boardHostName,
      board: text({ pattern: PROFILE_ID, hint: 'a board profile id such as "rpi-4b"' }),
      role: oneOf(ROLES),
      addresses: array(boardAddress, { min: 1, max: MAX_ADDRESSES }),
    }),
    { min: 1, max: 1024 },
  ),
});

export type Manifest = DeepReadonly<Infer<typeof manifestSchema>>;
export type ManifestBoard = Manifest['boards'][number];

export interface ParseManifestOptions {
  /** Ids of the board profiles (board/ loadProfiles()); a board must name one of them. */
  boardIds: readonly string[];
  /** Usually the manifest's path; starts every error message. */
  source?: string;
}

/** Rules that span fields. Each failure names one field, as the schema's own errors do. */
function checkAcross(m: Infer<typeof manifestSchema>, boardIds: readonly string[]): void {
  const seen = new Map<string, number>();
  for (const [i, b] of m.boards.entries()) {
    const other = seen.get(b.hostname);
    if (other !== undefined) {
      throw new SchemaError(`boards[${i}].hostname`, 'a host name no other board uses', `${JSON.stringify(b.hostname)}, as does boards[${other}]`);
    }
    seen.set(b.hostname, i);
    if (!boardIds.includes(b.board)) {
      throw new SchemaError(`boards[${i}].board`, `a board profile id (${boardIds.join(', ')})`, JSON.stringify(b.board));
    }
  }
  const { size, threshold } = m.fleet.committee;
  if (threshold > size) {
    throw new SchemaError('fleet.committee.threshold', `an integer from 1 to fleet.committee.size (${size})`, String(threshold));
  }
  const members = m.boards.filter((b) => b.role === 'committee').length;
  if (members !== size) {
    throw new SchemaError('fleet.committee.size', `the number of boards with role "committee" (${members})`, String(size));
  }
  // Every board's network.bootstrap lists all the others plus fleet.bootstrap, and a config holds at most so many.
  const most = MAX_BOOTSTRAP_PEERS + 1 - m.fleet.bootstrap.length;
  if (m.boards.length > most) {
    throw new SchemaError(
      'boards',
      `at most ${most} boards (each board's network.bootstrap lists the others and fleet.bootstrap, at most ${MAX_BOOTSTRAP_PEERS} peers)`,
      `an array of ${m.boards.length}`,
    );
  }
}

/** Validates a decoded manifest and fills its defaults. Throws ProvisionError('INVALID_MANIFEST') naming the field. */
export function parseManifest(value: unknown, opts: ParseManifestOptions): Manifest {
  if (typeof opts !== 'object' || opts === null || !Array.isArray(opts.boardIds) || !opts.boardIds.every((id) => typeof id === 'string')) {
    throw new ProvisionError('BAD_ARGUMENT', 'parseManifest: boardIds must be a list of board profile ids');
  }
  const { source } = opts;
  if (source !== undefined && (typeof source !== 'string' || source === '')) {
    throw new ProvisionError('BAD_ARGUMENT', 'parseManifest: source must be a non-empty string when given');
  }
  try {
    const manifest = manifestSchema.parse(value);
    checkAcross(manifest, opts.boardIds);
    return deepFreeze(manifest);
  } catch (err) {
    if (!(err instanceof SchemaError)) throw err;
    throw new ProvisionError('INVALID_MANIFEST', `${source === undefined ? '' : `${source}: `}${err.message}`, { cause: err });
  }
}

/** Reads and validates the manifest file; every failure is a ProvisionError whose message starts with `path`. */
export async function loadManifest(path: string, boardIds: readonly string[]): Promise<Manifest> {
  if (typeof path !== 'string' || path === '') throw new ProvisionError('BAD_ARGUMENT', 'loadManifest: path must be a non-empty string');
  const value = await readJsonFile(path, 'BAD_JSON');
  if (value === undefined) throw new ProvisionError('NOT_FOUND', `${path}: no such file; expected the fleet manifest there`);
  return parseManifest(value, { boardIds, source: path });
}
