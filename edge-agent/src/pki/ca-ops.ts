/**
 * The CA state machine's operations and results, as canonical CBOR maps (wire/). Clients encode
 * with encodeCaOp (which checks and throws PkiError('ARGUMENT')); replicas decode with
 * parseCaOp, which never throws and returns undefined for anything that is not exactly one op.
 *
 *   enroll { op, requestId: bstr 1..64, peerId: bstr 32, csr: bstr ≤ 4096, time: uint ms }
 *   issued { op, serial: uint, certificate: bstr ≤ 8192 }
 *   revoke { op, serial: uint, reason: uint (RFC 5280 CRLReason), time: uint ms }
 *   crl    { op, time: uint ms }
 */
import { decodeCanonical, encodeCanonical } from '../wire/index.js';
import { MAX_CSR_BYTES } from './csr.js';
import { isRevocationReason, type RevocationReason } from './crl.js';
import { PkiError, argument } from './errors.js';

export const MAX_REQUEST_ID_BYTES = 64;
export const MAX_CERTIFICATE_BYTES = 8192;
const MAX_OP_BYTES = MAX_CERTIFICATE_BYTES + 512;

export type CaOp =
  | { readonly op: 'enroll'; readonly requestId: Uint8Array; readonly peerId: Uint8Array; readonly csr: Uint8Array; readonly time: number }
  | { readonly op: 'issued'; readonly serial: number; readonly certificate: Uint8Array }
  | { readonly op: 'revoke'; readonly serial: number; readonly reason: RevocationReason; readonly time: number }
  | { readonly op: 'crl'; readonly time: number };

/** Why the CA refused an operation; stable strings, part of the replicated result. */
export type CaRejection =
  | 'malformed'
  | 'malformed-csr'
  | 'unsupported-algorithm'
  | 'bad-csr-signature'
  | 'name-mismatch'
  | 'unknown-board'
  | 'duplicate-request'
  | 'stale-time'
  | 'unknown-serial'
  | 'revoked'
  | 'expired'
  | 'already-issued'
  | 'certificate-mismatch';

export const CA_REJECTIONS: readonly CaRejection[] = [
  'malformed',
  'malformed-csr',
  'unsupported-algorithm',
  'bad-csr-signature',
  'name-mismatch',
  'unknown-board',
  'duplicate-request',
  'stale-time',
  'unknown-serial',
  'revoked',
  'expired',
  'already-issued',
  'certificate-mismatch',
];

/** One CRL entry as the state machine reports it: [serial, revocation time ms, reason]. */
export type CrlEntryTuple = readonly [number, number, RevocationReason];

export type CaResult =
  | { readonly ok: true; readonly op: 'enroll'; readonly serial: number; readonly notBefore: number; readonly notAfter: number; readonly tbs: Uint8Array }
  | { readonly ok: true; readonly op: 'issued'; readonly serial: number }
  | { readonly ok: true; readonly op: 'revoke'; readonly serial: number }
  | {
      readonly ok: true;
      readonly op: 'crl';
      readonly crlNumber: number;
      readonly thisUpdate: number;
      readonly nextUpdate: number;
      readonly revoked: readonly CrlEntryTuple[];
      readonly tbs: Uint8Array;
    }
  | { readonly ok: false; readonly error: CaRejection; readonly reason: string };

/** Times are epoch milliseconds up to the end of 9999, the last instant X.509 can write. */
export const MAX_TIME_MS = 253_402_300_799_000;
const isTime = (t: unknown): t is number => typeof t === 'number' && Number.isSafeInteger(t) && t >= 0 && t <= MAX_TIME_MS;
const isSerial = (s: unknown): s is number => typeof s === 'number' && Number.isSafeInteger(s) && s > 0;
const isBytes = (b: unknown, min: number, max: number): b is Uint8Array => b instanceof Uint8Array && b.length >= min && b.length <= max;

/** The op if `v` is exactly one well-formed operation (no extra keys), else undefined. */
function shapeOf(v: unknown): CaOp | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return undefined;
  const o = v as Record<string, unknown>;
  const n = Object.keys(o).length;
  switch (o['op']) {
    case 'enroll':
      return n === 5 && isBytes(o['requestId'], 1, MAX_REQUEST_ID_BYTES) && isBytes(o['peerId'], 32, 32) && isBytes(o['csr'], 1, MAX_CSR_BYTES) && isTime(o['time'])
        ? { op: 'enroll', requestId: o['requestId'], peerId: o['peerId'], csr: o['csr'], time: o['time'] }
        : undefined;
    case 'issued':
      return n === 3 && isSerial(o['serial']) && isBytes(o['certificate'], 1, MAX_CERTIFICATE_BYTES) ? { op: 'issued', serial: o['serial'], certificate: o['certificate'] } : undefined;
    case 'revoke':
      return n === 4 && isSerial(o['serial']) && isRevocationReason(o['reason']) && isTime(o['time']) ? { op: 'revoke', serial: o['serial'], reason: o['reason'], time: o['time'] } : undefined;
    case 'crl':
      return n === 2 && isTime(o['time']) ? { op: 'crl', time: o['time'] } : undefined;
    default:
      return undefined;
  }
}

/** Checks and encodes an operation (canonical CBOR). */
export function encodeCaOp(op: CaOp): Uint8Array {
  const o = shapeOf(op);
  if (o === undefined) argument('not a well-formed CA operation (see ca-ops.ts for the shapes and bounds)');
  return encodeCanonical(o);
}

/** The operation in these bytes, or undefined: never throws (replicas run it on client bytes). */
export function parseCaOp(bytes: Uint8Array): CaOp | undefined {
  if (!(bytes instanceof Uint8Array)) return undefined;
  try {
    return shapeOf(decodeCanonical(bytes, { maxBytes: MAX_OP_BYTES, maxDepth: 1, maxItems: 5, maxStringBytes: MAX_CERTIFICATE_BYTES }));
  } catch {
    return undefined;
  }
}

export function encodeCaResult(r: CaResult): Uint8Array {
  return encodeCanonical(r);
}

/** Decodes a replicated result (client side); MALFORMED if it is not one. */
export function decodeCaResult(bytes: Uint8Array): CaResult {
  let v: unknown;
  try {
    v = decodeCanonical(bytes, { maxBytes: 1 << 22, maxDepth: 3, maxItems: 1 << 16, maxStringBytes: 1 << 20 });
  } catch (err) {
    throw new PkiError('MALFORMED', 'not a CA result', { cause: err });
  }
  const r = v as Record<string, unknown>;
  if (typeof r !== 'object' || r === null || typeof r['ok'] !== 'boolean') throw new PkiError('MALFORMED', 'not a CA result');
  if (r['ok'] === false && !(CA_REJECTIONS as readonly unknown[]).includes(r['error'])) throw new PkiError('MALFORMED', 'unknown CA rejection');
  return r as unknown as CaResult;
}
