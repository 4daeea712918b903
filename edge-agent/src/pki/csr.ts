/**
 * PKCS#10 certification requests (RFC 2986): a board asks for a certificate with one. parseCsr
 * checks it completely (structure, algorithm, self-signature) and throws only PkiError:
 * MALFORMED, UNSUPPORTED_ALGORITHM or BAD_SIGNATURE. createCsr makes one from a node:crypto key.
 */
import { sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Attributes, CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { Attribute, Extensions, SubjectAlternativeName, id_ce_subjectAltName, type Name } from '@peculiar/asn1-x509';
import { PARSE_OPTIONS, assertSingleTlv, bytesOf, derBitString, derSequence, ED25519_ALGORITHM_DER, fromPem, toPem } from './der.js';
import { PkiError, argument } from './errors.js';
import { peerAltNameExt } from './extensions.js';
import { publicKeyObject, spkiOf, subjectKeyFromKeyObject, subjectKeyFromSpki, type SubjectKey } from './keys.js';
import { commonNameOf, nameToStrings, toName, type DistinguishedName } from './name.js';
import { OID_ECDSA_SHA256, OID_ED25519, OID_EXTENSION_REQUEST } from './oids.js';

/** Largest CSR accepted: ours are about 300 bytes; the limit keeps parsing cheap. */
export const MAX_CSR_BYTES = 4096;

/** AlgorithmIdentifier { ecdsa-with-SHA256 }, parameters absent (RFC 5758 §3.2). */
const ECDSA_SHA256_DER = Uint8Array.of(0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02);

export interface RequestedNames {
  readonly dns: readonly string[];
  readonly uris: readonly string[];
}

export interface ParsedCsr {
  /** The CSR's DER exactly as received (what the enrollment proof is bound to). */
  readonly der: Uint8Array;
  readonly subjectKey: SubjectKey;
  /** The subject as "type=value" strings, most general first. */
  readonly subject: readonly string[];
  readonly commonName: string | undefined;
  /** subjectAltName names from the extensionRequest attribute, if any. */
  readonly requestedNames: RequestedNames;
}

function malformed(message: string, cause?: unknown): never {
  throw new PkiError('MALFORMED', message, cause === undefined ? undefined : { cause });
}

function toDer(input: Uint8Array | string): Uint8Array {
  if (typeof input === 'string') return fromPem('CERTIFICATE REQUEST', input);
  if (!(input instanceof Uint8Array)) malformed('a CSR must be DER bytes or a PEM string');
  return input;
}

function requestedNames(attributes: Attributes): RequestedNames {
  const dns: string[] = [];
  const uris: string[] = [];
  for (const attr of attributes) {
    if (attr.type !== OID_EXTENSION_REQUEST) continue;
    if (attr.values.length !== 1) malformed('extensionRequest has exactly one value');
    const exts = AsnConvert.parse(attr.values[0]!, Extensions, PARSE_OPTIONS);
    for (const e of exts) {
      if (e.extnID !== id_ce_subjectAltName) continue;
      for (const gn of AsnConvert.parse(e.extnValue.buffer, SubjectAlternativeName, PARSE_OPTIONS)) {
        if (gn.dNSName !== undefined) dns.push(gn.dNSName);
        if (gn.uniformResourceIdentifier !== undefined) uris.push(gn.uniformResourceIdentifier);
      }
    }
  }
  return { dns, uris };
}

/** Parses and verifies a CSR (DER bytes or PEM text). */
export function parseCsr(input: Uint8Array | string): ParsedCsr {
  const der = toDer(input);
  if (der.length === 0 || der.length > MAX_CSR_BYTES) malformed(`a CSR must be 1 to ${MAX_CSR_BYTES} bytes`);
  assertSingleTlv(der, 'CSR');
  let csr: CertificationRequest;
  try {
    csr = AsnConvert.parse(der, CertificationRequest, PARSE_OPTIONS);
  } catch (err) {
    malformed('the CSR does not parse as PKCS#10', err);
  }
  const info = csr.certificationRequestInfo;
  const infoRaw = csr.certificationRequestInfoRaw;
  if (infoRaw === undefined || info === undefined) malformed('the CSR has no CertificationRequestInfo');
  if (info.version !== 0) malformed('a PKCS#10 CSR has version 0');
  let key: SubjectKey;
  try {
    key = subjectKeyFromSpki(info.subjectPKInfo);
  } catch (err) {
    if (err instanceof PkiError) throw err;
    malformed('the CSR subject key does not parse', err);
  }
  const alg = csr.signatureAlgorithm;
  if (alg.parameters !== undefined && alg.parameters !== null) throw new PkiError('UNSUPPORTED_ALGORITHM', 'signature algorithm parameters must be absent');
  const want = key.kind === 'ed25519' ? OID_ED25519 : OID_ECDSA_SHA256;
  if (alg.algorithm !== want) throw new PkiError('UNSUPPORTED_ALGORITHM', `a ${key.kind} key must sign its CSR with ${want}, not ${alg.algorithm}`);
  const sig = bytesOf(csr.signature);
  let ok: boolean;
  try {
    ok =
      key.kind === 'ed25519'
        ? sig.length === 64 && cryptoVerify(null, bytesOf(infoRaw), publicKeyObject(key), sig)
        : cryptoVerify('sha256', bytesOf(infoRaw), { key: publicKeyObject(key), dsaEncoding: 'der' }, sig);
  } catch {
    ok = false; // a signature OpenSSL cannot even decode is a bad signature
  }
  if (!ok) throw new PkiError('BAD_SIGNATURE', 'the CSR self-signature does not verify');
  let names: RequestedNames;
  let subject: string[];
  let cn: string | undefined;
  try {
    names = requestedNames(info.attributes);
    subject = nameToStrings(info.subject as Name);
    cn = commonNameOf(info.subject as Name);
  } catch (err) {
    if (err instanceof PkiError) throw err;
    malformed('the CSR attributes or subject do not parse', err);
  }
  return { der: new Uint8Array(der), subjectKey: key, subject, commonName: cn, requestedNames: names };
}

export interface CreateCsrOptions {
  /** Ed25519 or P-256 private key. */
  readonly privateKey: KeyObject;
  readonly subject: DistinguishedName;
  /** When given, the request asks for the peer's subjectAltName (URI and DNS forms). */
  readonly peerId?: Uint8Array;
}

/** Builds and signs a CSR; returns DER and PEM. */
export function createCsr(o: CreateCsrOptions): { der: Uint8Array; pem: string } {
  if (typeof o !== 'object' || o === null) argument('createCsr options must be an object');
  const pk = o.privateKey;
  if (typeof pk !== 'object' || pk === null || pk.type !== 'private') argument('privateKey must be a private KeyObject');
  const key = subjectKeyFromKeyObject(pk);
  const attributes = new Attributes();
  if (o.peerId !== undefined) {
    const exts = new Extensions([peerAltNameExt(o.peerId)]);
    attributes.push(new Attribute({ type: OID_EXTENSION_REQUEST, values: [AsnConvert.serialize(exts)] }));
  }
  const info = new CertificationRequestInfo({ version: 0, subject: toName(o.subject), subjectPKInfo: spkiOf(key), attributes });
  const infoDer = bytesOf(AsnConvert.serialize(info));
  const sig = key.kind === 'ed25519' ? cryptoSign(null, infoDer, pk) : cryptoSign('sha256', infoDer, { key: pk, dsaEncoding: 'der' });
  const der = derSequence(infoDer, key.kind === 'ed25519' ? ED25519_ALGORITHM_DER : ECDSA_SHA256_DER, derBitString(new Uint8Array(sig)));
  return { der, pem: toPem('CERTIFICATE REQUEST', der) };
}

