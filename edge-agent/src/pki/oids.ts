/**
 * Object identifiers. Standard ones come from RFC 5280 / 8410 / 5480; the MPC extensions live
 * under one private arc, 1.3.6.1.4.1.<PEN>.1 (iso.org.dod.internet.private.enterprise). PEN is a
 * placeholder: 55555 is NOT registered to this project. A real deployment requests its own
 * Private Enterprise Number from IANA and changes PKI_PEN; nothing else depends on the value.
 * The extensions are non-critical, so clients that do not know them (OpenSSL, browsers, MQTT
 * brokers) ignore them (RFC 5280 §4.2).
 */

/** Placeholder IANA Private Enterprise Number (not registered; see docs/pki.md). */
export const PKI_PEN = 55555;
/** The arc every edge-agent PKI OID hangs from. */
export const PKI_ARC = `1.3.6.1.4.1.${PKI_PEN}.1`;

/** MPC extensions (non-critical, on the committee's CA certificate). */
export const OID_MPC_THRESHOLD = `${PKI_ARC}.1`; // MpcThreshold ::= SEQUENCE { t INTEGER, n INTEGER }
export const OID_MPC_PARTICIPANTS = `${PKI_ARC}.2`; // MpcParticipants ::= SEQUENCE OF OCTET STRING (peer ids)
export const OID_MPC_SIGNING_TIME = `${PKI_ARC}.3`; // MpcSigningTime ::= SEQUENCE { signingTime GeneralizedTime }
export const OID_MPC_PROOFS = `${PKI_ARC}.4`; // MpcSupportedProofs ::= SEQUENCE OF OBJECT IDENTIFIER
/** Proof kinds named in MpcSupportedProofs. */
export const OID_PROOF_KEY_POSSESSION = `${PKI_ARC}.10.1`;
export const OID_PROOF_MEMBERSHIP = `${PKI_ARC}.10.2`;

/** RFC 8410: Ed25519, parameters absent (in SPKI and in signatureAlgorithm). */
export const OID_ED25519 = '1.3.101.112';
/** RFC 5480: id-ecPublicKey with the namedCurve parameter prime256v1. */
export const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
export const OID_P256 = '1.2.840.10045.3.1.7';
/** RFC 5758: ecdsa-with-SHA256, parameters absent. */
export const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';

/** X.520 attribute types used in our Names. */
export const OID_COMMON_NAME = '2.5.4.3';
export const OID_ORGANIZATION = '2.5.4.10';
export const OID_ORGANIZATIONAL_UNIT = '2.5.4.11';

/** PKCS#9 extensionRequest: the CSR attribute carrying requested extensions (SAN). */
export const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
