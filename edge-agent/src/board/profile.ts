/**
 * What a board profile (board-config/*.json) may hold. board-config/schema.json
 * states the same rules for editors and people; these are the ones enforced,
 * including the cross-field limits JSON Schema cannot express.
 */
import {
  array,
  bool,
  deepFreeze,
  int,
  nullable,
  object,
  oneOf,
  optional,
  SchemaError,
  text,
  type DeepReadonly,
  type Infer,
} from '../schema/index.js';
import { BoardError } from './errors.js';

/** Names as Node's process.arch spells them. */
const ARCHES = ['arm64', 'x64'] as const;

/**
 * The agent takes at most a quarter of the smallest RAM variant (the OS, its page
 * cache and the board's real workload need the rest), and its peer map at most a
 * quarter of that budget, at a notional 4 KiB per peer (key, addresses, scores and
 * timers, with V8's object overhead, rounded up).
 */
const BUDGET_SHARE_OF_RAM = 4;
const PEER_MAP_SHARE_OF_BUDGET = 4;
const PEER_ENTRY_BYTES = 4096;
const PEERS_PER_BUDGET_MIB = (1 << 20) / PEER_MAP_SHARE_OF_BUDGET / PEER_ENTRY_BYTES;

const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
// Linux interface names fit IFNAMSIZ (16 bytes with the NUL) and never hold "/" or spaces.
const IFNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
const TRIMMED = /^\S(?:.*\S)?$/;

const interfaceName = nullable(text({ pattern: IFNAME, hint: 'a Linux interface name such as "eth0"' }));

const profileSchema = object({
  $schema: optional(text({ max: 256 })), // lets editors find board-config/schema.json
  id: text({ pattern: ID, hint: 'a profile id: 1 to 63 lowercase letters, digits or dashes, not starting with a dash' }),
  name: text({ min: 1, max: 80 }),
  match: array(text({ max: 128, pattern: TRIMMED, hint: 'a model string without leading or trailing spaces' }), { max: 16 }),
  arch: oneOf(ARCHES),
  cores: int({ min: 1, max: 256 }),
  memoryMiB: int({ min: 256, max: 1_048_576 }),
  memoryBudgetMiB: int({ min: 32, max: 262_144 }),
  peerMapMaxPeers: int({ min: 64, max: 1_000_000 }),
  networkInterface: interfaceName,
  ethernet: object({ interface: interfaceName, ptpHardwareClock: bool() }),
  thermal: object({ throttleC: int({ min: 40, max: 110 }), criticalC: int({ min: 50, max: 125 }) }),
  notes: text({ max: 4000 }),
});

type ParsedProfile = Omit<Infer<typeof profileSchema>, '$schema'>;
export type BoardProfile = DeepReadonly<ParsedProfile>;

/** The limits that tie fields together; each failure names the field to change. */
function checkLimits(p: ParsedProfile): void {
  const maxBudget = Math.floor(p.memoryMiB / BUDGET_SHARE_OF_RAM);
  if (p.memoryBudgetMiB > maxBudget) {
    throw new SchemaError('memoryBudgetMiB', `an integer <= memoryMiB / ${BUDGET_SHARE_OF_RAM} (${maxBudget})`, String(p.memoryBudgetMiB));
  }
  const maxPeers = p.memoryBudgetMiB * PEERS_PER_BUDGET_MIB;
  if (p.peerMapMaxPeers > maxPeers) {
    throw new SchemaError(
      'peerMapMaxPeers',
      `an integer <= memoryBudgetMiB × ${PEERS_PER_BUDGET_MIB} (${maxPeers})`,
      String(p.peerMapMaxPeers),
    );
  }
  if (p.ethernet.interface === null && p.ethernet.ptpHardwareClock) {
    throw new SchemaError('ethernet.ptpHardwareClock', 'false when ethernet.interface is null', 'true');
  }
  if (p.thermal.criticalC <= p.thermal.throttleC) {
    throw new SchemaError('thermal.criticalC', `an integer above thermal.throttleC (${p.thermal.throttleC})`, String(p.thermal.criticalC));
  }
}

/** Validates one decoded profile; `source` (the file) starts any error message. */
export function parseProfile(value: unknown, source: string): BoardProfile {
  if (typeof source !== 'string' || source === '') {
    throw new BoardError('BAD_ARGUMENT', 'parseProfile: source must be a non-empty string.');
  }
  try {
    const { $schema: _editorHint, ...profile } = profileSchema.parse(value);
    checkLimits(profile);
    return deepFreeze(profile);
  } catch (err) {
    if (!(err instanceof SchemaError)) throw err;
    throw new BoardError('INVALID_PROFILE', `${source}: ${err.message}`, { cause: err });
  }
}
