/**
 * The CA state's snapshot codec: canonical CBOR of sorted lists, so equal states give equal
 * bytes (consensus/StateMachine.snapshot), and a strict decoder that checks every field and the
 * cross-references (a request points at a known serial, serials below nextSerial) before any of
 * it replaces the live state.
 *
 *   { v: 1, nextSerial, lastTime, crlNumber,
 *     requests: [[requestId bstr, serial], …] sorted by requestId,
 *     certs: [[serial, peerId, key, notBefore, notAfter, cert | null, revokedAt | null, reason | null], …] sorted by serial }
 */
import { ConsensusError } from '../consensus/index.js';
import { decodeCanonical, encodeCanonical } from '../wire/index.js';
import { isRevocationReason, type RevocationReason } from './crl.js';
import { subjectKeyFromRaw, type SubjectKey } from './keys.js';

export interface CertRecord {
  readonly serial: number;
  readonly peerId: Uint8Array;
  readonly key: SubjectKey;
  readonly notBefore: number;
  readonly notAfter: number;
  certificate: Uint8Array | undefined;
  revoked: { readonly time: number; readonly reason: RevocationReason } | undefined;
}

export interface CaStateData {
  readonly nextSerial: number;
  readonly lastTime: number;
  readonly crlNumber: number;
  /** requestId (hex) → serial. */
  readonly requests: ReadonlyMap<string, number>;
  readonly certs: ReadonlyMap<number, CertRecord>;
}

const SNAPSHOT_VERSION = 1;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export function encodeCaSnapshot(s: CaStateData): Uint8Array {
  const requests = [...s.requests.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([rid, serial]) => [Buffer.from(rid, 'hex'), serial]);
  const certs = [...s.certs.values()]
    .sort((a, b) => a.serial - b.serial)
    .map((r) => [r.serial, r.peerId, r.key.raw, r.notBefore, r.notAfter, r.certificate ?? null, r.revoked?.time ?? null, r.revoked?.reason ?? null]);
  return encodeCanonical({ v: SNAPSHOT_VERSION, nextSerial: s.nextSerial, lastTime: s.lastTime, crlNumber: s.crlNumber, requests, certs });
}

const bad: (why: string, cause?: unknown) => never = (why, cause) => {
  throw new ConsensusError('MALFORMED', `CA snapshot: ${why}`, cause === undefined ? undefined : { cause });
};
const int = (x: unknown, min: number): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= min;

function decodeCert(e: unknown, nextSerial: number): CertRecord {
  if (!Array.isArray(e) || e.length !== 8) bad('a certificate entry is malformed');
  const [serial, peerId, raw, notBefore, notAfter, cert, rTime, rReason] = e as unknown[];
  if (!int(serial, 2) || serial >= nextSerial) bad('a serial is out of range');
  if (!(peerId instanceof Uint8Array) || peerId.length !== 32 || !(raw instanceof Uint8Array)) bad('a peer id or key is malformed');
  if (!int(notBefore, 0) || !int(notAfter, 0) || notAfter <= notBefore) bad('a validity is malformed');
  if (cert !== null && !(cert instanceof Uint8Array)) bad('a certificate is malformed');
  if (!((rTime === null && rReason === null) || (int(rTime, 0) && isRevocationReason(rReason)))) bad('a revocation is malformed');
  let key: SubjectKey;
  try {
    key = subjectKeyFromRaw(raw);
  } catch (err) {
    bad('a subject key is invalid', err);
  }
  return {
    serial,
    peerId,
    key,
    notBefore,
    notAfter,
    certificate: cert === null ? undefined : (cert as Uint8Array),
    revoked: rTime === null ? undefined : { time: rTime as number, reason: rReason as RevocationReason },
  };
}

/** Throws ConsensusError('MALFORMED') for anything that is not a snapshot this codec wrote. */
export function decodeCaSnapshot(snapshot: Uint8Array): CaStateData {
  let v: unknown;
  try {
    v = decodeCanonical(snapshot, { maxBytes: 1 << 30, maxDepth: 3, maxItems: 1 << 22, maxStringBytes: 1 << 16 });
  } catch (err) {
    bad('does not decode', err);
  }
  const s = v as Record<string, unknown>;
  if (typeof s !== 'object' || s === null || Array.isArray(s) || s instanceof Uint8Array || Object.keys(s).length !== 6 || s['v'] !== SNAPSHOT_VERSION) bad('not a version 1 snapshot');
  const { nextSerial, lastTime, crlNumber } = s;
  if (!int(nextSerial, 2) || !int(lastTime, 0) || !int(crlNumber, 0)) bad('counters out of range');
  if (!Array.isArray(s['requests']) || !Array.isArray(s['certs'])) bad('requests and certs must be lists');
  const requests = new Map<string, number>();
  for (const e of s['requests'] as unknown[]) {
    if (!Array.isArray(e) || e.length !== 2 || !(e[0] instanceof Uint8Array) || e[0].length === 0 || e[0].length > 64 || !int(e[1], 2)) bad('a request entry is malformed');
    const [rid, serial] = e as [Uint8Array, number];
    if (requests.has(hex(rid))) bad('a request id appears twice');
    requests.set(hex(rid), serial);
  }
  const certs = new Map<number, CertRecord>();
  for (const e of s['certs'] as unknown[]) {
    const rec = decodeCert(e, nextSerial);
    if (certs.has(rec.serial)) bad('a serial appears twice');
    certs.set(rec.serial, rec);
  }
  for (const serial of requests.values()) if (!certs.has(serial)) bad('a request points at an unknown serial');
  return { nextSerial, lastTime, crlNumber, requests, certs };
}
