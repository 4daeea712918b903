/**
 * CSRs: ours and OpenSSL's parse both ways; a malformed CSR, a wrong self-signature, an RSA key
 * and a mismatched algorithm are typed errors; fuzzed bytes never throw anything but PkiError.
 */
import test from 'ava';
import fc from 'fast-check';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PkiError, createCsr, parseCsr, peerDnsName, peerUri, subjectKeyFromKeyObject } from '../../src/pki/index.js';
import { derSequence } from '../../src/pki/der.js';
import { TempDir, ed25519Key, openssl, p256Key, peerIdOf, publicOf } from './fixtures.js';

const tmp = new TempDir();
test.after.always(() => tmp.remove());

const code = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (err) {
    return err instanceof PkiError ? err.code : `not a PkiError: ${String(err)}`;
  }
};

for (const kind of ['ed25519', 'p256'] as const) {
  test(`an ${kind} CSR round-trips and OpenSSL verifies its self-signature`, async (t) => {
    const key = kind === 'ed25519' ? ed25519Key('csr') : p256Key('csr');
    const peerId = peerIdOf('csr');
    const { der, pem } = createCsr({ privateKey: key, subject: { commonName: 'board-1', organization: 'edge-agent' }, peerId });
    for (const input of [der, pem]) {
      const csr = parseCsr(input);
      t.deepEqual(csr.subjectKey, subjectKeyFromKeyObject(publicOf(key)));
      t.deepEqual(csr.subject, ['O=edge-agent', 'CN=board-1']);
      t.is(csr.commonName, 'board-1');
      t.deepEqual(csr.requestedNames, { uris: [peerUri(peerId)], dns: [peerDnsName(peerId)] });
    }
    const r = await openssl(['req', '-in', tmp.write(`${kind}.csr`, pem), '-verify', '-noout']);
    t.is(r.code, 0, r.out);
  });
}

test('a CSR made by OpenSSL (P-256, ECDSA-SHA256) parses', async (t) => {
  const keyPath = tmp.write('p256.key', p256Key('openssl').export({ format: 'pem', type: 'pkcs8' }) as string);
  const out = `${tmp.path}/openssl.csr`;
  const r = await openssl(['req', '-new', '-key', keyPath, '-subj', '/O=edge-agent/CN=from-openssl', '-out', out]);
  t.is(r.code, 0, r.out);
  const csr = parseCsr(readFileSync(out, 'utf8'));
  t.is(csr.commonName, 'from-openssl');
  t.is(csr.subjectKey.kind, 'p256');
  t.deepEqual(csr.requestedNames, { uris: [], dns: [] });
});

test('malformed, bad signature and unsupported algorithm are typed', async (t) => {
  const { der } = createCsr({ privateKey: ed25519Key('bad'), subject: { commonName: 'x' } });
  t.is(code(() => parseCsr(new Uint8Array(0))), 'MALFORMED');
  t.is(code(() => parseCsr(der.subarray(0, der.length - 5))), 'MALFORMED');
  t.is(code(() => parseCsr('-----BEGIN CERTIFICATE REQUEST-----\n!!!\n-----END CERTIFICATE REQUEST-----\n')), 'MALFORMED');
  t.is(code(() => parseCsr(new Uint8Array(5000))), 'MALFORMED');
  t.is(code(() => parseCsr(Uint8Array.of(...der, 0, 0))), 'MALFORMED'); // trailing bytes
  const flipped = new Uint8Array(der);
  flipped[flipped.length - 1]! ^= 1;
  t.is(code(() => parseCsr(flipped)), 'BAD_SIGNATURE');
  // The signature of another key over the same info.
  const other = createCsr({ privateKey: ed25519Key('other'), subject: { commonName: 'x' } }).der;
  const swapped = new Uint8Array([...der.subarray(0, der.length - 64), ...other.subarray(other.length - 64)]);
  t.is(code(() => parseCsr(swapped)), 'BAD_SIGNATURE');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const rsaKey = tmp.write('rsa.key', rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
  const rsaCsr = `${tmp.path}/rsa.csr`;
  t.is((await openssl(['req', '-new', '-key', rsaKey, '-subj', '/CN=rsa', '-out', rsaCsr])).code, 0);
  t.is(code(() => parseCsr(readFileSync(rsaCsr, 'utf8'))), 'UNSUPPORTED_ALGORITHM');
  // An Ed25519 CSR that claims ecdsa-with-SHA256: the same info and signature, another algorithm.
  const head = der[1]! < 0x80 ? 2 : 2 + (der[1]! & 0x7f);
  const info = der.subarray(head, der.length - 7 - 67);
  const ecdsaAlg = Uint8Array.of(0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02);
  t.is(code(() => parseCsr(derSequence(info, ecdsaAlg, der.subarray(der.length - 67)))), 'UNSUPPORTED_ALGORITHM');
  t.is(code(() => parseCsr(derSequence(info, der.subarray(der.length - 74, der.length - 67), der.subarray(der.length - 67)))), undefined);
});

test('fuzz: random bytes and mutated CSRs throw only PkiError', (t) => {
  const base = createCsr({ privateKey: p256Key('fuzz'), subject: { commonName: 'fuzz' }, peerId: peerIdOf('fuzz') }).der;
  const typed = (bytes: Uint8Array) => {
    try {
      parseCsr(bytes);
      return true;
    } catch (err) {
      return err instanceof PkiError;
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), typed), { seed: 12, numRuns: 500 });
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(base.length), (muts, cut) => {
      const b = new Uint8Array(base);
      for (const [i, v] of muts) b[i] = v;
      return typed(b) && typed(b.subarray(0, cut));
    }),
    { seed: 13, numRuns: 800 },
  );
  t.pass();
});
