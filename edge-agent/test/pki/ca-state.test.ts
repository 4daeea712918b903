/**
 * The CA as a replicated state machine: the enroll → threshold sign → issued → revoke → crl
 * flow gives certificates and CRLs OpenSSL accepts; every refusal has its reason; execute()
 * never throws on garbage; snapshot/restore round-trips and equal op sequences give equal
 * digests (fast-check, seeded).
 */
import test from 'ava';
import fc from 'fast-check';
import type { KeyObject } from 'node:crypto';
import { ConsensusError } from '../../src/consensus/index.js';
import {
  CaStateMachine,
  PkiError,
  assembleCertificate,
  assembleCrl,
  createCsr,
  decodeCaResult,
  encodeCaOp,
  issueCaCertificate,
  sameKey,
  subjectKeyFromKeyObject,
  type CaOp,
  type CaRejection,
  type CaResult,
  type InventoryPredicate,
  type SubjectKey,
} from '../../src/pki/index.js';
import { CA_NAME, NOW, TempDir, YEAR, caSigner, ed25519Key, openssl, p256Key, peerIdOf, publicOf } from './fixtures.js';

const tmp = new TempDir();
test.after.always(() => tmp.remove());

const T0 = NOW.getTime();
const boards = ['b0', 'b1', 'b2', 'b3'].map((label, i) => {
  const key: KeyObject = i % 2 === 0 ? ed25519Key(label) : p256Key(label);
  return { label, key, peerId: peerIdOf(label), subjectKey: subjectKeyFromKeyObject(publicOf(key)) };
});
/** The fleet inventory: b0..b2 are provisioned; b3 is not. A pure function of its arguments. */
const inventory: InventoryPredicate = (peerId: Uint8Array, key: SubjectKey) =>
  boards.slice(0, 3).some((b) => Buffer.compare(b.peerId, peerId) === 0 && sameKey(b.subjectKey, key));

const machine = () => new CaStateMachine({ issuer: CA_NAME, caPublicKey: caSigner().publicKey, inventory });
const rid = (s: string) => new TextEncoder().encode(s);
const csrOf = (i: number) => createCsr({ privateKey: boards[i]!.key, subject: { commonName: boards[i]!.label }, peerId: boards[i]!.peerId }).der;
const enroll = (i: number, requestId: string, time = T0): CaOp => ({ op: 'enroll', requestId: rid(requestId), peerId: boards[i]!.peerId, csr: csrOf(i), time });
const run = (m: CaStateMachine, op: CaOp): CaResult => decodeCaResult(m.execute(encodeCaOp(op)));

function ok<K extends CaResult & { ok: true }>(t: { true(v: boolean, m?: string): void }, r: CaResult): K {
  t.true(r.ok, r.ok ? undefined : `${r.error}: ${r.reason}`);
  return r as K;
}

test('enroll → sign → issued → revoke → crl: certificates and CRL pass openssl', async (t) => {
  const m = machine();
  const signer = caSigner();
  const ca = await issueCaCertificate({ signer, subject: CA_NAME, serial: 1n, notBefore: new Date(T0 - YEAR), notAfter: new Date(T0 + 10 * YEAR) });
  const caPath = tmp.write('ca.pem', ca.pem);
  const serials: number[] = [];
  for (const i of [0, 1]) {
    const e = ok<Extract<CaResult, { op: 'enroll' }>>(t, run(m, enroll(i, `req-${i}`)));
    t.is(e.serial, 2 + i);
    t.is(e.notAfter - e.notBefore, 30 * 86_400_000 + 5 * 60_000);
    // A second replica, same ops: the same TBS, so threshold shares cover the same bytes.
    t.deepEqual(m.tbsFor(e.serial), e.tbs);
    const cert = assembleCertificate(e.tbs, await signer.sign(e.tbs));
    ok(t, run(m, { op: 'issued', serial: e.serial, certificate: cert.der }));
    t.deepEqual(m.certificateOf(e.serial), cert.der);
    const r = await openssl(['verify', '-x509_strict', '-attime', String(T0 / 1000), '-CAfile', caPath, tmp.write(`leaf-${i}.pem`, cert.pem)]);
    t.is(r.code, 0, r.out);
    serials.push(e.serial);
  }
  ok(t, run(m, { op: 'revoke', serial: serials[1]!, reason: 1, time: T0 + 1000 }));
  const crl = ok<Extract<CaResult, { op: 'crl' }>>(t, run(m, { op: 'crl', time: T0 + 2000 }));
  t.is(crl.crlNumber, 1);
  t.deepEqual(crl.revoked, [[serials[1]!, T0 + 1000, 1]]);
  const crlDoc = assembleCrl(crl.tbs, await signer.sign(crl.tbs));
  const v = await openssl(['crl', '-in', tmp.write('crl.pem', crlDoc.pem), '-CAfile', caPath, '-verify', '-noout']);
  t.is(v.code, 0, v.out);
  t.is(ok<Extract<CaResult, { op: 'crl' }>>(t, run(m, { op: 'crl', time: T0 + 3000 })).crlNumber, 2);
});

test('refusals carry a reason: duplicate request, unknown board, malformed CSR, bad CSR signature, names, revoked, expired, stale', async (t) => {
  const m = machine();
  const refused = (r: CaResult, error: CaRejection) => {
    t.false(r.ok);
    if (!r.ok) {
      t.is(r.error, error);
      t.true(r.reason.length > 0);
    }
  };
  const first = ok<Extract<CaResult, { op: 'enroll' }>>(t, run(m, enroll(0, 'dup')));
  refused(run(m, enroll(0, 'dup')), 'duplicate-request');
  refused(run(m, enroll(3, 'unknown')), 'unknown-board');
  // A provisioned peer id with another board's key is unknown too.
  refused(run(m, { ...enroll(1, 'swap'), peerId: boards[2]!.peerId, csr: createCsr({ privateKey: boards[1]!.key, subject: { commonName: 'x' } }).der } as CaOp), 'unknown-board');
  refused(run(m, { ...enroll(1, 'junk'), csr: Uint8Array.of(0x30, 0x03, 1, 2, 3) } as CaOp), 'malformed-csr');
  const bad = csrOf(1);
  bad[bad.length - 3]! ^= 0x40;
  const badSig = run(m, { ...enroll(1, 'badsig'), csr: bad } as CaOp);
  t.false(badSig.ok);
  if (!badSig.ok) t.true(['bad-csr-signature', 'malformed-csr'].includes(badSig.error), badSig.error);
  const edBad = csrOf(2);
  edBad[edBad.length - 1]! ^= 1;
  refused(run(m, { ...enroll(2, 'badsig-ed'), csr: edBad } as CaOp), 'bad-csr-signature');
  refused(run(m, { ...enroll(1, 'names'), peerId: boards[2]!.peerId } as CaOp), 'name-mismatch');
  refused(run(m, enroll(1, 'stale', T0 - 11 * 60_000)), 'stale-time');
  // Revocation: the key cannot enroll again; an issued op for the revoked serial is refused.
  ok(t, run(m, { op: 'revoke', serial: first.serial, reason: 1, time: T0 }));
  refused(run(m, { op: 'revoke', serial: first.serial, reason: 1, time: T0 }), 'revoked');
  refused(run(m, enroll(0, 'again')), 'revoked');
  const cert = assembleCertificate(first.tbs, await caSigner().sign(first.tbs));
  refused(run(m, { op: 'issued', serial: first.serial, certificate: cert.der }), 'revoked');
  refused(run(m, { op: 'revoke', serial: 99, reason: 0, time: T0 }), 'unknown-serial');
  const e2 = ok<Extract<CaResult, { op: 'enroll' }>>(t, run(m, enroll(2, 'late')));
  refused(run(m, { op: 'revoke', serial: e2.serial, reason: 4, time: e2.notAfter + 1 }), 'expired');
  // issued: wrong signer, wrong TBS, a second different certificate.
  const e3 = ok<Extract<CaResult, { op: 'enroll' }>>(t, run(m, enroll(1, 'issue', e2.notAfter + 1)));
  const forged = assembleCertificate(e3.tbs, new Uint8Array(64));
  refused(run(m, { op: 'issued', serial: e3.serial, certificate: forged.der }), 'certificate-mismatch');
  const otherTbs = assembleCertificate(e2.tbs, await caSigner().sign(e2.tbs));
  refused(run(m, { op: 'issued', serial: e3.serial, certificate: otherTbs.der }), 'certificate-mismatch');
  const good = assembleCertificate(e3.tbs, await caSigner().sign(e3.tbs));
  ok(t, run(m, { op: 'issued', serial: e3.serial, certificate: good.der }));
  ok(t, run(m, { op: 'issued', serial: e3.serial, certificate: good.der })); // idempotent
  refused(decodeCaResult(m.execute(new Uint8Array([0xa0]))), 'malformed');
});

test('encodeCaOp refuses ill-formed operations with ARGUMENT', (t) => {
  const bad: unknown[] = [
    { op: 'enroll', requestId: new Uint8Array(0), peerId: new Uint8Array(32), csr: new Uint8Array(1), time: 0 },
    { op: 'enroll', requestId: new Uint8Array(1), peerId: new Uint8Array(31), csr: new Uint8Array(1), time: 0 },
    { op: 'revoke', serial: 2, reason: 7, time: 0 },
    { op: 'crl', time: -1 },
    { op: 'issued', serial: 0, certificate: new Uint8Array(1) },
    { op: 'mint' },
  ];
  for (const op of bad) t.is(t.throws(() => encodeCaOp(op as CaOp), { instanceOf: PkiError })!.code, 'ARGUMENT');
});

// Op generators for the properties: enrollments of known / unknown boards, duplicates, revocations, CRLs, garbage.
const csrs = [0, 1, 2, 3].map(csrOf);
const opArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.record({ i: fc.integer({ min: 0, max: 3 }), r: fc.integer({ min: 0, max: 5 }), dt: fc.integer({ min: -700_000, max: 100_000 }) }).map(({ i, r, dt }) =>
    encodeCaOp({ op: 'enroll', requestId: rid(`r${r}`), peerId: boards[i]!.peerId, csr: csrs[i]!, time: T0 + dt }),
  ),
  fc.record({ s: fc.integer({ min: 1, max: 8 }), reason: fc.constantFrom(0 as const, 1 as const, 4 as const), dt: fc.integer({ min: 0, max: 100_000 }) }).map(({ s, reason, dt }) =>
    encodeCaOp({ op: 'revoke', serial: s, reason, time: T0 + dt }),
  ),
  fc.integer({ min: 0, max: 100_000 }).map((dt) => encodeCaOp({ op: 'crl', time: T0 + dt })),
  fc.uint8Array({ maxLength: 40 }),
);

test('determinism and snapshot/restore (fast-check): same ops, same digest; restore reproduces the state', (t) => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 12 }), fc.array(opArb, { maxLength: 4 }), (ops, more) => {
      const a = machine();
      const b = machine();
      const ra = ops.map((op) => a.execute(op));
      const rb = ops.map((op) => b.execute(op));
      if (!ra.every((r, i) => Buffer.compare(r, rb[i]!) === 0)) return false;
      if (Buffer.compare(a.digest(), b.digest()) !== 0) return false;
      // A replica restored from a's snapshot continues exactly like a.
      const c = machine();
      c.restore(a.snapshot());
      if (Buffer.compare(c.snapshot(), a.snapshot()) !== 0) return false;
      const xa = more.map((op) => a.execute(op));
      const xc = more.map((op) => c.execute(op));
      return xa.every((r, i) => Buffer.compare(r, xc[i]!) === 0) && Buffer.compare(a.digest(), c.digest()) === 0;
    }),
    { seed: 42, numRuns: 60 },
  );
  t.pass();
});

test('restore refuses what is not a snapshot; execute never throws on garbage', (t) => {
  const m = machine();
  for (const junk of [new Uint8Array(0), Uint8Array.of(0xa0), Uint8Array.of(0x80), new TextEncoder().encode('snapshot')]) {
    t.is(t.throws(() => m.restore(junk), { instanceOf: ConsensusError })!.code, 'MALFORMED');
  }
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const r = decodeCaResult(m.execute(bytes));
      return r.ok === false;
    }),
    { seed: 7, numRuns: 300 },
  );
  t.pass();
});
