/**
 * The committee's CA as a replicated state machine (consensus/StateMachine). PBFT orders the
 * operations; every member executes them in the same order and so holds the same registry of
 * requests, serials, certificates and revocations, and derives the same TBS bytes to sign.
 *
 * Determinism: execute() uses only the op bytes, the state, and the constructor options. Time
 * is the op's `time` (the proposer's clock): members check it against their own clock before
 * they accept the request into PBFT (enroll.ts: checkProposedTime); here it is only made
 * monotonic (effective time = max(op time, last time)) and refused when it lags the last time by
 * more than maxTimeLagMs. The inventory predicate must be a pure function of its arguments and
 * of fleet data that is itself replicated (a signed, provisioned manifest): a predicate that
 * reads a local file that can differ between boards would fork the replicas.
 */
import { createHash } from 'node:crypto';
import type { StateMachine } from '../consensus/index.js';
import { assembleCertificate, buildLeafTbs, parseCertificate } from './certificate.js';
import { buildCrlTbs } from './crl.js';
import { decodeCaSnapshot, encodeCaSnapshot, type CertRecord } from './ca-snapshot.js';
import { parseCsr, type ParsedCsr } from './csr.js';
import { encodeCaResult, parseCaOp, type CaOp, type CaRejection, type CaResult, type CrlEntryTuple } from './ca-ops.js';
import { equalBytes } from './der.js';
import { PkiError, argument } from './errors.js';
import { peerDnsName, peerUri } from './extensions.js';
import type { SubjectKey } from './keys.js';
import { checkDn, type DistinguishedName } from './name.js';
import { verifyEd25519 } from './signer.js';

/** Is this board (peer id) in the fleet with this key? Must be deterministic at every replica. */
export type InventoryPredicate = (peerId: Uint8Array, subjectKey: SubjectKey, csr: ParsedCsr) => boolean;

export interface CaStateOptions {
  /** The CA certificate's subject (the leaves' issuer). */
  readonly issuer: DistinguishedName;
  /** The committee's Ed25519 group key, raw 32 bytes. */
  readonly caPublicKey: Uint8Array;
  readonly inventory: InventoryPredicate;
  /** Leaf lifetime; default 30 days. */
  readonly leafLifetimeMs?: number;
  /** notBefore = time − backdate, so verifiers whose clocks lag a little accept a fresh certificate; default 5 min. */
  readonly backdateMs?: number;
  /** How far an op's time may lag the last executed op's time; default 10 min. */
  readonly maxTimeLagMs?: number;
  /** CRL validity (nextUpdate − thisUpdate); default 7 days. */
  readonly crlLifetimeMs?: number;
  /** Organization written in leaf subjects; default the issuer's. */
  readonly organization?: string;
}


const DAY = 86_400_000;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const keyTag = (k: SubjectKey) => `${k.kind}:${hex(k.raw)}`;

function positiveMs(v: number | undefined, dflt: number, what: string): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < 0) argument(`${what} must be a non-negative integer of milliseconds`);
  return v;
}

function reject(error: CaRejection, reason: string): CaResult {
  return { ok: false, error, reason };
}

export class CaStateMachine implements StateMachine {
  private readonly issuer: DistinguishedName;
  private readonly caPublicKey: Uint8Array;
  private readonly inventory: InventoryPredicate;
  private readonly leafLifetimeMs: number;
  private readonly backdateMs: number;
  private readonly maxTimeLagMs: number;
  private readonly crlLifetimeMs: number;
  private readonly organization: string | undefined;

  private nextSerial = 2; // 1 is the CA certificate's
  private lastTime = 0;
  private crlNumber = 0;
  private readonly requests = new Map<string, number>();
  private readonly certs = new Map<number, CertRecord>();
  private readonly revokedKeys = new Set<string>();

  constructor(o: CaStateOptions) {
    if (typeof o !== 'object' || o === null) argument('CaStateMachine options must be an object');
    checkDn(o.issuer);
    if (!(o.caPublicKey instanceof Uint8Array) || o.caPublicKey.length !== 32) argument('caPublicKey must be a raw 32-byte Ed25519 key');
    if (typeof o.inventory !== 'function') argument('inventory must be a function (peerId, key, csr) => boolean');
    this.issuer = o.issuer;
    this.caPublicKey = new Uint8Array(o.caPublicKey);
    this.inventory = o.inventory;
    this.leafLifetimeMs = positiveMs(o.leafLifetimeMs, 30 * DAY, 'leafLifetimeMs') || argument('leafLifetimeMs must be positive');
    this.backdateMs = positiveMs(o.backdateMs, 5 * 60_000, 'backdateMs');
    this.maxTimeLagMs = positiveMs(o.maxTimeLagMs, 10 * 60_000, 'maxTimeLagMs');
    this.crlLifetimeMs = positiveMs(o.crlLifetimeMs, 7 * DAY, 'crlLifetimeMs') || argument('crlLifetimeMs must be positive');
    this.organization = o.organization ?? o.issuer.organization;
  }

  execute(op: Uint8Array): Uint8Array {
    const o = parseCaOp(op);
    if (o === undefined) return encodeCaResult(reject('malformed', 'not a well-formed CA operation'));
    try {
      return encodeCaResult(this.apply(o));
    } catch (err) {
      // Only a bug gets here; every replica hits the same one, so a fixed result keeps them agreeing.
      return encodeCaResult(reject('malformed', `operation failed: ${err instanceof PkiError ? err.code : 'internal'}`));
    }
  }

  private apply(o: CaOp): CaResult {
    switch (o.op) {
      case 'enroll':
        return this.enroll(o);
      case 'issued':
        return this.issued(o);
      case 'revoke':
        return this.revoke(o);
      case 'crl':
        return this.crl(o);
    }
  }

  /** The effective time of an op, or undefined when it lags too far behind. Does not advance. */
  private timeOf(t: number): number | undefined {
    if (t + this.maxTimeLagMs < this.lastTime) return undefined;
    return Math.max(t, this.lastTime);
  }

  private enroll(o: Extract<CaOp, { op: 'enroll' }>): CaResult {
    const rid = hex(o.requestId);
    if (this.requests.has(rid)) return reject('duplicate-request', `request ${rid} was already executed (serial ${this.requests.get(rid)})`);
    const now = this.timeOf(o.time);
    if (now === undefined) return reject('stale-time', 'the request time lags the CA clock by more than maxTimeLagMs');
    let csr: ParsedCsr;
    try {
      csr = parseCsr(o.csr);
    } catch (err) {
      if (!(err instanceof PkiError)) throw err;
      if (err.code === 'BAD_SIGNATURE') return reject('bad-csr-signature', err.message);
      if (err.code === 'UNSUPPORTED_ALGORITHM') return reject('unsupported-algorithm', err.message);
      return reject('malformed-csr', err.message);
    }
    const uri = peerUri(o.peerId);
    const dns = peerDnsName(o.peerId);
    if (csr.requestedNames.uris.some((u) => u !== uri) || csr.requestedNames.dns.some((d) => d !== dns)) {
      return reject('name-mismatch', 'the CSR asks for names that are not this peer id');
    }
    if (this.revokedKeys.has(keyTag(csr.subjectKey))) return reject('revoked', 'this key has a revoked certificate and is not certified again');
    if (this.inventory(o.peerId, csr.subjectKey, csr) !== true) return reject('unknown-board', 'the inventory does not know this board with this key');
    const notBefore = Math.max(0, now - this.backdateMs);
    const notAfter = now + this.leafLifetimeMs;
    const serial = this.nextSerial;
    const record: CertRecord = { serial, peerId: new Uint8Array(o.peerId), key: csr.subjectKey, notBefore, notAfter, certificate: undefined, revoked: undefined };
    const tbs = this.tbsOf(record); // before any mutation: a throw here leaves the state untouched
    this.nextSerial++;
    this.lastTime = now;
    this.requests.set(rid, serial);
    this.certs.set(serial, record);
    return { ok: true, op: 'enroll', serial, notBefore, notAfter, tbs };
  }

  private issued(o: Extract<CaOp, { op: 'issued' }>): CaResult {
    const rec = this.certs.get(o.serial);
    if (rec === undefined) return reject('unknown-serial', `no enrollment has serial ${o.serial}`);
    if (rec.revoked !== undefined) return reject('revoked', `serial ${o.serial} is revoked`);
    let parsed;
    try {
      parsed = parseCertificate(o.certificate);
    } catch (err) {
      if (!(err instanceof PkiError)) throw err;
      return reject('certificate-mismatch', `not a certificate of this CA (${err.message})`);
    }
    if (!equalBytes(parsed.tbsDer, this.tbsOf(rec))) return reject('certificate-mismatch', 'the certificate does not carry the TBS this CA assigned to the serial');
    if (!verifyEd25519(this.caPublicKey, parsed.tbsDer, parsed.signature)) return reject('certificate-mismatch', 'the signature is not the committee key\'s');
    // Exactly our envelope around TBS and signature: one byte string per certificate.
    if (parsed.signature.length !== 64 || !equalBytes(o.certificate, assembleCertificate(parsed.tbsDer, parsed.signature).der)) {
      return reject('certificate-mismatch', 'the certificate is not in the canonical Ed25519 envelope');
    }
    if (rec.certificate !== undefined) {
      return equalBytes(rec.certificate, o.certificate) ? { ok: true, op: 'issued', serial: o.serial } : reject('already-issued', `serial ${o.serial} already has a certificate`);
    }
    rec.certificate = new Uint8Array(o.certificate);
    return { ok: true, op: 'issued', serial: o.serial };
  }

  private revoke(o: Extract<CaOp, { op: 'revoke' }>): CaResult {
    const rec = this.certs.get(o.serial);
    if (rec === undefined) return reject('unknown-serial', `no enrollment has serial ${o.serial}`);
    if (rec.revoked !== undefined) return reject('revoked', `serial ${o.serial} is already revoked`);
    const now = this.timeOf(o.time);
    if (now === undefined) return reject('stale-time', 'the request time lags the CA clock by more than maxTimeLagMs');
    if (now > rec.notAfter) return reject('expired', `serial ${o.serial} has expired; it needs no CRL entry`);
    this.lastTime = now;
    rec.revoked = { time: now, reason: o.reason };
    this.revokedKeys.add(keyTag(rec.key));
    return { ok: true, op: 'revoke', serial: o.serial };
  }

  private crl(o: Extract<CaOp, { op: 'crl' }>): CaResult {
    const now = this.timeOf(o.time);
    if (now === undefined) return reject('stale-time', 'the request time lags the CA clock by more than maxTimeLagMs');
    // Expired certificates leave the list (RFC 5280 §3.3 allows it once they are past notAfter).
    const revoked: CrlEntryTuple[] = this.revokedList().filter(([serial]) => this.certs.get(serial)!.notAfter >= now);
    const crlNumber = this.crlNumber + 1;
    const nextUpdate = now + this.crlLifetimeMs;
    const tbs = buildCrlTbs({
      issuer: this.issuer,
      issuerPublicKey: this.caPublicKey,
      thisUpdate: new Date(now),
      nextUpdate: new Date(nextUpdate),
      crlNumber,
      revoked: revoked.map(([serial, time, reason]) => ({ serial: BigInt(serial), revocationDate: new Date(time), reason })),
    });
    this.crlNumber = crlNumber;
    this.lastTime = now;
    return { ok: true, op: 'crl', crlNumber, thisUpdate: now, nextUpdate, revoked, tbs };
  }

  private tbsOf(rec: CertRecord): Uint8Array {
    const subject: DistinguishedName = this.organization === undefined ? { commonName: hex(rec.peerId) } : { commonName: hex(rec.peerId), organization: this.organization };
    return buildLeafTbs({
      issuer: this.issuer,
      issuerPublicKey: this.caPublicKey,
      subject,
      subjectKey: rec.key,
      peerId: rec.peerId,
      serial: BigInt(rec.serial),
      notBefore: new Date(rec.notBefore),
      notAfter: new Date(rec.notAfter),
    });
  }

  /** The TBS bytes assigned to a serial (for a member that joins after the enroll op). */
  tbsFor(serial: number): Uint8Array | undefined {
    const rec = this.certs.get(serial);
    return rec === undefined ? undefined : this.tbsOf(rec);
  }

  /** The recorded certificate of a serial, once an `issued` op stored it. */
  certificateOf(serial: number): Uint8Array | undefined {
    const c = this.certs.get(serial)?.certificate;
    return c === undefined ? undefined : new Uint8Array(c);
  }

  /** Every revocation, by serial: [serial, time, reason]. */
  revokedList(): CrlEntryTuple[] {
    return [...this.certs.values()]
      .filter((r) => r.revoked !== undefined)
      .sort((a, b) => a.serial - b.serial)
      .map((r) => [r.serial, r.revoked!.time, r.revoked!.reason] as const);
  }

  isRevoked(serial: number): boolean {
    return this.certs.get(serial)?.revoked !== undefined;
  }

  get size(): number {
    return this.certs.size;
  }

  snapshot(): Uint8Array {
    return encodeCaSnapshot({ nextSerial: this.nextSerial, lastTime: this.lastTime, crlNumber: this.crlNumber, requests: this.requests, certs: this.certs });
  }

  restore(snapshot: Uint8Array): void {
    const d = decodeCaSnapshot(snapshot); // checks everything before the live state changes
    this.nextSerial = d.nextSerial;
    this.lastTime = d.lastTime;
    this.crlNumber = d.crlNumber;
    this.requests.clear();
    this.certs.clear();
    this.revokedKeys.clear();
    for (const [k, v] of d.requests) this.requests.set(k, v);
    for (const [k, rec] of d.certs) {
      this.certs.set(k, rec);
      if (rec.revoked !== undefined) this.revokedKeys.add(keyTag(rec.key));
    }
  }

  digest(): Uint8Array {
    return new Uint8Array(createHash('sha256').update(this.snapshot()).digest());
  }
}
