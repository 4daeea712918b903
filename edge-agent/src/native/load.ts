/**
 * Finds and loads native-napi's addon, and says per capability which backend
 * is in use and why. Never throws for a missing or broken addon: the agent then
 * runs on its TypeScript fallbacks, and the reasons say so.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { NativeError } from './errors.js';
import { ADDON_FUNCTIONS, type Capability, type CapabilityStatus, type NativeAddon, type NativeLoad } from './types.js';

/** native-napi/edge_agent_native.node: three levels up from edge-agent/src/native/ and edge-agent/dist/native/ alike. */
export const DEFAULT_ADDON_PATH = fileURLToPath(new URL('../../../native-napi/edge_agent_native.node', import.meta.url));

const BUILD_HINT = 'run `node native-napi/build.mjs` (needs cargo)';

export interface LoadOptions {
  /** The .node file to load instead of the default. */
  readonly path?: string;
  /** The environment to read EDGE_AGENT_NATIVE from (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where PTP hardware clocks are looked for (default /dev). */
  readonly devDir?: string;
}

const CAPABILITIES: readonly Capability[] = ['ptp-timestamping', 'phc', 'sd-notify'];

function allFallback(reason: string): CapabilityStatus[] {
  return CAPABILITIES.map((capability) => ({ capability, backend: 'fallback', reason }));
}

function phcDevices(devDir: string): string[] {
  try {
    return readdirSync(devDir)
      .filter((n) => /^ptp\d+$/.test(n))
      .sort();
  } catch {
    return [];
  }
}

function isAddon(value: unknown): { ok: true; addon: NativeAddon } | { ok: false; missing: string[] } {
  if (typeof value !== 'object' || value === null) return { ok: false, missing: [...ADDON_FUNCTIONS] };
  const record = value as Record<string, unknown>;
  const missing = ADDON_FUNCTIONS.filter((name) => typeof record[name] !== 'function');
  return missing.length === 0 ? { ok: true, addon: value as NativeAddon } : { ok: false, missing };
}

function checkOptions(options: LoadOptions): void {
  if (typeof options !== 'object' || options === null) throw new NativeError('BAD_ARGUMENT', 'loadNative: options must be an object');
  if (options.path !== undefined && (typeof options.path !== 'string' || options.path === '')) {
    throw new NativeError('BAD_ARGUMENT', `loadNative: options.path must be a non-empty string, got ${JSON.stringify(options.path)}`);
  }
  if (options.env !== undefined && (typeof options.env !== 'object' || options.env === null)) {
    throw new NativeError('BAD_ARGUMENT', 'loadNative: options.env must be an object');
  }
  if (options.devDir !== undefined && (typeof options.devDir !== 'string' || options.devDir === '')) {
    throw new NativeError('BAD_ARGUMENT', 'loadNative: options.devDir must be a non-empty string');
  }
}

/** Loads without memoising the answer (Node's require cache still loads each file once). */
export function loadNativeUncached(options: LoadOptions = {}): NativeLoad {
  checkOptions(options);
  const env = options.env ?? process.env;
  const path = options.path ?? DEFAULT_ADDON_PATH;
  if ((env.EDGE_AGENT_NATIVE ?? '').toLowerCase() === 'off') {
    return { addon: null, path, capabilities: allFallback('EDGE_AGENT_NATIVE=off') };
  }
  if (process.platform !== 'linux') {
    return { addon: null, path, capabilities: allFallback(`the addon is Linux-only (platform ${process.platform})`) };
  }
  if (!existsSync(path)) {
    return { addon: null, path, capabilities: allFallback(`${path} not found; ${BUILD_HINT}`) };
  }
  let loaded: unknown;
  try {
    loaded = createRequire(import.meta.url)(path);
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { addon: null, path, capabilities: allFallback(`cannot load ${path}: ${message}`) };
  }
  const check = isAddon(loaded);
  if (!check.ok) {
    return { addon: null, path, capabilities: allFallback(`${path} lacks ${check.missing.join(', ')} (a stale build?); ${BUILD_HINT}`) };
  }
  const addon = check.addon;
  let version = 'unknown';
  try {
    version = addon.version();
  } catch {
    // A version() that throws is odd but not fatal: the functions were all there.
  }
  const devDir = options.devDir ?? '/dev';
  const phcs = phcDevices(devDir);
  const capabilities: CapabilityStatus[] = [
    { capability: 'ptp-timestamping', backend: 'native', reason: `SO_TIMESTAMPING on UDP sockets (edge_agent_native ${version})` },
    phcs.length > 0
      ? { capability: 'phc', backend: 'native', reason: `clock_adjtime on ${phcs.map((n) => `${devDir}/${n}`).join(', ')}` }
      : { capability: 'phc', backend: 'fallback', reason: `no PTP hardware clock (${devDir}/ptp*) on this machine` },
    { capability: 'sd-notify', backend: 'native', reason: `AF_UNIX datagram to $NOTIFY_SOCKET (edge_agent_native ${version})` },
  ];
  return { addon, path, capabilities };
}

let memo: NativeLoad | null = null;

/**
 * The addon and the capability report. Without options the answer is memoised
 * for the process (the default path and process.env are read once).
 */
export function loadNative(options?: LoadOptions): NativeLoad {
  if (options !== undefined) return loadNativeUncached(options);
  memo ??= loadNativeUncached();
  return memo;
}

/** The addon, or a NativeError 'UNAVAILABLE' naming why not (for callers that need it). */
export function requireNative(options?: LoadOptions): NativeAddon {
  const load = loadNative(options);
  if (load.addon !== null) return load.addon;
  const reason = load.capabilities[0]?.reason ?? 'unknown';
  throw new NativeError('UNAVAILABLE', `native addon unavailable: ${reason}`);
}

/** One line per capability, for logs: "ptp-timestamping: native (...)". */
export function describeCapabilities(load: NativeLoad): string[] {
  return load.capabilities.map((c) => `${c.capability}: ${c.backend} (${c.reason})`);
}
