/**
 * Addresses as the transport takes them: the strings of the config file, parsed by
 * the config room (one grammar for both), or objects already parsed.
 */
import { ConfigError, parseHostPort, parsePeerAddress, type HostPort, type PeerAddress } from '../config/index.js';
import { isValidPublicKey } from '../identity/index.js';
import { TransportError } from './errors.js';

/** The config room's parse, with its error turned into the transport's own. */
function fromConfig<T>(parse: (s: string) => T, value: string): T {
  try {
    return parse(value);
  } catch (err) {
    if (err instanceof ConfigError) throw new TransportError('BAD_ARGUMENT', err.message);
    throw err;
  }
}

/** Accepts "<66 hex>@host:port" or an already parsed address. */
export function peerAddress(value: unknown): PeerAddress {
  if (typeof value === 'string') return fromConfig(parsePeerAddress, value);
  const a = value as Partial<PeerAddress> | null;
  if (
    typeof a !== 'object' ||
    a === null ||
    !isValidPublicKey(a.publicKey) ||
    typeof a.host !== 'string' ||
    a.host.length === 0 ||
    typeof a.port !== 'number' ||
    !Number.isInteger(a.port) ||
    a.port < 1 ||
    a.port > 65535
  ) {
    throw new TransportError('BAD_ARGUMENT', 'A peer address is "<66-hex public key>@host:port" or { publicKey, host, port }.');
  }
  return { publicKey: Uint8Array.from(a.publicKey), host: a.host, port: a.port };
}

/** Accepts "host:port" (IPv6 in brackets) or an already parsed address; port 0 lets the system choose. */
export function hostPort(value: unknown): HostPort {
  if (typeof value === 'string') return fromConfig(parseHostPort, value);
  const a = value as Partial<HostPort> | null;
  if (typeof a !== 'object' || a === null || typeof a.host !== 'string' || !Number.isInteger(a.port) || (a.port as number) < 0 || (a.port as number) > 65535) {
    throw new TransportError('BAD_ARGUMENT', 'A listen address is "host:port" or { host, port }.');
  }
  return { host: a.host, port: a.port as number };
}
