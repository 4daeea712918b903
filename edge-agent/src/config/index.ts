export { ConfigError, type ConfigErrorCode } from './errors.js';
export { configTemplate, defaultConfig, loadConfig, parseConfig } from './load.js';
export { DEFAULT_PORT, LOG_LEVELS, type AgentConfig } from './schema.js';
export { parseHostPort, parsePeerAddress, type HostPort, type PeerAddress } from './address.js';
export { locateJsonError, type JsonSyntaxError } from './json-error.js';
