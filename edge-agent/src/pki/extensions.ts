/**
 * The standard X.509 v3 extensions of our certificate profile (docs/pki.md). Critical flags follow
 * RFC 5280: basicConstraints and keyUsage critical, the rest non-critical.
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  BasicConstraints,
  ExtendedKeyUsage,
  Extension,
  GeneralName,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_clientAuth,
  id_kp_serverAuth,
} from '@peculiar/asn1-x509';
import { shortId, toHex } from '../identity/index.js';
import { toArrayBuffer } from './der.js';
import { argument } from './errors.js';

/** The URI scheme and DNS suffix that name a board in subjectAltName. */
export const PEER_URI_PREFIX = 'edge-agent:peer:';
export const FLEET_DNS_SUFFIX = 'fleet.local';

function extension(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

export function basicConstraintsExt(ca: boolean): Extension {
  return extension(id_ce_basicConstraints, true, ca ? new BasicConstraints({ cA: true, pathLenConstraint: 0 }) : new BasicConstraints({ cA: false }));
}

export function keyUsageExt(ca: boolean): Extension {
  const flags = ca ? KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign | KeyUsageFlags.digitalSignature : KeyUsageFlags.digitalSignature;
  return extension(id_ce_keyUsage, true, new KeyUsage(flags));
}

export function extendedKeyUsageExt(): Extension {
  return extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage([id_kp_serverAuth, id_kp_clientAuth]));
}

export function subjectKeyIdExt(keyId: Uint8Array): Extension {
  return extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(toArrayBuffer(keyId)));
}

export function authorityKeyIdExt(keyId: Uint8Array): Extension {
  return extension(id_ce_authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(toArrayBuffer(keyId)) }));
}

/** The full peer id as a URI: the name authorization decisions should use. */
export function peerUri(peerId: Uint8Array): string {
  return `${PEER_URI_PREFIX}${toHex(peerId)}`;
}

/** A host name for TLS clients that check one: the short id (4 bytes, display-grade) under fleet.local. */
export function peerDnsName(peerId: Uint8Array): string {
  return `${shortId(peerId)}.${FLEET_DNS_SUFFIX}`;
}

export function peerAltNameExt(peerId: Uint8Array): Extension {
  if (!(peerId instanceof Uint8Array) || peerId.length !== 32) argument('a peer id must be 32 bytes');
  return extension(
    id_ce_subjectAltName,
    false,
    new SubjectAlternativeName([new GeneralName({ uniformResourceIdentifier: peerUri(peerId) }), new GeneralName({ dNSName: peerDnsName(peerId) })]),
  );
}
