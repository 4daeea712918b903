/**
 * X.509 v3 certificates signed with the committee's Ed25519 key. The TBSCertificate is built by a
 * pure function of its inputs (buildCaTbs / buildLeafTbs), so every committee member derives the
 * same bytes from the same ordered operation and the threshold signature covers exactly them;
 * assembleCertificate wraps TBS and signature. issueCaCertificate / issueCertificate do both
 * through a Signer.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, Extension, Extensions, TBSCertificate, Validity, Version } from '@peculiar/asn1-x509';
import { PARSE_OPTIONS, assertSingleTlv, bytesOf, serialBytes, signedEnvelope, toArrayBuffer, toPem, wholeSeconds, x509Time } from './der.js';
import { PkiError, argument } from './errors.js';
import { authorityKeyIdExt, basicConstraintsExt, extendedKeyUsageExt, keyUsageExt, peerAltNameExt, subjectKeyIdExt } from './extensions.js';
import { keyIdentifier, spkiOf, subjectKeyFromRaw, type SubjectKey } from './keys.js';
import { mpcExtensions, type MpcInfo } from './mpc-extensions.js';
import { toName, type DistinguishedName } from './name.js';
import { OID_ED25519 } from './oids.js';
import { checkSigner, signChecked, type Signer } from './signer.js';

export interface IssuedDocument {
  readonly der: Uint8Array;
  readonly pem: string;
}

interface Common {
  readonly serial: bigint;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface CaTbsOptions extends Common {
  readonly subject: DistinguishedName;
  /** The committee's Ed25519 group key, raw 32 bytes. */
  readonly publicKey: Uint8Array;
  /** Threshold, participants, signing time, proofs: the non-critical MPC extensions. */
  readonly mpc?: MpcInfo;
}

export interface LeafTbsOptions extends Common {
  readonly issuer: DistinguishedName;
  /** The issuing CA's Ed25519 key (its key identifier becomes the AKI). */
  readonly issuerPublicKey: Uint8Array;
  readonly subject: DistinguishedName;
  /** Ed25519 raw 32 bytes or a P-256 point, or an already checked SubjectKey. */
  readonly subjectKey: Uint8Array | SubjectKey;
  /** The board's 32-byte peer id: named in subjectAltName. */
  readonly peerId: Uint8Array;
}

function validity(o: Common): Validity {
  const nb = wholeSeconds(o.notBefore, 'notBefore');
  const na = wholeSeconds(o.notAfter, 'notAfter');
  if (na.getTime() <= nb.getTime()) argument('notAfter must be after notBefore');
  const v = new Validity();
  v.notBefore = x509Time(nb);
  v.notAfter = x509Time(na);
  return v;
}

function tbs(o: Common, issuer: DistinguishedName, subject: DistinguishedName, key: SubjectKey, extensions: Extension[]): Uint8Array {
  const t = new TBSCertificate({
    version: Version.v3,
    serialNumber: toArrayBuffer(serialBytes(o.serial)),
    signature: new AlgorithmIdentifier({ algorithm: OID_ED25519 }),
    issuer: toName(issuer),
    validity: validity(o),
    subject: toName(subject),
    subjectPublicKeyInfo: spkiOf(key),
    extensions: new Extensions(extensions),
  });
  return bytesOf(AsnConvert.serialize(t));
}

function ed25519Key(raw: Uint8Array, what: string): SubjectKey {
  if (!(raw instanceof Uint8Array) || raw.length !== 32) argument(`${what} must be a raw 32-byte Ed25519 key`);
  return { kind: 'ed25519', raw };
}

/** The self-signed CA's TBSCertificate: cA, pathLen 0, keyCertSign | cRLSign | digitalSignature, SKI = AKI, MPC extensions. */
export function buildCaTbs(o: CaTbsOptions): Uint8Array {
  if (typeof o !== 'object' || o === null) argument('CA options must be an object');
  const key = ed25519Key(o.publicKey, 'publicKey');
  const kid = keyIdentifier(key);
  const exts = [basicConstraintsExt(true), keyUsageExt(true), subjectKeyIdExt(kid), authorityKeyIdExt(kid)];
  if (o.mpc !== undefined) exts.push(...mpcExtensions(o.mpc));
  return tbs(o, o.subject, o.subject, key, exts);
}

/** A board's TBSCertificate: not a CA, digitalSignature, serverAuth + clientAuth, SAN with its peer id. */
export function buildLeafTbs(o: LeafTbsOptions): Uint8Array {
  if (typeof o !== 'object' || o === null) argument('certificate options must be an object');
  const issuerKey = ed25519Key(o.issuerPublicKey, 'issuerPublicKey');
  const key = o.subjectKey instanceof Uint8Array ? subjectKeyFromRaw(o.subjectKey) : subjectKeyFromRaw(o.subjectKey?.raw);
  const exts = [
    basicConstraintsExt(false),
    keyUsageExt(false),
    extendedKeyUsageExt(),
    subjectKeyIdExt(keyIdentifier(key)),
    authorityKeyIdExt(keyIdentifier(issuerKey)),
    peerAltNameExt(o.peerId),
  ];
  return tbs(o, o.issuer, o.subject, key, exts);
}

/** Certificate ::= SEQUENCE { tbs, Ed25519, signature }, over the exact TBS bytes that were signed. */
export function assembleCertificate(tbsDer: Uint8Array, signature: Uint8Array): IssuedDocument {
  if (!(tbsDer instanceof Uint8Array) || tbsDer.length === 0) argument('tbsDer must be non-empty bytes');
  if (!(signature instanceof Uint8Array) || signature.length !== 64) argument('an Ed25519 signature is 64 bytes');
  const der = signedEnvelope(tbsDer, signature);
  return { der, pem: toPem('CERTIFICATE', der) };
}

/** Self-signed CA certificate, signed by the signer (the committee) over its own key. */
export async function issueCaCertificate(o: Omit<CaTbsOptions, 'publicKey'> & { readonly signer: Signer }): Promise<IssuedDocument> {
  checkSigner(o?.signer);
  const t = buildCaTbs({ ...o, publicKey: o.signer.publicKey });
  return assembleCertificate(t, await signChecked(o.signer, t));
}

/** A board's certificate, signed by the CA's signer. */
export async function issueCertificate(o: Omit<LeafTbsOptions, 'issuerPublicKey'> & { readonly signer: Signer }): Promise<IssuedDocument> {
  checkSigner(o?.signer);
  const t = buildLeafTbs({ ...o, issuerPublicKey: o.signer.publicKey });
  return assembleCertificate(t, await signChecked(o.signer, t));
}

/** The parts of a certificate the CA state machine and tests look at. */
export interface ParsedCertificate {
  readonly tbsDer: Uint8Array;
  readonly signature: Uint8Array;
  readonly certificate: Certificate;
}

/** Splits a DER certificate (strictly: it must be an Ed25519-signed certificate that parses). */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  if (!(der instanceof Uint8Array) || der.length === 0 || der.length > 64 * 1024) argument('a certificate must be 1 byte to 64 KiB of DER');
  assertSingleTlv(der, 'certificate');
  let cert: Certificate;
  try {
    cert = AsnConvert.parse(der, Certificate, PARSE_OPTIONS);
  } catch (err) {
    throw new PkiError('MALFORMED', 'the certificate does not parse', { cause: err });
  }
  if (cert.tbsCertificateRaw === undefined) throw new PkiError('MALFORMED', 'the certificate has no TBS bytes');
  if (cert.signatureAlgorithm.algorithm !== OID_ED25519) throw new PkiError('UNSUPPORTED_ALGORITHM', 'only Ed25519-signed certificates come from this CA');
  return { tbsDer: bytesOf(cert.tbsCertificateRaw), signature: bytesOf(cert.signatureValue), certificate: cert };
}
