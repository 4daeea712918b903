/**
 * The node config file, field by field. This object is the single place that
 * says what the file may hold and what each absent field defaults to: adding a
 * section is one entry below (plus its paragraph in docs/config.md).
 */
import {
  array,
  bool,
  int,
  nullable,
  object,
  oneOf,
  optional,
  refine,
  text,
  withDefault,
  type DeepReadonly,
  type Infer,
  type Schema,
} from '../schema/index.js';
import { hostPortText, peerAddressText } from './address.js';
import { absolutePath, hostName } from './fields.js';

/** Our own port (not Lightning's 9735); not registered with IANA, change it freely. */
export const DEFAULT_PORT = 7450;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/** A committee member holds a share of the fleet's keys; a worker does not. */
export const ROLES = ['worker', 'committee'] as const;
export type Role = (typeof ROLES)[number];

/** Bounds that provisioning checks a manifest against, so that every config it writes passes. */
export const MAX_BOOTSTRAP_PEERS = 64;
export const MAX_OPERATORS = 64;
export const MAX_COMMITTEE_MEMBERS = 64;

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const BROKER_URL = /^mqtts?:\/\/[^\s/]+(:[0-9]{1,5})?\/?$/;
const KEY_HEX = /^(?:[0-9a-f]{64}|[0-9a-f]{66})$/;
const PEER_ID_HEX = /^[0-9a-f]{64}$/;

// Fields shared with the fleet manifest (provision/), so both refuse the same values with the same words.
export const fleetName = text({ pattern: NAME, hint: 'a fleet name: 1 to 63 lowercase letters, digits or dashes, not starting with a dash' });
export const brokerUrl = text({ pattern: BROKER_URL, hint: 'mqtt://host:port or mqtts://host:port' });
export const operatorEntry = object({
  name: text({ pattern: NAME, hint: 'an operator name' }),
  publicKey: text({ pattern: KEY_HEX, hint: '66 or 64 hex digits' }),
});
export const peerIdHex = text({ pattern: PEER_ID_HEX, hint: 'a peer id: 64 lowercase hex digits' });

const committeeSection = refine(
  object({
    threshold: int({ min: 1, max: MAX_COMMITTEE_MEMBERS }),
    members: array(peerIdHex, { min: 1, max: MAX_COMMITTEE_MEMBERS }),
    // The DKG's delivery bound Δ in ms (absent: the agent's default, 500): every phase waits this long for messages.
    deltaMs: optional(int({ min: 50, max: 10_000 })),
  }),
  'a committee whose threshold is at most its number of members, each member listed once',
  (c) => c.threshold <= c.members.length && new Set(c.members).size === c.members.length,
);

/** A nested object that may be left out entirely; its default is whatever its own defaults add up to. */
function section<T>(inner: Schema<T>): Schema<T> {
  return withDefault(inner, inner.parse({}));
}

export const configSchema = object({
  fleet: withDefault(fleetName, 'default'),
  nodeName: optional(hostName),
  dataDir: withDefault(absolutePath, '/var/lib/edge-agent'),
  board: withDefault(text({ pattern: NAME, hint: '"auto" or a board profile id such as "rpi-4b"' }), 'auto'),
  role: withDefault(oneOf(ROLES), 'worker'),
  // Absent: this node does not know its fleet's committee (a hand-written config, a lone node).
  committee: optional(committeeSection),
  log: section(object({ level: withDefault(oneOf(LOG_LEVELS), 'info') })),
  identity: section(
    object({
      // Absent means "the identity room's default"; that choice lives there, not here.
      powDifficulty: optional(int({ min: 0, max: 40 })),
      passphraseFile: optional(absolutePath),
    }),
  ),
  network: section(
    object({
      listen: withDefault(hostPortText, `127.0.0.1:${DEFAULT_PORT}`),
      bootstrap: withDefault(array(peerAddressText, { max: MAX_BOOTSTRAP_PEERS }), []),
    }),
  ),
  shutdownTimeoutMs: withDefault(int({ min: 100, max: 120_000 }), 10_000),
  status: section(object({ intervalMs: withDefault(int({ min: 100, max: 600_000 }), 2000) })),
  telemetry: section(
    object({
      // Absent: the agent runs without MQTT (no telemetry, no remote commands).
      broker: optional(brokerUrl),
      format: withDefault(oneOf(['cbor', 'json'] as const), 'cbor'),
      intervalMs: withDefault(int({ min: 1000, max: 3_600_000 }), 10_000),
      keepaliveSec: withDefault(int({ min: 2, max: 3600 }), 30),
      tls: optional(object({ caFile: optional(absolutePath), certFile: optional(absolutePath), keyFile: optional(absolutePath) })),
      queue: section(
        object({
          maxEntries: withDefault(int({ min: 16, max: 1_000_000 }), 10_000),
          maxBytes: withDefault(int({ min: 64 * 1024, max: 1024 * 1024 * 1024 }), 8 * 1024 * 1024),
        }),
      ),
    }),
  ),
  // Keys whose signed commands this agent obeys: secp256k1 (33 bytes, `edge-agent keygen`) or Ed25519 (32 bytes).
  operators: withDefault(array(operatorEntry, { max: MAX_OPERATORS }), []),
  // PTP (IEEE 1588 over UDPv4, E2E, two-step). When enabled, the agent's clock is the PTP-disciplined time.
  // It never adjusts the system clock or a hardware clock.
  ptp: section(
    object({
      enabled: withDefault(bool(), false),
      // null: the board profile's Ethernet interface.
      interface: withDefault(nullable(text({ pattern: /^[A-Za-z0-9_.:@-]{1,15}$/, hint: 'a network interface name' })), null),
      role: withDefault(oneOf(['auto', 'master', 'slave'] as const), 'auto'),
      servo: withDefault(oneOf(['median', 'pi'] as const), 'median'),
      timestamping: withDefault(oneOf(['auto', 'hardware', 'software', 'user-space'] as const), 'auto'),
      domain: withDefault(int({ min: 0, max: 255 }), 0),
      priority1: withDefault(int({ min: 0, max: 255 }), 128),
      logSyncInterval: withDefault(int({ min: -7, max: 4 }), -3),
    }),
  ),
  // Zero-knowledge fleet membership (when the circuits were built): every agent answers proof requests and keeps the
  // fleet tree; this says whether it also asks a peer for a membership proof once OPERATIONAL (proving costs a peer
  // a second or more of CPU, verifying loads a pairing library: off unless a fleet wants it).
  zkp: section(object({ challenge: withDefault(bool(), false) })),
  liveness: section(
    object({
      // Every agent answers challenges; this says whether it also sends them.
      challenge: withDefault(bool(), true),
      intervalMs: withDefault(int({ min: 100, max: 3_600_000 }), 10_000),
      deadlineMs: withDefault(int({ min: 10, max: 600_000 }), 5000),
      missesOffline: withDefault(int({ min: 1, max: 1000 }), 3),
    }),
  ),
});

export type AgentConfig = DeepReadonly<Infer<typeof configSchema>>;
