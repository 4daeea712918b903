/**
 * Network addresses as they appear in the config: "host:port" for the listen
 * address and "<66-hex public key>@host:port" for bootstrap peers (the form
 * Lightning nodes use, since the transport is BOLT 8). The config keeps the
 * strings; the transport turns them into values with the parse functions here.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, SchemaError, type Schema } from '../schema/index.js';
import { ConfigError } from './errors.js';
import { checkedText, isHostName } from './fields.js';

export interface HostPort {
  /** A host name, an IPv4 address, or an IPv6 address without its brackets. */
  readonly host: string;
  readonly port: number;
}

export interface PeerAddress extends HostPort {
  /** 33-byte compressed secp256k1 public key. */
  readonly publicKey: Uint8Array;
}

const PORT = /^(?:0|[1-9][0-9]{0,4})$/;
const PUBLIC_KEY = /^0[23][0-9a-fA-F]{64}$/;

/** The address, or the phrase saying what is wrong with it. */
function splitHostPort(s: string, minPort: number): HostPort | string {
  let host: string;
  let portText: string;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0 || s[end + 1] !== ':') return 'with "]:port" after the bracketed IPv6 address';
    host = s.slice(1, end);
    portText = s.slice(end + 2);
    if (!isIPv6(host)) return 'with a valid IPv6 address inside the brackets';
  } else {
    const colon = s.lastIndexOf(':');
    if (colon < 0) return 'with a ":port" at the end';
    host = s.slice(0, colon);
    portText = s.slice(colon + 1);
    if (host.includes(':')) return 'with an IPv6 host in brackets, e.g. "[::1]:7450"';
    if (!isIPv4(host) && !isHostName(host)) return 'with a host name or an IPv4 address as the host';
  }
  const port = Number(portText);
  if (!PORT.test(portText) || port < minPort || port > 65535) return `with a port from ${minPort} to 65535`;
  return { host, port };
}

/** Port 0 is allowed: listening on it asks the OS for a free port (tests, ad-hoc runs). */
function toHostPort(s: string): HostPort | string {
  return splitHostPort(s, 0);
}

/** Peers are dialled, so port 0 makes no sense there. */
function toPeerAddress(s: string): PeerAddress | string {
  const at = s.indexOf('@');
  const keyHex = at < 0 ? '' : s.slice(0, at);
  if (!PUBLIC_KEY.test(keyHex)) return 'with a 66-hex-digit compressed public key (02… or 03…) before the "@"';
  const publicKey = Uint8Array.from(Buffer.from(keyHex, 'hex'));
  if (!secp256k1.utils.isValidPublicKey(publicKey, true)) return 'whose public key is a point on secp256k1';
  const address = splitHostPort(s.slice(at + 1), 1);
  return typeof address === 'string' ? address : { publicKey, ...address };
}

const HOST_PORT = '"host:port"';
const PEER = '"<66-hex public key>@host:port"';

function problem(r: object | string): string | null {
  return typeof r === 'string' ? r : null;
}

/** Config fields keep the text; these only check it. */
export const hostPortText: Schema<string> = checkedText(HOST_PORT, (s) => problem(toHostPort(s)));
export const peerAddressText: Schema<string> = checkedText(PEER, (s) => problem(toPeerAddress(s)));

function parseAddress<T>(value: unknown, what: string, expected: string, convert: (s: string) => T | string): T {
  const r = typeof value === 'string' ? convert(value) : '';
  if (typeof r !== 'string') return r;
  const err = new SchemaError(what, r === '' ? expected : `${expected} ${r}`, describe(value));
  throw new ConfigError('INVALID', err.message, { cause: err });
}

/** Parses "host:port" (IPv6 hosts in brackets; port 0 to 65535). Throws ConfigError 'INVALID'. */
export function parseHostPort(s: unknown): HostPort {
  return Object.freeze(parseAddress(s, 'address', HOST_PORT, toHostPort));
}

/** Parses "<66-hex compressed public key>@host:port" (port 1 to 65535). Throws ConfigError 'INVALID'. */
export function parsePeerAddress(s: unknown): PeerAddress {
  return Object.freeze(parseAddress(s, 'peer address', PEER, toPeerAddress));
}
