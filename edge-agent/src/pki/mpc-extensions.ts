/**
 * The MPC extensions' ASN.1 (our own small classes; oids.ts has the OIDs). Decorators are applied
 * as plain calls because this repository compiles without `experimentalDecorators`.
 *
 *   MpcThreshold       ::= SEQUENCE { t INTEGER (1..255), n INTEGER (1..255) }
 *   MpcParticipants    ::= SEQUENCE OF OCTET STRING        -- peer ids, 32 bytes each
 *   MpcSigningTime     ::= SEQUENCE { signingTime GeneralizedTime }
 *   MpcSupportedProofs ::= SEQUENCE OF OBJECT IDENTIFIER   -- OID_PROOF_*
 */
import { AsnArray, AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, OctetString } from '@peculiar/asn1-schema';
import { Extension } from '@peculiar/asn1-x509';
import { bytesOf, equalBytes, toArrayBuffer, wholeSeconds } from './der.js';
import { PkiError, argument } from './errors.js';
import { OID_MPC_PARTICIPANTS, OID_MPC_PROOFS, OID_MPC_SIGNING_TIME, OID_MPC_THRESHOLD, OID_PROOF_KEY_POSSESSION, OID_PROOF_MEMBERSHIP } from './oids.js';

export class MpcThreshold {
  t = 0;
  n = 0;
}
AsnType({ type: AsnTypeTypes.Sequence })(MpcThreshold);
AsnProp({ type: AsnPropTypes.Integer })(MpcThreshold.prototype, 't');
AsnProp({ type: AsnPropTypes.Integer })(MpcThreshold.prototype, 'n');

export class MpcParticipants extends AsnArray<OctetString> {}
AsnType({ type: AsnTypeTypes.Sequence, itemType: OctetString })(MpcParticipants);

export class MpcSigningTime {
  signingTime = new Date(0);
}
AsnType({ type: AsnTypeTypes.Sequence })(MpcSigningTime);
AsnProp({ type: AsnPropTypes.GeneralizedTime })(MpcSigningTime.prototype, 'signingTime');

export class MpcSupportedProofs extends AsnArray<string> {}
AsnType({ type: AsnTypeTypes.Sequence, itemType: AsnPropTypes.ObjectIdentifier })(MpcSupportedProofs);

export type SupportedProof = 'keyPossession' | 'membership';
const PROOF_OIDS: Record<SupportedProof, string> = { keyPossession: OID_PROOF_KEY_POSSESSION, membership: OID_PROOF_MEMBERSHIP };

/** What the CA certificate says about the committee that signs with it. */
export interface MpcInfo {
  readonly threshold: number;
  readonly participants: readonly Uint8Array[];
  /** When the committee agreed to sign this certificate (whole seconds). */
  readonly signingTime: Date;
  readonly proofs: readonly SupportedProof[];
}

export const MAX_PARTICIPANTS = 255;
export const PEER_ID_BYTES = 32;

export function checkMpcInfo(info: MpcInfo): void {
  if (typeof info !== 'object' || info === null) argument('mpc info must be an object');
  const n = Array.isArray(info.participants) ? info.participants.length : -1;
  if (n < 1 || n > MAX_PARTICIPANTS) argument('mpc participants must be 1 to 255 peer ids');
  for (const p of info.participants) if (!(p instanceof Uint8Array) || p.length !== PEER_ID_BYTES) argument('each participant must be a 32-byte peer id');
  if (!Number.isInteger(info.threshold) || info.threshold < 1 || info.threshold > n) argument('mpc threshold must be an integer in [1, participants]');
  if (!(info.signingTime instanceof Date)) argument('mpc signingTime must be a Date');
  if (new Set(info.participants.map((p) => Buffer.from(p).toString('hex'))).size !== n) argument('mpc participants must be distinct');
  if (!Array.isArray(info.proofs) || info.proofs.some((p) => typeof p !== 'string' || !Object.hasOwn(PROOF_OIDS, p))) argument('mpc proofs must be keyPossession / membership');
  if (new Set(info.proofs).size !== info.proofs.length) argument('mpc proofs must not repeat');
}

function ext(extnID: string, value: unknown): Extension {
  return new Extension({ extnID, critical: false, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

/** The four non-critical extensions, in OID order. */
export function mpcExtensions(info: MpcInfo): Extension[] {
  checkMpcInfo(info);
  const th = new MpcThreshold();
  th.t = info.threshold;
  th.n = info.participants.length;
  const time = new MpcSigningTime();
  time.signingTime = wholeSeconds(info.signingTime, 'mpc signingTime');
  return [
    ext(OID_MPC_THRESHOLD, th),
    ext(OID_MPC_PARTICIPANTS, new MpcParticipants(info.participants.map((p) => new OctetString(toArrayBuffer(p))))),
    ext(OID_MPC_SIGNING_TIME, time),
    ext(OID_MPC_PROOFS, new MpcSupportedProofs(info.proofs.map((p) => PROOF_OIDS[p]))),
  ];
}

/** Parses DER strictly: whatever parses must re-encode to the same bytes (DER has one encoding). */
function parseStrict<T>(der: Uint8Array, cls: new () => T, what: string): T {
  let v: T;
  try {
    v = AsnConvert.parse(der, cls);
  } catch (err) {
    throw new PkiError('MALFORMED', `${what} does not parse`, { cause: err });
  }
  if (!equalBytes(bytesOf(AsnConvert.serialize(v)), der)) throw new PkiError('MALFORMED', `${what} is not DER`);
  return v;
}

/**
 * Reads the MPC extensions back from a certificate's extension list (as parsed by asn1-x509);
 * undefined when the certificate has none of them, MALFORMED when some are missing or broken.
 */
export function readMpcExtensions(extensions: readonly Extension[]): MpcInfo | undefined {
  const find = (oid: string) => extensions.find((e) => e.extnID === oid);
  const raw = [OID_MPC_THRESHOLD, OID_MPC_PARTICIPANTS, OID_MPC_SIGNING_TIME, OID_MPC_PROOFS].map(find);
  if (raw.every((e) => e === undefined)) return undefined;
  if (raw.some((e) => e === undefined)) throw new PkiError('MALFORMED', 'a certificate carries only some of the MPC extensions');
  const [thE, partE, timeE, proofE] = raw.map((e) => bytesOf(e!.extnValue.buffer)) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  const th = parseStrict(thE, MpcThreshold, 'MpcThreshold');
  const participants = [...parseStrict(partE, MpcParticipants, 'MpcParticipants')].map((o) => bytesOf(o.buffer));
  const signingTime = parseStrict(timeE, MpcSigningTime, 'MpcSigningTime').signingTime;
  const byOid = new Map(Object.entries(PROOF_OIDS).map(([k, v]) => [v, k as SupportedProof]));
  const proofs = [...parseStrict(proofE, MpcSupportedProofs, 'MpcSupportedProofs')].map((o) => {
    const p = byOid.get(o);
    if (p === undefined) throw new PkiError('MALFORMED', `unknown proof kind ${o}`);
    return p;
  });
  if (th.n !== participants.length) throw new PkiError('MALFORMED', 'MpcThreshold n differs from the participant count');
  const info = { threshold: th.t, participants, signingTime, proofs };
  try {
    checkMpcInfo(info);
  } catch (err) {
    throw new PkiError('MALFORMED', `the MPC extensions are out of range (${(err as Error).message})`, { cause: err });
  }
  return info;
}
