/**
 * The committee signs for real: a 3-of-5 FROST-Ed25519 key (dealer keys) over secure channels
 * on loopback, the coordinator as the PKI's Signer. The CA certificate (with the committee's
 * MPC extensions) and a board certificate it signs pass `openssl verify -x509_strict`.
 */
import test from 'ava';
import { MemoryNonceStore, SignerCore, SignerService, dealerKeys, withThresholdMessages } from '../../src/threshold/index.js';
import { Messenger } from '../../src/transport/index.js';
import { coreMessages } from '../../src/wire/index.js';
import { issueCaCertificate, issueCertificate, readMpcExtensions, subjectKeyFromKeyObject, thresholdSigner } from '../../src/pki/index.js';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { address, startManager, until } from '../transport/net-helpers.js';
import { CA_NAME, NOW, TempDir, YEAR, openssl, p256Key, peerIdOf, publicOf } from './fixtures.js';

const tmp = new TempDir();
test.after.always(() => tmp.remove());

test('a 3-of-5 committee issues a CA and a board certificate that OpenSSL verifies', async (t) => {
  const registry = withThresholdMessages(coreMessages);
  const { group, shares } = dealerKeys(3, 5);
  const started = await Promise.all(shares.map(() => startManager()));
  const roster = new Map(started.map((s, i) => [i + 1, s.manager.peerId] as const));
  const members = started.map((s, i) => {
    const messenger = new Messenger({ manager: s.manager, registry });
    const signer = new SignerCore({ group, share: shares[i]!, nonces: new MemoryNonceStore() });
    new SignerService({ messenger, signer, roster }).start();
    return { manager: s.manager, messenger, signer };
  });
  t.teardown(async () => {
    for (const m of members) m.messenger.close();
    await Promise.all(members.map((m) => m.manager.close()));
  });
  for (let i = 1; i < started.length; i++) await started[0]!.manager.dial(address(started[i]!.keys, started[i]!.port));
  await until(() => started[0]!.manager.channels().length === 4, 10_000, 'coordinator linked to all');

  const signer = thresholdSigner({ messenger: members[0]!.messenger, group, roster, available: [1, 2, 3, 4, 5], local: members[0]!.signer, timeoutMs: 5000 });
  const participants = [...roster.values()];
  const ca = await issueCaCertificate({
    signer,
    subject: CA_NAME,
    serial: 1n,
    notBefore: NOW,
    notAfter: new Date(NOW.getTime() + 10 * YEAR),
    mpc: { threshold: 3, participants, signingTime: NOW, proofs: ['keyPossession', 'membership'] },
  });
  const leaf = await issueCertificate({
    signer,
    issuer: CA_NAME,
    subject: { commonName: 'board' },
    subjectKey: subjectKeyFromKeyObject(publicOf(p256Key('threshold-board'))),
    peerId: peerIdOf('threshold-board'),
    serial: 2n,
    notBefore: NOW,
    notAfter: new Date(NOW.getTime() + YEAR),
  });
  const r = await openssl(['verify', '-x509_strict', '-attime', String(NOW.getTime() / 1000 + 60), '-CAfile', tmp.write('ca.pem', ca.pem), tmp.write('leaf.pem', leaf.pem)]);
  t.is(r.code, 0, r.out);
  const info = readMpcExtensions(AsnConvert.parse(ca.der, Certificate).tbsCertificate.extensions!)!;
  t.is(info.threshold, 3);
  t.is(info.participants.length, 5);
});
