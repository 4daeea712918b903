/**
 * The CA certificate and board certificates: OpenSSL verifies the chain with -x509_strict for
 * Ed25519 and P-256 leaves; the profile (extensions, criticality, SAN, MPC extensions) reads
 * back as written; bad input and a lying signer give typed errors.
 */
import test from 'ava';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Certificate, Extension } from '@peculiar/asn1-x509';
import {
  OID_MPC_PARTICIPANTS,
  OID_MPC_THRESHOLD,
  PkiError,
  buildLeafTbs,
  fromPem,
  issueCaCertificate,
  issueCertificate,
  localEd25519Signer,
  keyIdentifier,
  mpcExtensions,
  parseCertificate,
  readMpcExtensions,
  subjectKeyFromKeyObject,
  subjectKeyFromRaw,
  verifyEd25519,
  type Signer,
} from '../../src/pki/index.js';
import { CA_NAME, NOW, TempDir, YEAR, caSigner, ed25519Key, openssl, p256Key, peerIdOf, publicOf, rawEd25519 } from './fixtures.js';

const tmp = new TempDir();
test.after.always(() => tmp.remove());

const participants = [1, 2, 3, 4, 5].map((i) => peerIdOf(`member-${i}`));
const mpc = { threshold: 3, participants, signingTime: NOW, proofs: ['keyPossession', 'membership'] as const };

async function ca() {
  return issueCaCertificate({ signer: caSigner(), subject: CA_NAME, serial: 1n, notBefore: NOW, notAfter: new Date(NOW.getTime() + 10 * YEAR), mpc: { ...mpc, proofs: [...mpc.proofs] } });
}

async function leaf(kind: 'ed25519' | 'p256', label: string, serial = 0x1234n) {
  const key = kind === 'ed25519' ? ed25519Key(label) : p256Key(label);
  return issueCertificate({
    signer: caSigner(),
    issuer: CA_NAME,
    subject: { commonName: label, organization: 'edge-agent' },
    subjectKey: subjectKeyFromKeyObject(publicOf(key)),
    peerId: peerIdOf(label),
    serial,
    notBefore: NOW,
    notAfter: new Date(NOW.getTime() + YEAR),
  });
}

for (const kind of ['ed25519', 'p256'] as const) {
  test(`openssl verify -x509_strict accepts the CA and an ${kind} leaf`, async (t) => {
    const caPem = tmp.write(`ca-${kind}.pem`, (await ca()).pem);
    const leafPem = tmp.write(`${kind}.pem`, (await leaf(kind, `board-${kind}`, 0x80n)).pem);
    const r = await openssl(['verify', '-x509_strict', '-attime', String(NOW.getTime() / 1000 + 60), '-CAfile', caPem, leafPem]);
    t.is(r.code, 0, r.out);
    t.regex(r.out, /: OK/);
  });
}

test('openssl refuses a leaf signed by another key (the check can fail)', async (t) => {
  const caPem = tmp.write('ca-x.pem', (await ca()).pem);
  const other = await issueCertificate({
    signer: localEd25519Signer(ed25519Key('not-the-ca')),
    issuer: CA_NAME,
    subject: { commonName: 'x' },
    subjectKey: rawEd25519(ed25519Key('x')),
    peerId: peerIdOf('x'),
    serial: 9n,
    notBefore: NOW,
    notAfter: new Date(NOW.getTime() + YEAR),
  });
  const r = await openssl(['verify', '-x509_strict', '-attime', String(NOW.getTime() / 1000 + 60), '-CAfile', caPem, tmp.write('forged.pem', other.pem)]);
  t.not(r.code, 0);
});

test('the CA profile: cA with pathLen 0 and key usage critical, SKI = AKI, the MPC extensions non-critical and readable', async (t) => {
  const { der, pem } = await ca();
  t.deepEqual(fromPem('CERTIFICATE', pem), der);
  const cert = AsnConvert.parse(der, Certificate);
  const exts = cert.tbsCertificate.extensions!;
  const byId = new Map(exts.map((e) => [e.extnID, e]));
  t.true(byId.get('2.5.29.19')!.critical);
  t.true(byId.get('2.5.29.15')!.critical);
  t.false(byId.get(OID_MPC_THRESHOLD)!.critical);
  t.false(byId.get(OID_MPC_PARTICIPANTS)!.critical);
  t.deepEqual(new Uint8Array(byId.get('2.5.29.14')!.extnValue.buffer).subarray(2), keyIdentifier({ kind: 'ed25519', raw: caSigner().publicKey }));
  const info = readMpcExtensions(exts)!;
  t.is(info.threshold, 3);
  t.deepEqual(info.participants, participants);
  t.deepEqual(info.signingTime, NOW);
  t.deepEqual([...info.proofs], ['keyPossession', 'membership']);
  const text = await openssl(['x509', '-noout', '-text', '-in', tmp.write('ca-text.pem', pem)]);
  t.regex(text.out, /CA:TRUE, pathlen:0/);
  t.regex(text.out, /Certificate Sign, CRL Sign/);
  t.regex(text.out, /1\.3\.6\.1\.4\.1\.55555\.1\.1/);
  const parsed = parseCertificate(der);
  t.true(verifyEd25519(caSigner().publicKey, parsed.tbsDer, parsed.signature));
});

test('the leaf profile: SAN carries the peer id as URI and DNS name; serverAuth and clientAuth; no MPC extensions', async (t) => {
  const { pem, der } = await leaf('p256', 'board-7');
  const text = (await openssl(['x509', '-noout', '-text', '-in', tmp.write('leaf-text.pem', pem)])).out;
  const hex = Buffer.from(peerIdOf('board-7')).toString('hex');
  t.true(text.includes(`URI:edge-agent:peer:${hex}`));
  t.true(text.includes(`DNS:${hex.slice(0, 8)}.fleet.local`));
  t.regex(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
  t.regex(text, /CA:FALSE/);
  t.regex(text, /Serial Number: 4660/);
  t.is(readMpcExtensions(AsnConvert.parse(der, Certificate).tbsCertificate.extensions!), undefined);
});

test('serials are positive INTEGERs (a top-bit serial gets its 0x00), times switch to GeneralizedTime in 2050', async (t) => {
  const tbs = buildLeafTbs({
    issuer: CA_NAME,
    issuerPublicKey: caSigner().publicKey,
    subject: { commonName: 'late' },
    subjectKey: rawEd25519(ed25519Key('late')),
    peerId: peerIdOf('late'),
    serial: 0xffn,
    notBefore: new Date('2049-12-31T23:59:59.999Z'),
    notAfter: new Date('2050-01-01T00:00:00Z'),
  });
  const hex = Buffer.from(tbs).toString('hex');
  t.true(hex.includes('02020' + '0ff'), 'INTEGER 00 ff');
  t.true(hex.includes(Buffer.from('491231235959Z').toString('hex')), 'UTCTime, fraction dropped');
  t.true(hex.includes(Buffer.from('20500101000000Z').toString('hex')), 'GeneralizedTime');
});

test('compressed P-256 keys are expanded; bad keys and arguments are typed errors', async (t) => {
  const key = subjectKeyFromKeyObject(publicOf(p256Key('c')));
  const compressed = Uint8Array.of(2 + (key.raw[64]! & 1), ...key.raw.subarray(1, 33));
  t.deepEqual(subjectKeyFromRaw(compressed), key);
  const notOnCurve = Uint8Array.of(4, ...new Uint8Array(64).fill(1));
  t.is(t.throws(() => subjectKeyFromRaw(notOnCurve), { instanceOf: PkiError })!.code, 'ARGUMENT');
  t.is(t.throws(() => subjectKeyFromRaw(new Uint8Array(48)), { instanceOf: PkiError })!.code, 'UNSUPPORTED_ALGORITHM');
  const base = { issuer: CA_NAME, issuerPublicKey: caSigner().publicKey, subject: { commonName: 'b' }, subjectKey: rawEd25519(ed25519Key('b')), peerId: peerIdOf('b'), notBefore: NOW, notAfter: new Date(NOW.getTime() + YEAR) };
  t.is(t.throws(() => buildLeafTbs({ ...base, serial: 0n }), { instanceOf: PkiError })!.code, 'ARGUMENT');
  t.is(t.throws(() => buildLeafTbs({ ...base, serial: 1n << 160n }), { instanceOf: PkiError })!.code, 'ARGUMENT');
  t.is(t.throws(() => buildLeafTbs({ ...base, serial: 1n, notAfter: NOW }), { instanceOf: PkiError })!.code, 'ARGUMENT');
  t.is(t.throws(() => buildLeafTbs({ ...base, serial: 1n, peerId: new Uint8Array(31) }), { instanceOf: PkiError })!.code, 'ARGUMENT');
  t.is(t.throws(() => buildLeafTbs({ ...base, serial: 1n, subject: { commonName: '' } }), { instanceOf: PkiError })!.code, 'ARGUMENT');
});

test('a signer that returns a wrong signature or fails is refused with SIGNER', async (t) => {
  const good = caSigner();
  const liar: Signer = { publicKey: good.publicKey, sign: async () => new Uint8Array(64) };
  const broken: Signer = { publicKey: good.publicKey, sign: async () => Promise.reject(new Error('quorum lost')) };
  for (const signer of [liar, broken]) {
    const e = await t.throwsAsync(issueCaCertificate({ signer, subject: CA_NAME, serial: 1n, notBefore: NOW, notAfter: new Date(NOW.getTime() + YEAR) }), { instanceOf: PkiError });
    t.is(e!.code, 'SIGNER');
  }
});

test('MPC extensions: partial sets and non-DER values are MALFORMED; bad MPC info is ARGUMENT', (t) => {
  const exts = mpcExtensions({ ...mpc, proofs: ['keyPossession'] });
  t.is(t.throws(() => readMpcExtensions(exts.slice(1)), { instanceOf: PkiError })!.code, 'MALFORMED');
  const th = exts[0]!;
  // INTEGER 3 written in a non-minimal form (02 02 00 03): BER, not DER.
  const nonDer = new Extension({ extnID: th.extnID, critical: false, extnValue: new OctetString(Uint8Array.of(0x30, 0x07, 0x02, 0x02, 0x00, 0x03, 0x02, 0x01, 0x05).buffer) });
  t.is(t.throws(() => readMpcExtensions([nonDer, ...exts.slice(1)]), { instanceOf: PkiError })!.code, 'MALFORMED');
  t.is(t.throws(() => mpcExtensions({ ...mpc, proofs: [], threshold: 6 }), { instanceOf: PkiError })!.code, 'ARGUMENT');
  t.is(t.throws(() => mpcExtensions({ ...mpc, proofs: [], participants: [new Uint8Array(31)] }), { instanceOf: PkiError })!.code, 'ARGUMENT');
  t.is(t.throws(() => fromPem('CERTIFICATE', 'not pem'), { instanceOf: PkiError })!.code, 'MALFORMED');
});
