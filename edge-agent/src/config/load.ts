import { deepFreeze, SchemaError } from '../schema/index.js';
import { readSmallFile } from '../store/index.js';
import { ConfigError } from './errors.js';
import { locateJsonError } from './json-error.js';
import { configSchema, type AgentConfig } from './schema.js';

/** A config is a few hundred bytes; anything near this is a wrong path (a log, a device). */
const MAX_CONFIG_BYTES = 1 << 20;

/**
 * Validates a decoded config and applies defaults. `source` (usually the file
 * path) starts every error message so the operator knows which file to fix.
 */
export function parseConfig(value: unknown, source?: string): AgentConfig {
  if (source !== undefined && (typeof source !== 'string' || source === '')) {
    throw new ConfigError('BAD_ARGUMENT', 'parseConfig: source must be a non-empty string when given.');
  }
  try {
    return deepFreeze(configSchema.parse(value));
  } catch (err) {
    if (!(err instanceof SchemaError)) throw err;
    throw new ConfigError('INVALID', `${source === undefined ? '' : `${source}: `}${err.message}`, { cause: err });
  }
}

/** Every field at its default. */
export function defaultConfig(): AgentConfig {
  return parseConfig({});
}

/** The default config as pretty JSON: a starting point for a new node's file and for the docs. */
export function configTemplate(): string {
  return `${JSON.stringify(defaultConfig(), null, 2)}\n`;
}

/** Reads, decodes and validates a config file; every failure is a ConfigError whose message starts with `path`. */
export async function loadConfig(path: string): Promise<AgentConfig> {
  if (typeof path !== 'string' || path === '') {
    throw new ConfigError('BAD_ARGUMENT', 'loadConfig: path must be a non-empty string.');
  }
  const bytes = await readConfigBytes(path);
  let textValue: string;
  try {
    // fatal: a config with broken UTF-8 is damaged, not something to guess at. The BOM some editors add is dropped.
    textValue = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new ConfigError('BAD_JSON', `${path}: expected UTF-8 text, got bytes that are not valid UTF-8`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(textValue);
  } catch (err) {
    const at = locateJsonError(textValue);
    const detail = at
      ? ` at line ${at.line}, column ${at.column}: expected ${at.expected}, got ${at.got}`
      : ''; // JSON.parse and the locator disagree only on inputs we have not met; say what we know
    throw new ConfigError('BAD_JSON', `${path}: not valid JSON${detail}`, { cause: err });
  }
  return parseConfig(value, path);
}

async function readConfigBytes(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array | undefined;
  try {
    bytes = await readSmallFile(path, {
      maxBytes: MAX_CONFIG_BYTES,
      tooLarge: (size) => new ConfigError('TOO_LARGE', `${path}: expected at most ${MAX_CONFIG_BYTES} bytes, got ${size}`),
      inspect: (stat) => {
        if (stat.isFile()) return;
        const got = stat.isDirectory() ? 'a directory' : 'a device, socket or pipe';
        throw new ConfigError('UNREADABLE', `${path}: expected a regular file, got ${got}`);
      },
    });
  } catch (err) {
    throw err instanceof ConfigError ? err : fileError(path, err);
  }
  if (bytes === undefined) throw new ConfigError('NOT_FOUND', `${path}: no such file; expected the node's JSON config there`);
  return bytes;
}

function fileError(path: string, err: unknown): ConfigError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason = code ?? (err instanceof Error ? err.message : String(err));
  return new ConfigError('UNREADABLE', `${path}: the file cannot be read (${reason})`, { cause: err });
}
