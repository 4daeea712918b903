/** Distinguished names: the small subset this PKI writes (CN, O, OU as UTF8String, RFC 5280 §4.1.2.4). */
import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509';
import { argument } from './errors.js';
import { OID_COMMON_NAME, OID_ORGANIZATION, OID_ORGANIZATIONAL_UNIT } from './oids.js';

export interface DistinguishedName {
  readonly commonName: string;
  readonly organization?: string;
  readonly organizationalUnit?: string;
}

/** X.520 upper bound for CN / O / OU. */
const MAX_ATTR = 64;

function checkAttr(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ATTR || v.includes('\0')) argument(`${what} must be a string of 1 to 64 characters`);
  return v;
}

export function checkDn(dn: DistinguishedName): void {
  if (typeof dn !== 'object' || dn === null) argument('a distinguished name must be an object');
  checkAttr(dn.commonName, 'commonName');
  if (dn.organization !== undefined) checkAttr(dn.organization, 'organization');
  if (dn.organizationalUnit !== undefined) checkAttr(dn.organizationalUnit, 'organizationalUnit');
}

/** O, OU, CN in that order (most general first), one attribute per RDN. */
export function toName(dn: DistinguishedName): Name {
  checkDn(dn);
  const rdn = (type: string, value: string) => new RelativeDistinguishedName([new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) })]);
  const rdns: RelativeDistinguishedName[] = [];
  if (dn.organization !== undefined) rdns.push(rdn(OID_ORGANIZATION, dn.organization));
  if (dn.organizationalUnit !== undefined) rdns.push(rdn(OID_ORGANIZATIONAL_UNIT, dn.organizationalUnit));
  rdns.push(rdn(OID_COMMON_NAME, dn.commonName));
  return new Name(rdns);
}

/** A readable "type=value" list of any Name (for CSR subjects and logs); unknown types by OID. */
export function nameToStrings(name: Name): string[] {
  const short: Record<string, string> = { [OID_COMMON_NAME]: 'CN', [OID_ORGANIZATION]: 'O', [OID_ORGANIZATIONAL_UNIT]: 'OU' };
  const out: string[] = [];
  for (const rdn of name) for (const atv of rdn) out.push(`${short[atv.type] ?? atv.type}=${atv.value.toString()}`);
  return out;
}

/** The first CN of a Name, if any. */
export function commonNameOf(name: Name): string | undefined {
  for (const rdn of name) for (const atv of rdn) if (atv.type === OID_COMMON_NAME) return atv.value.toString();
  return undefined;
}
