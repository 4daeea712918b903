/**
 * Certificate revocation lists (RFC 5280 §5), v2, signed by the committee's key like the
 * certificates. buildCrlTbs is a pure function, so every committee member derives the same
 * TBSCertList from the CA state's ordered `crl` operation; issueCrl signs it through a Signer.
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  CRLNumber,
  CRLReason,
  Extension,
  RevokedCertificate,
  TBSCertList,
  Version,
  id_ce_cRLNumber,
  id_ce_cRLReasons,
} from '@peculiar/asn1-x509';
import type { IssuedDocument } from './certificate.js';
import { bytesOf, serialBytes, signedEnvelope, toArrayBuffer, toPem, wholeSeconds, x509Time } from './der.js';
import { argument } from './errors.js';
import { authorityKeyIdExt } from './extensions.js';
import { keyIdentifier } from './keys.js';
import { toName, type DistinguishedName } from './name.js';
import { OID_ED25519 } from './oids.js';
import { checkSigner, signChecked, type Signer } from './signer.js';

/** RFC 5280 §5.3.1 CRLReason values (7 is unused; removeFromCRL only in delta CRLs, refused here). */
export const REVOCATION_REASONS = [0, 1, 2, 3, 4, 5, 6, 9, 10] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

export function isRevocationReason(r: unknown): r is RevocationReason {
  return typeof r === 'number' && (REVOCATION_REASONS as readonly number[]).includes(r);
}

export interface RevokedEntry {
  readonly serial: bigint;
  readonly revocationDate: Date;
  readonly reason: RevocationReason;
}

export interface CrlTbsOptions {
  readonly issuer: DistinguishedName;
  /** The CA's Ed25519 key, raw 32 bytes (its key identifier becomes the AKI). */
  readonly issuerPublicKey: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** Monotonically increasing per CA (RFC 5280 §5.2.3); a safe integer here. */
  readonly crlNumber: number;
  readonly revoked: readonly RevokedEntry[];
}

function entry(e: RevokedEntry): RevokedCertificate {
  if (typeof e !== 'object' || e === null || !isRevocationReason(e.reason)) argument('a revoked entry needs serial, revocationDate and a RFC 5280 reason');
  const r = new RevokedCertificate({ userCertificate: toArrayBuffer(serialBytes(e.serial)), revocationDate: x509Time(wholeSeconds(e.revocationDate, 'revocationDate')) });
  // reasonCode is left out for "unspecified" (RFC 5280 §5.3.1 SHOULD).
  if (e.reason !== 0) r.crlEntryExtensions = [new Extension({ extnID: id_ce_cRLReasons, critical: false, extnValue: new OctetString(AsnConvert.serialize(new CRLReason(e.reason))) })];
  return r;
}

export function buildCrlTbs(o: CrlTbsOptions): Uint8Array {
  if (typeof o !== 'object' || o === null) argument('CRL options must be an object');
  if (!(o.issuerPublicKey instanceof Uint8Array) || o.issuerPublicKey.length !== 32) argument('issuerPublicKey must be a raw 32-byte Ed25519 key');
  if (!Number.isSafeInteger(o.crlNumber) || o.crlNumber < 0) argument('crlNumber must be a non-negative safe integer');
  if (!Array.isArray(o.revoked)) argument('revoked must be an array');
  const thisUpdate = wholeSeconds(o.thisUpdate, 'thisUpdate');
  const nextUpdate = wholeSeconds(o.nextUpdate, 'nextUpdate');
  if (nextUpdate.getTime() <= thisUpdate.getTime()) argument('nextUpdate must be after thisUpdate');
  const serials = new Set(o.revoked.map((e) => e?.serial));
  if (serials.size !== o.revoked.length) argument('a serial appears twice in the revoked list');
  // Sorted by serial so the same set always gives the same bytes.
  const revoked = [...o.revoked].sort((a, b) => (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0)).map(entry);
  const t = new TBSCertList({
    version: Version.v2,
    signature: new AlgorithmIdentifier({ algorithm: OID_ED25519 }),
    issuer: toName(o.issuer),
    thisUpdate: x509Time(thisUpdate),
    nextUpdate: x509Time(nextUpdate),
    crlExtensions: [
      authorityKeyIdExt(keyIdentifier({ kind: 'ed25519', raw: o.issuerPublicKey })),
      new Extension({ extnID: id_ce_cRLNumber, critical: false, extnValue: new OctetString(AsnConvert.serialize(new CRLNumber(o.crlNumber))) }),
    ],
  });
  // RFC 5280 §5.1.2.6: with no revoked certificates the field is absent, not an empty list.
  if (revoked.length > 0) t.revokedCertificates = revoked;
  return bytesOf(AsnConvert.serialize(t));
}

/** CertificateList ::= SEQUENCE { tbsCertList, Ed25519, signature }. */
export function assembleCrl(tbsDer: Uint8Array, signature: Uint8Array): IssuedDocument {
  if (!(tbsDer instanceof Uint8Array) || tbsDer.length === 0) argument('tbsDer must be non-empty bytes');
  if (!(signature instanceof Uint8Array) || signature.length !== 64) argument('an Ed25519 signature is 64 bytes');
  const der = signedEnvelope(tbsDer, signature);
  return { der, pem: toPem('X509 CRL', der) };
}

export async function issueCrl(o: Omit<CrlTbsOptions, 'issuerPublicKey'> & { readonly signer: Signer }): Promise<IssuedDocument> {
  checkSigner(o?.signer);
  const t = buildCrlTbs({ ...o, issuerPublicKey: o.signer.publicKey });
  return assembleCrl(t, await signChecked(o.signer, t));
}
