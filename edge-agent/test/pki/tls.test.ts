/**
 * The certificates in a real TLS stack (Node's, i.e. OpenSSL's): a server with one board's leaf
 * and a client with another's, both trusting only the committee CA, complete a mutually
 * authenticated handshake; with the CA's CRL listing the client's serial, the server refuses
 * the client while an unrevoked client still gets in. Also `openssl crl -verify` on the CRL.
 */
import test from 'ava';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import type { KeyObject } from 'node:crypto';
import { issueCaCertificate, issueCertificate, issueCrl, localEd25519Signer, peerDnsName, subjectKeyFromKeyObject, type IssuedDocument } from '../../src/pki/index.js';
import { CA_NAME, TempDir, caSigner, ed25519Key, openssl, p256Key, peerIdOf, publicOf } from './fixtures.js';

const tmp = new TempDir();
test.after.always(() => tmp.remove());

// TLS checks validity against the real clock, so these certificates span it.
const now = Date.now();
const notBefore = new Date(now - 3_600_000);
const notAfter = new Date(now + 86_400_000);

interface Board {
  readonly key: KeyObject;
  readonly cert: IssuedDocument;
  readonly peerId: Uint8Array;
}

async function board(label: string, kind: 'ed25519' | 'p256', serial: bigint): Promise<Board> {
  const key = kind === 'ed25519' ? ed25519Key(label) : p256Key(label);
  const peerId = peerIdOf(label);
  const cert = await issueCertificate({ signer: caSigner(), issuer: CA_NAME, subject: { commonName: label }, subjectKey: subjectKeyFromKeyObject(publicOf(key)), peerId, serial, notBefore, notAfter });
  return { key, cert, peerId };
}

const pemKey = (k: KeyObject) => k.export({ format: 'pem', type: 'pkcs8' }) as string;

/** One handshake; resolves with what each side saw (never rejects). */
async function handshake(ca: string, server: Board, client: Board, crl?: string): Promise<{ ok: boolean; detail: string; peerSerial?: string }> {
  const srv = tls.createServer({ key: pemKey(server.key), cert: server.cert.pem, ca, requestCert: true, rejectUnauthorized: true, ...(crl === undefined ? {} : { crl }) }, (s) => {
    s.end('hello');
  });
  let serverError = '';
  srv.on('tlsClientError', (err) => {
    serverError = err.message;
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as AddressInfo;
  try {
    return await new Promise((resolve) => {
      const c = tls.connect({ host: '127.0.0.1', port, servername: peerDnsName(server.peerId), ca, key: pemKey(client.key), cert: client.cert.pem });
      let data = '';
      c.on('data', (d: Buffer) => (data += d.toString()));
      c.on('end', () => {
        const peerSerial = c.getPeerCertificate().serialNumber;
        resolve(data === 'hello' ? { ok: true, detail: 'ok', peerSerial } : { ok: false, detail: `no data; server: ${serverError}` });
      });
      c.on('error', (err) => resolve({ ok: false, detail: `${err.message}; server: ${serverError}` }));
    });
  } finally {
    srv.close();
  }
}

async function setup() {
  const ca = await issueCaCertificate({ signer: caSigner(), subject: CA_NAME, serial: 1n, notBefore, notAfter: new Date(now + 10 * 86_400_000) });
  const a = await board('tls-a', 'ed25519', 10n);
  const b = await board('tls-b', 'p256', 11n);
  const c = await board('tls-c', 'ed25519', 12n);
  const crl = await issueCrl({ signer: caSigner(), issuer: CA_NAME, thisUpdate: notBefore, nextUpdate: notAfter, crlNumber: 1, revoked: [{ serial: 11n, revocationDate: notBefore, reason: 1 }] });
  return { ca, a, b, c, crl };
}

test('mutual TLS between two boards succeeds with only the committee CA as trust anchor', async (t) => {
  const { ca, a, b } = await setup();
  const r1 = await handshake(ca.pem, a, b);
  t.true(r1.ok, r1.detail);
  t.is(r1.peerSerial, '0A');
  const r2 = await handshake(ca.pem, b, a);
  t.true(r2.ok, r2.detail);
});

test('a client without a CA-signed certificate is refused (the handshake test can fail)', async (t) => {
  const { ca, a } = await setup();
  const key = ed25519Key('rogue');
  const rogueCert = await issueCertificate({ signer: localEd25519Signer(ed25519Key('rogue-ca')), issuer: CA_NAME, subject: { commonName: 'rogue' }, subjectKey: subjectKeyFromKeyObject(publicOf(key)), peerId: peerIdOf('rogue'), serial: 10n, notBefore, notAfter });
  const r = await handshake(ca.pem, a, { key, cert: rogueCert, peerId: peerIdOf('rogue') });
  t.false(r.ok, r.detail);
});

test('the CRL verifies with openssl and makes the server refuse the revoked client only', async (t) => {
  const { ca, a, b, c, crl } = await setup();
  const caPath = tmp.write('ca.pem', ca.pem);
  const v = await openssl(['crl', '-in', tmp.write('crl.pem', crl.pem), '-CAfile', caPath, '-verify', '-noout']);
  t.is(v.code, 0, v.out);
  t.regex(v.out, /verify OK/);
  const revoked = await handshake(ca.pem, a, b, crl.pem);
  t.false(revoked.ok, revoked.detail);
  const fine = await handshake(ca.pem, a, c, crl.pem);
  t.true(fine.ok, fine.detail);
  // openssl verify with -crl_check agrees.
  const bPath = tmp.write('b.pem', b.cert.pem);
  const crlPath = tmp.write('crl2.pem', crl.pem);
  const rv = await openssl(['verify', '-x509_strict', '-crl_check', '-CAfile', caPath, '-CRLfile', crlPath, bPath]);
  t.not(rv.code, 0);
  t.regex(rv.out, /revoked/);
  const cv = await openssl(['verify', '-x509_strict', '-crl_check', '-CAfile', caPath, '-CRLfile', crlPath, tmp.write('c.pem', c.cert.pem)]);
  t.is(cv.code, 0, cv.out);
});
