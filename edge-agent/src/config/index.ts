export { ConfigError, type ConfigErrorCode } from './errors.js';
export { configTemplate, defaultConfig, loadConfig, parseConfig } from './load.js';
export {
  DEFAULT_PORT,
  LOG_LEVELS,
  MAX_BOOTSTRAP_PEERS,
  MAX_COMMITTEE_MEMBERS,
  MAX_OPERATORS,
  ROLES,
  brokerUrl,
  fleetName,
  operatorEntry,
  peerIdHex,
  type AgentConfig,
  type Role,
} from './schema.js';
export { hostName, isHostName } from './fields.js';
export { hostPortText, parseHostPort, parsePeerAddress, peerAddressText, type HostPort, type PeerAddress } from './address.js';
export { locateJsonError, type JsonSyntaxError } from './json-error.js';
