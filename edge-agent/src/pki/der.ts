/** Small DER/PEM helpers shared by the builders and parsers: byte views, PEM armour, INTEGER and Time rules. */
import { Time } from '@peculiar/asn1-x509';
import { PkiError, argument } from './errors.js';

/** A fresh ArrayBuffer holding exactly these bytes (asn1-schema wants ArrayBuffers, not views). */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(bytes);
  return out;
}

export function bytesOf(buf: ArrayBuffer | ArrayBufferView): Uint8Array {
  return buf instanceof ArrayBuffer ? new Uint8Array(buf.slice(0)) : new Uint8Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** RFC 7468 armour, 64-character lines. */
export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

const MAX_PEM_CHARS = 1 << 20;

/**
 * The DER inside one PEM block with this label. Strict: exactly one block, base64 alphabet only
 * (whitespace between lines tolerated), so garbage is MALFORMED rather than silently skipped.
 */
export function fromPem(label: string, pem: string): Uint8Array {
  if (typeof pem !== 'string' || pem.length > MAX_PEM_CHARS) throw new PkiError('MALFORMED', `a PEM ${label} must be a string of at most 1 MiB`);
  const re = new RegExp(`^\\s*-----BEGIN ${label}-----\\r?\\n([A-Za-z0-9+/=\\r\\n]+)-----END ${label}-----\\s*$`);
  const m = re.exec(pem);
  if (m === null || m[1] === undefined) throw new PkiError('MALFORMED', `not a single PEM ${label} block`);
  const body = m[1].replace(/[\r\n]/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0 || body.length === 0) throw new PkiError('MALFORMED', `the PEM ${label} body is not base64`);
  return new Uint8Array(Buffer.from(body, 'base64'));
}

/**
 * A positive DER INTEGER's content bytes from a serial number: minimal, with a 0x00 prefix when
 * the top bit is set (RFC 5280 §4.1.2.2: positive, at most 20 octets).
 */
export function serialBytes(serial: bigint): Uint8Array {
  if (typeof serial !== 'bigint' || serial <= 0n) argument('a serial number must be a positive bigint');
  let hex = serial.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  if (hex.length > 40) argument('a serial number must fit in 20 octets');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** The serial number a DER INTEGER's content bytes encode (negative or zero refused). */
export function serialFromBytes(bytes: Uint8Array): bigint {
  if (bytes.length === 0 || bytes.length > 21) throw new PkiError('MALFORMED', 'a serial number has 1 to 21 content octets');
  if ((bytes[0]! & 0x80) !== 0) throw new PkiError('MALFORMED', 'a serial number must be positive');
  const v = BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
  if (v === 0n) throw new PkiError('MALFORMED', 'a serial number must be positive');
  return v;
}

/** Checks a Date (or epoch ms) and truncates it to whole seconds: X.509 times carry no fractions. */
export function wholeSeconds(t: Date | number, what: string): Date {
  const ms = t instanceof Date ? t.getTime() : t;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) argument(`${what} must be a valid Date or epoch milliseconds`);
  const d = new Date(Math.floor(ms / 1000) * 1000);
  const y = d.getUTCFullYear();
  if (y < 1950 || y > 9999) argument(`${what} must be in the years 1950 to 9999`);
  return d;
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050 on. */
export function x509Time(d: Date): Time {
  return d.getUTCFullYear() >= 2050 ? new Time({ generalTime: d }) : new Time({ utcTime: d });
}

/** Byte-wise equality (for DER strictness checks: re-encoding must give the same bytes). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

/** One DER TLV with a definite, minimal length. */
export function derTlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  let head: number[];
  if (n < 0x80) head = [tag, n];
  else {
    const lenBytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) lenBytes.unshift(v & 0xff);
    head = [tag, 0x80 | lenBytes.length, ...lenBytes];
  }
  const out = new Uint8Array(head.length + n);
  out.set(head, 0);
  out.set(content, head.length);
  return out;
}

export function derSequence(...parts: Uint8Array[]): Uint8Array {
  return derTlv(0x30, Buffer.concat(parts));
}

/** A BIT STRING of whole octets (0 unused bits): how signatures travel. */
export function derBitString(bytes: Uint8Array): Uint8Array {
  return derTlv(0x03, Buffer.concat([Uint8Array.of(0), bytes]));
}

/** AlgorithmIdentifier { id-Ed25519 } with absent parameters (RFC 8410 §3). */
export const ED25519_ALGORITHM_DER = Uint8Array.of(0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70);

/** Certificate / CertificateList ::= SEQUENCE { tbs, signatureAlgorithm, signatureValue }, around the exact signed bytes. */
export function signedEnvelope(tbsDer: Uint8Array, signature: Uint8Array): Uint8Array {
  return derSequence(tbsDer, ED25519_ALGORITHM_DER, derBitString(signature));
}

/** asn1js resource limits for untrusted DER (CSRs, certificates): small documents only. */
export const PARSE_OPTIONS = { berOptions: { maxDepth: 32, maxNodes: 4096, maxContentLength: 64 * 1024 } } as const;

/**
 * Checks that bytes are exactly one DER TLV (definite, minimal length, nothing after it).
 * asn1js parses the first element and ignores trailing bytes; we refuse them so each document
 * has one byte string (the enrollment proof is bound to it).
 */
export function assertSingleTlv(der: Uint8Array, what: string): void {
  const fail = (why: string): never => {
    throw new PkiError('MALFORMED', `${what}: ${why}`);
  };
  if (der.length < 2) fail('too short');
  const first = der[1]!;
  let len: number;
  let head: number;
  if (first < 0x80) {
    len = first;
    head = 2;
  } else {
    const n = first & 0x7f;
    if (n === 0 || n > 4) fail('indefinite or oversized length');
    if (der.length < 2 + n) fail('truncated length');
    if (der[2] === 0) fail('non-minimal length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[2 + i]!;
    if (len < 0x80) fail('non-minimal length');
    head = 2 + n;
  }
  if (head + len !== der.length) fail(head + len > der.length ? 'truncated' : 'trailing bytes after the document');
}
